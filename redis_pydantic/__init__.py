"""redis-pydantic: pydantic v2 models stored in Redis as JSON documents, with atomic field operations.

This package is the asyncio face::

    from redis_pydantic import BaseRedisModel

Blocking code uses the same API without ``await`` from :mod:`redis_pydantic.sync`.
"""

from redis_pydantic._async.model import BaseRedisModel
from redis_pydantic.errors import (
    FieldNotLoadedError,
    FieldValidationError,
    KeyNotFoundError,
    LockLostError,
    LockTimeoutError,
    PipelineError,
    RedisCommandError,
    RedisConnectionError,
    RedisJSONNotAvailableError,
    RedisPydanticError,
    UnsupportedFieldTypeError,
    WrongModelKeyError,
)

__all__ = [
    "BaseRedisModel",
    "FieldNotLoadedError",
    "FieldValidationError",
    "KeyNotFoundError",
    "LockLostError",
    "LockTimeoutError",
    "PipelineError",
    "RedisCommandError",
    "RedisConnectionError",
    "RedisJSONNotAvailableError",
    "RedisPydanticError",
    "UnsupportedFieldTypeError",
    "WrongModelKeyError",
]
__version__ = "2.0.0"
