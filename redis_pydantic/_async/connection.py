"""Which Redis client a model uses.

In order: a client installed with :func:`override_client` (the testing helper uses it), the
model's ``Meta.redis``, and a default client made from ``REDIS_PYDANTIC_URL`` (else
``redis://localhost:6379/0``). The default client is made on first use, never at import, and
one per event loop in the asyncio face, so ``asyncio.run()`` twice and pytest's per-test loops
both work; it is closed and forgotten when its loop shuts down.

Default clients wait for a free connection of a bounded pool (``REDIS_PYDANTIC_MAX_CONNECTIONS``
connections, waiting up to ``REDIS_PYDANTIC_POOL_TIMEOUT`` seconds), and never send a command a
second time after a timeout or a dropped connection: several operations are not idempotent.

When the URL names a node of a Redis Cluster, the default client is a cluster client.
``REDIS_PYDANTIC_CLUSTER`` decides: ``auto`` (the default) asks the server once per URL and
process (``INFO cluster``, with a short blocking connection, also in the asyncio face), ``yes``
and ``no`` force it either way without asking.
"""

from __future__ import annotations

import os
import threading
import weakref
from typing import Any

import redis

from redis_pydantic import _cluster
from redis_pydantic._compat import (
    AsyncRedis,
    async_check_blocking_call,
    async_close_with_loop,
    async_default_client,
    async_default_cluster_client,
    async_face_blocks,
    async_loop_key,
    running_loop,
)
from redis_pydantic.errors import (
    TRANSPORT_ERRORS,
    InvalidArgumentError,
    RedisClusterError,
    mask_url,
    translate,
)

DEFAULT_URL = "redis://localhost:6379/0"
#: Connections of a default client's pool; more operations in flight wait for a free one.
DEFAULT_MAX_CONNECTIONS = 50
#: Seconds an operation waits for a free connection before ConnectionPoolExhaustedError.
DEFAULT_POOL_TIMEOUT = 10.0

_override: Any = None
_defaults: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def default_url() -> str:
    """The URL of the default client: ``REDIS_PYDANTIC_URL`` or ``redis://localhost:6379/0``."""
    return os.environ.get("REDIS_PYDANTIC_URL") or DEFAULT_URL


def pool_settings() -> tuple[int, float | None]:
    """The default client's pool size and wait, from ``REDIS_PYDANTIC_MAX_CONNECTIONS`` (a
    positive int, default 50) and ``REDIS_PYDANTIC_POOL_TIMEOUT`` (seconds, default 10; ``none``
    waits forever)."""
    size_text = os.environ.get("REDIS_PYDANTIC_MAX_CONNECTIONS") or str(DEFAULT_MAX_CONNECTIONS)
    wait_text = os.environ.get("REDIS_PYDANTIC_POOL_TIMEOUT") or str(DEFAULT_POOL_TIMEOUT)
    try:
        size = int(size_text)
        wait = None if wait_text.strip().lower() == "none" else float(wait_text)
    except ValueError:
        size = wait = -1
    if size < 1 or (wait is not None and not wait >= 0):
        raise InvalidArgumentError(
            "REDIS_PYDANTIC_MAX_CONNECTIONS must be a positive int and REDIS_PYDANTIC_POOL_TIMEOUT a "
            f"number of seconds >= 0 or 'none', not {size_text!r} and {wait_text!r}"
        )
    return size, wait


#: ``REDIS_PYDANTIC_CLUSTER`` values: ask the server, or force a cluster client or a plain one.
CLUSTER_SETTINGS = {"auto": None, "yes": True, "no": False}
#: Seconds the cluster probe waits to connect and for its answer (unless the URL sets them).
PROBE_TIMEOUT = 5.0
#: Per URL: whether the server is a cluster node (asked once per process).
_cluster_urls: dict[str, bool] = {}


def cluster_setting() -> bool | None:
    """``REDIS_PYDANTIC_CLUSTER``: True (``yes``), False (``no``) or None (``auto``, the default)."""
    text = (os.environ.get("REDIS_PYDANTIC_CLUSTER") or "auto").strip().lower()
    if text not in CLUSTER_SETTINGS:
        raise InvalidArgumentError(f"REDIS_PYDANTIC_CLUSTER must be auto, yes or no, not {text!r}")
    return CLUSTER_SETTINGS[text]


def is_cluster_url(url: str) -> bool:
    """Whether the default client for ``url`` is a cluster client (see ``REDIS_PYDANTIC_CLUSTER``)."""
    forced = cluster_setting()
    if forced is not None:
        return forced
    known = _cluster_urls.get(url)
    if known is None:
        known = _cluster_urls[url] = probe_cluster(url)
    return known


def probe_cluster(url: str) -> bool:
    """Ask the server at ``url`` whether it runs in cluster mode (``INFO cluster``).

    A blocking client in both faces: the default client is made synchronously, on first use. An
    unreachable server raises RedisConnectionError (and is asked again next time).
    """
    probe = redis.Redis.from_url(url, socket_connect_timeout=PROBE_TIMEOUT, socket_timeout=PROBE_TIMEOUT)
    try:
        return str(probe.info("cluster").get("cluster_enabled", 0)) == "1"
    except TRANSPORT_ERRORS as exc:
        raise translate(exc, probe) from exc
    finally:
        probe.close()


