# This file is generated from redis_pydantic/_async/__init__.py by setup_unasync.py. Do not edit it by hand.
"""One face of redis-pydantic: ``_async`` is the asyncio face, written by hand; ``_sync``, the
blocking face, is generated from it by ``setup_unasync.py``."""

from .model import BaseRedisModel

__all__ = ["BaseRedisModel"]
