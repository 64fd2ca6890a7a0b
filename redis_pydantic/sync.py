"""The blocking face: the same API as :mod:`redis_pydantic`, without ``await``::

    from redis_pydantic.sync import BaseRedisModel

    class User(BaseRedisModel):
        name: str

    user = User(name="Ada")
    user.save()

It exports the same names as :mod:`redis_pydantic`, errors included.
"""

from redis_pydantic._sync.model import BaseRedisModel
from redis_pydantic.errors import *  # noqa: F403 - the error types are part of both faces
from redis_pydantic.errors import BlockingCallInEventLoopWarning
from redis_pydantic.errors import __all__ as _error_names

__all__ = ["BaseRedisModel", "BlockingCallInEventLoopWarning", *_error_names]
