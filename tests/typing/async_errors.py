"""Mistakes in typed user code of the asyncio face: each line marked ``# error`` is flagged by
mypy --strict and by pyright (strict), and no other line is."""

from __future__ import annotations

from pydantic import Field

from redis_pydantic import BaseRedisModel, RedisBool, RedisDict, RedisInt, RedisList, RedisStr


class User(BaseRedisModel):
    name: RedisStr
    age: RedisInt = RedisInt(0)
    active: RedisBool = RedisBool(True)
    tags: RedisList[str] = Field(default_factory=RedisList)
    meta: RedisDict[str, int] = Field(default_factory=RedisDict)


async def mistakes(user: User) -> None:
    await user.age.set("abc")  # error
    await user.tags.aappend(5)  # error
    await user.meta.aset_item("k", "v")  # error
    await user.active.set(1.5)  # error
    user.age = "x"  # error
    User(name=1)  # error
    User(nme="Ada")  # error
    text: str = await user.meta.apop("k")  # error
    await User.get_many(["a"], missing="skip")  # error
    await user.expire("10")  # error
    user.name.set("Ada")  # error
    user.tags.aappend("x")  # error
    print(text)
