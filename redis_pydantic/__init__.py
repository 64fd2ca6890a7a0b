"""redis-pydantic: pydantic v2 models stored in Redis as JSON documents, with atomic field operations.

This package is the asyncio face::

    from redis_pydantic import BaseRedisModel

Blocking code uses the same API without ``await`` from :mod:`redis_pydantic.sync`.
"""

from redis_pydantic._async.fields import (
    RedisBool,
    RedisBytes,
    RedisDate,
    RedisDatetime,
    RedisDecimal,
    RedisDict,
    RedisFloat,
    RedisFrozenset,
    RedisInt,
    RedisList,
    RedisSet,
    RedisStr,
    RedisTime,
    RedisTimedelta,
    RedisTuple,
    RedisUUID,
)
from redis_pydantic._async.model import BaseRedisModel
from redis_pydantic._async.search import Query
from redis_pydantic._autopipeline import configure_autopipeline
from redis_pydantic._index import Indexed
from redis_pydantic._query import Condition, F, all_of, any_of, between, contains, field, match, not_, one_of
from redis_pydantic._schema import plain
from redis_pydantic.errors import *  # noqa: F403 - the error types are part of both faces
from redis_pydantic.errors import BlockingCallInEventLoopWarning
from redis_pydantic.errors import __all__ as _error_names

__all__ = [
    "BaseRedisModel",
    "BlockingCallInEventLoopWarning",
    "all_of",
    "any_of",
    "between",
    "Condition",
    "configure_autopipeline",
    "contains",
    "F",
    "field",
    "Indexed",
    "match",
    "not_",
    "one_of",
    "plain",
    "Query",
    "RedisBool",
    "RedisBytes",
    "RedisDate",
    "RedisDatetime",
    "RedisDecimal",
    "RedisDict",
    "RedisFloat",
    "RedisFrozenset",
    "RedisInt",
    "RedisList",
    "RedisSet",
    "RedisStr",
    "RedisTime",
    "RedisTimedelta",
    "RedisTuple",
    "RedisUUID",
    *_error_names,
]
__version__ = "2.0.0"
