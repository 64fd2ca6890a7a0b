"""redis-pydantic: pydantic v2 models stored in Redis as JSON documents, with atomic field operations.

This package is the asyncio face::

    from redis_pydantic import BaseRedisModel

Blocking code uses the same API without ``await`` from :mod:`redis_pydantic.sync`.
"""

from redis_pydantic._async.model import BaseRedisModel
from redis_pydantic.errors import *  # noqa: F403 - the error types are part of both faces
from redis_pydantic.errors import BlockingCallInEventLoopWarning
from redis_pydantic.errors import __all__ as _error_names

__all__ = ["BaseRedisModel", "BlockingCallInEventLoopWarning", *_error_names]
__version__ = "2.0.0"
