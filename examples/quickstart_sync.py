"""Quick start, blocking face (Django, Flask, scripts).

Runs against the Redis at REDIS_PYDANTIC_URL when it is set (it needs RedisJSON), and against
an in-process fake Redis otherwise:  python examples/quickstart_sync.py
"""

import os

from pydantic import BaseModel, Field

from redis_pydantic.sync import BaseRedisModel
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


def main() -> None:
    user = User(name="Ada", age=36)
    user.save()

    user.name.set("Ada Lovelace")
    user.tags.aappend("math")
    user.tags.aextend(["engines", "poetry"])
    user.metadata.aupdate(team="analytics", role="lead")
    user.visits.aincrease()
    user.profile.skills.aappend("notes")

    same = User.get(user.key)
    assert same == user
    print(f"{same.key}: {same.model_dump()}")

    partial = User()
    partial.pk = user.pk
    print("name only:", partial.name.load())

    with user.lock() as locked:
        locked.visits += 10
    print("visits:", User.get(user.key).visits)

    user.delete()


if __name__ == "__main__":
    url = os.environ.get("REDIS_PYDANTIC_URL")
    if url:
        print(f"backend: the Redis server at {url} (REDIS_PYDANTIC_URL)")
        main()
    else:
        print("backend: an in-process fake Redis (fakeredis); set REDIS_PYDANTIC_URL to use a real server")
        with use_fake_redis():
            main()
