"""Plain annotations type-check with the ``redis_pydantic.mypy`` plugin (mypy --strict)."""

from __future__ import annotations

import datetime

from redis_pydantic import BaseRedisModel, RedisInt, RedisList


class Post(BaseRedisModel):
    title: str
    views: int = 0
    tags: list[str] = []
    scores: dict[str, float] = {}
    published: datetime.datetime | None = None


async def main(post: Post) -> None:
    await post.title.set("Hello")
    views: int = await post.views.aincrease(1)
    await post.tags.aappend("news")
    item: str = await post.tags.apop()
    await post.scores.aset_item("a", 1.5)
    when = post.published
    if when is not None:
        await when.set(when + datetime.timedelta(days=1))
    post.views = 3  # assignment keeps the plain type
    counter: RedisInt = post.views
    tags: RedisList[str] = post.tags
    print(views, item, counter, tags, Post(title="x", views=1).title.upper())
