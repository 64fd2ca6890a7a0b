"""Typed user code of the asyncio face: mypy --strict and pyright (strict) report no error.

It also runs (tests/test_typing.py runs it against an in-process fake Redis), so what it
type-checks is also what it does.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal

from pydantic import BaseModel, Field

from redis_pydantic import (
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
        key_prefix = "typed-user"


class Counter(BaseRedisModel):
    count: int = 0

    class Meta:
        key_prefix = "typed-async-counter"
        ttl = timedelta(hours=1)
        refresh_ttl = True


async def many() -> None:
    counters = [Counter(count=i, pk=str(i)) for i in range(3)]
    saved: list[Counter] = await Counter.save_many(counters, batch=2)
    read: list[Counter | None] = await Counter.get_many(["0", "Counter:9"], missing="none")
    first = read[0]
    number: int = first.count if first is not None else -1
    total: int = await Counter.count()
    keys: list[str] = [key async for key in Counter.scan_keys()]
    seen: list[int] = [c.count async for c in Counter.scan(batch=2, progress=print)]
    left: float | None = await saved[0].ttl()
    await saved[0].expire(timedelta(minutes=5))
    await saved[0].persist()
    gone: int = await Counter.delete_many(keys)
    assert (number, total, sorted(seen), left is not None, gone) == (0, 3, [0, 1, 2], True, 3)


async def main() -> None:
    user = User(name="Ada", age=3, tags=["a"], pk="ada")
    await user.save()
    await user.name.set("Bob")
    age: int = await user.age.aincrease(2)
    score: float = await user.score.aincrease(1)
    balance: Decimal = await user.balance.aincrease(Decimal("0.5"))
    await user.tags.aappend("x")
    await user.tags.aextend(["y", "z"])
    await user.tags.ainsert(0, "first")
    item: str = await user.tags.apop()
    await user.meta.aset_item("k", 1)
    await user.meta.aupdate({"j": 2}, i=3)
    value: int = await user.meta.apop("k")
    fallback: int | None = await user.meta.apop("missing", None)
    key, number = await user.meta.apopitem()
    again: User = await User.get(user.key)
    copies: list[User] = await user.duplicate_many(2)
    one: User = await user.duplicate()
    same: User = await user.load()
    async with user.lock() as locked:
        locked.age = locked.age + 1
        locked.name = "Cy"
        locked.tags = ["a"]
    async with user.pipeline() as batch:
        await batch.meta.aclear()
    shout: str = user.name + "!"
    if user.active:
        await user.active.set(False)
    active: bool = plain(user.active)
    loaded: RedisInt = await user.age.load()
    pk: str = user.pk
    assert (age, score, balance, item, value, fallback) == (5, 1.0, Decimal("0.5"), "z", 1, None)
    assert (key, number, again.name, same is user, one.key != user.key) == ("i", 3, "Bob", True, True)
    assert [copy.name for copy in copies] == ["Bob", "Bob"]
    assert (shout, active, loaded, pk, user.meta) == ("Cy!", False, 6, "ada", {})


if __name__ == "__main__":
    with use_fake_redis():
        asyncio.run(main())
        asyncio.run(many())