def override_client(client: Any) -> Any:
    """Point every model of this face at ``client`` (``None`` removes it); returns the previous one."""
    global _override
    previous, _override = _override, client
    return previous


def default_client() -> AsyncRedis:
    """The default client of the current event loop (or process, in the blocking face)."""
    scope = async_loop_key()
    entry = _defaults.get(scope)
    if entry is None:
        with _lock:
            entry = _defaults.get(scope)
            if entry is None:
                _forget_closed_loops()
                size, wait = pool_settings()
                url = default_url()
                if is_cluster_url(url):
                    try:  # the blocking face's cluster client asks for the slots right away
                        client = async_default_cluster_client(url, size, wait)
                    except TRANSPORT_ERRORS as exc:
                        raise RedisClusterError(
                            f"cannot make a Redis Cluster client for {mask_url(url)}: {exc}"
                        ) from exc
                else:
                    client = async_default_client(url, size, wait)
                # The closer is kept beside the client: it closes it when the loop shuts down.
                entry = (client, async_close_with_loop(client, _forget_current_loop))
                _defaults[scope] = entry
    return entry[0]  # type: ignore[no-any-return]


def _forget_current_loop() -> None:
    """Drop the default client of the loop that is shutting down (called on that loop)."""
    with _lock:
        _defaults.pop(async_loop_key(), None)


def _forget_closed_loops() -> None:
    # A loop closed without shutting down its async generators never ran its closer: its
    # entry would keep the loop and its client alive.
    for scope in list(_defaults.keys()):
        is_closed = getattr(scope, "is_closed", None)
        if is_closed is not None and is_closed():
            _defaults.pop(scope, None)


def client_for(cls: type, meta: Any = None) -> Any:
    """The client that model class ``cls`` talks to (``meta``: its ``Meta``, when the caller has
    read it already)."""
    if async_face_blocks and running_loop() is not None:
        async_check_blocking_call()
    client = _override
    if client is None:
        client = (meta or cls.Meta).redis  # type: ignore[attr-defined]
        if client is None:
            return default_client()
    # raw_replies()'s answer for the last client, without its call: most programs use one client.
    last = _last
    if last[0]() is client and len(last[1]) == last[2]:
        return last[3]
    return raw_replies(client)


# -- replies as Redis sent them --------------------------------------------------------------
#
# The library parses the replies of the JSON commands and scripts itself. redis-py lets code
# register response callbacks on a client object, and ``client.json()`` does so for the JSON
# commands: after it, ``execute_command("JSON.GET", ...)`` returns decoded Python values. redis-py
# has no per-call way to skip registered callbacks (NEVER_DECODE only skips the bytes-to-str
# decoding; the callback still runs). So a client whose callbacks cover commands the library
# sends is used through a companion: a plain redis-py client on the same connection pool (the
# same connections, server, protocol and retry policy) with redis-py's own callbacks.

#: Per client: the size of its callback table when it was last checked, and its companion
#: (None when the client itself is used). Weak keys: a client that is dropped is forgotten.
_companions: weakref.WeakKeyDictionary[Any, tuple[int, Any]] = weakref.WeakKeyDictionary()


def _nobody() -> None:
    return None


#: The last client checked, as (weak reference, its callback table, the table's size, the client
#: to use): most programs use one client, which this answers for without a dictionary lookup.
#: redis-py changes a client's table in place (``set_response_callback``, ``client.json()``), so
#: a new callback shows in its size.
_last: tuple[Any, Any, int, Any] = (_nobody, (), -1, None)


def _has_foreign_callbacks(callbacks: Any) -> bool:
    return any(str(name).upper().startswith(("JSON.", "EVAL")) for name in callbacks)


def raw_replies(client: Any) -> Any:
    """``client``, or its companion when callbacks registered on it would change our replies."""
    global _last
    callbacks = getattr(client, "response_callbacks", None)
    if callbacks is None:
        # redis-py's blocking cluster client keeps the callbacks registered on it apart.
        callbacks = getattr(client, "cluster_response_callbacks", None)
        if callbacks is None:
            return client
    size = len(callbacks)
    cluster = _cluster.is_cluster(client)
    if not cluster and not isinstance(client, AsyncRedis):
        return client
    try:
        checked = _companions.get(client)
    except TypeError:  # not weak-referenceable: checked every time
        return _companion(client) if _has_foreign_callbacks(callbacks) else client
    companion = None
    if checked is not None and checked[0] == size:
        companion = checked[1]
    elif _has_foreign_callbacks(callbacks):
        companion = checked[1] if checked is not None and checked[1] is not None else _companion(client)
    _companions[client] = (size, companion)
    answer = client if companion is None else companion
    _last = (weakref.ref(client), callbacks, size, answer)
    return answer


def _companion(client: Any) -> Any:
    if _cluster.is_cluster(client):
        # A cluster client applies its callbacks on every node it talks to; no second client
        # can share its nodes without them.
        raise InvalidArgumentError(
            f"this {type(client).__name__} has reply callbacks registered for JSON commands or "
            "scripts (client.json() registers them), which change the replies redis-pydantic "
            "reads. Give the models their own cluster client, and call .json() on another one."
        )
    return AsyncRedis(connection_pool=client.connection_pool)
