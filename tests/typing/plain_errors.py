"""Mistakes with plain annotations, flagged by mypy --strict with the redis_pydantic.mypy plugin."""

from __future__ import annotations

from redis_pydantic import BaseRedisModel


class Post(BaseRedisModel):
    title: str
    views: int = 0
    tags: list[str] = []


async def mistakes(post: Post) -> None:
    await post.views.set("many")  # error
    await post.tags.aappend(1)  # error
    post.title = 5  # error
    Post(title=1)  # error
