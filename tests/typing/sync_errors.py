"""Mistakes in typed user code of the blocking face: each line marked ``# error`` is flagged by
mypy --strict and by pyright (strict), and no other line is."""

from __future__ import annotations

from pydantic import Field

from redis_pydantic.sync import BaseRedisModel, RedisInt, RedisList, RedisStr


class User(BaseRedisModel):
    name: RedisStr
    age: RedisInt = RedisInt(0)
    tags: RedisList[str] = Field(default_factory=RedisList)


async def mistakes(user: User) -> None:
    await user.save()  # error
    await user.name.set("x")  # error
    await User.get(user.key)  # error
    user.age.set("abc")  # error
    user.tags.aappend(5)  # error
    User.get_many(["a"], missing="skip")  # error
    user.expire("10")  # error
