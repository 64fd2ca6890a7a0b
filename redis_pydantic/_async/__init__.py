"""One face of redis-pydantic: ``_async`` is the asyncio face, written by hand; ``_sync``, the
blocking face, is generated from it by ``setup_unasync.py``."""

from .model import BaseRedisModel

__all__ = ["BaseRedisModel"]
