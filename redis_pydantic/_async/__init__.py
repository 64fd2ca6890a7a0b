"""The asyncio face of redis-pydantic. ``redis_pydantic/_sync`` is generated from it."""

from redis_pydantic._async.model import BaseRedisModel

__all__ = ["BaseRedisModel"]
