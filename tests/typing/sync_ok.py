"""Typed user code of the blocking face: mypy --strict and pyright (strict) report no error.

It also runs (tests/test_typing.py runs it against an in-process fake Redis), so what it
type-checks is also what it does.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from pydantic import BaseModel, Field

from redis_pydantic.sync import (
    BaseRedisModel,
    RedisBool,
    RedisBytes,
    RedisDecimal,
    RedisDict,
    RedisFloat,
    RedisInt,
    RedisList,
    RedisStr,
    plain,
)
from redis_pydantic.testing import use_fake_redis


class Profile(BaseModel):
    bio: str = ""


class User(BaseRedisModel):
    name: RedisStr
    age: RedisInt = RedisInt(0)
    score: RedisFloat = RedisFloat(0.0)
    balance: RedisDecimal = RedisDecimal("0")
    active: RedisBool = RedisBool(True)
    blob: RedisBytes = RedisBytes(b"")
    tags: RedisList[str] = Field(default_factory=RedisList)
    meta: RedisDict[str, int] = Field(default_factory=RedisDict)
    profile: Profile = Field(default_factory=Profile)

    class Meta:
        key_prefix = "typed-sync-user"


class Counter(BaseRedisModel):
    count: int = 0

    class Meta:
        key_prefix = "typed-sync-counter"
        ttl = timedelta(hours=1)
        refresh_ttl = True


def many() -> None:
    counters = [Counter(count=i, pk=str(i)) for i in range(3)]
    saved: list[Counter] = Counter.save_many(counters, batch=2)
    read: list[Counter | None] = Counter.get_many(["0", "Counter:9"], missing="none")
    first = read[0]
    number: int = first.count if first is not None else -1
    total: int = Counter.count()
    keys: list[str] = [key for key in Counter.scan_keys()]
    seen: list[int] = [c.count for c in Counter.scan(batch=2, progress=print)]
    left: float | None = saved[0].ttl()
    saved[0].expire(timedelta(minutes=5))
    saved[0].persist()
    gone: int = Counter.delete_many(keys)
    assert (number, total, sorted(seen), left is not None, gone) == (0, 3, [0, 1, 2], True, 3)


def main() -> None:
    user = User(name="Ada", age=3, tags=["a"], pk="ada")
    user.save()
    user.name.set("Bob")
    age: int = user.age.aincrease(2)
    score: float = user.score.aincrease(1)
    balance: Decimal = user.balance.aincrease(Decimal("0.5"))
    user.tags.aappend("x")
    user.tags.aextend(["y", "z"])
    user.tags.ainsert(0, "first")
    item: str = user.tags.apop()
    user.meta.aset_item("k", 1)
    user.meta.aupdate({"j": 2}, i=3)
    value: int = user.meta.apop("k")
    fallback: int | None = user.meta.apop("missing", None)
    key, number = user.meta.apopitem()
    again: User = User.get(user.key)
    copies: list[User] = user.duplicate_many(2)
    one: User = user.duplicate()
    same: User = user.load()
    with user.lock() as locked:
        locked.age = locked.age + 1
        locked.name = "Cy"
        locked.tags = ["a"]
    with user.pipeline() as batch:
        batch.meta.aclear()
    shout: str = user.name + "!"
    if user.active:
        user.active.set(False)
    active: bool = plain(user.active)
    loaded: RedisInt = user.age.load()
    pk: str = user.pk
    assert (age, score, balance, item, value, fallback) == (5, 1.0, Decimal("0.5"), "z", 1, None)
    assert (key, number, again.name, same is user, one.key != user.key) == ("i", 3, "Bob", True, True)
    assert [copy.name for copy in copies] == ["Bob", "Bob"]
    assert (shout, active, loaded, pk, user.meta) == ("Cy!", False, 6, "ada", {})


if __name__ == "__main__":
    with use_fake_redis():
        main()
        many()
