# This file is generated from redis_pydantic/_async/__init__.py by setup_unasync.py. Do not edit it by hand.
"""The asyncio face of redis-pydantic. ``redis_pydantic/_sync`` is generated from it."""

from redis_pydantic._sync.model import BaseRedisModel

__all__ = ["BaseRedisModel"]
