"""Quick start, asyncio face.

Runs against the Redis at REDIS_PYDANTIC_URL when it is set (it needs RedisJSON), and against
an in-process fake Redis otherwise:  python examples/quickstart_async.py
"""

import asyncio
import os

from pydantic import BaseModel, Field

from redis_pydantic import BaseRedisModel
from redis_pydantic.testing import use_fake_redis


class Profile(BaseModel):
    bio: str = ""
    skills: list[str] = Field(default_factory=list)


class User(BaseRedisModel):
    name: str
    age: int
    tags: list[str] = []
    metadata: dict[str, str] = {}
    visits: int = 0
    profile: Profile = Field(default_factory=Profile)


async def main() -> None:
    user = User(name="Ada", age=36)
    await user.save()  # one JSON.SET of the whole document

    await user.name.set("Ada Lovelace")  # one field, written in Redis
    await user.tags.aappend("math")  # JSON.ARRAPPEND, then the local list
    await user.tags.aextend(["engines", "poetry"])
    await user.metadata.aupdate(team="analytics", role="lead")
    await user.visits.aincrease()  # JSON.NUMINCRBY
    await user.profile.skills.aappend("notes")  # nested fields work the same way

    same = await User.get(user.key)
    assert same == user
    print(f"{same.key}: {same.model_dump()}")

    partial = User()  # fields that are not given stay unloaded until loaded
    partial.pk = user.pk
    print("name only:", await partial.name.load())

    async with user.lock() as locked:  # reloaded on entry, changed fields saved on exit
        locked.visits += 10
    print("visits:", (await User.get(user.key)).visits)

    await user.delete()


if __name__ == "__main__":
    url = os.environ.get("REDIS_PYDANTIC_URL")
    if url:
        print(f"backend: the Redis server at {url} (REDIS_PYDANTIC_URL)")
        asyncio.run(main())
    else:
        print("backend: an in-process fake Redis (fakeredis); set REDIS_PYDANTIC_URL to use a real server")
        with use_fake_redis():
            asyncio.run(main())
