"""The blocking face: the same API as :mod:`redis_pydantic`, without ``await``::

    from redis_pydantic.sync import BaseRedisModel

    class User(BaseRedisModel):
        name: str

    user = User(name="Ada")
    user.save()

It exports the same names as :mod:`redis_pydantic`, errors included, except
``configure_autopipeline``: threads share no event loop, so the blocking face sends every
operation at once.
"""

from redis_pydantic._index import Indexed
from redis_pydantic._query import Condition, F, all_of, any_of, between, contains, field, match, not_, one_of
from redis_pydantic._schema import plain
from redis_pydantic._sync.fields import (
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
from redis_pydantic._sync.model import BaseRedisModel
from redis_pydantic._sync.search import Query
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
