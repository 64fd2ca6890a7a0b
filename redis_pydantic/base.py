"""Compatibility import path: ``from redis_pydantic.base import BaseRedisModel`` (asyncio face)."""

from redis_pydantic._async.model import BaseRedisModel

__all__ = ["BaseRedisModel"]
