# This file is generated from redis_pydantic/_async/connection.py by setup_unasync.py. Do not edit it by hand.
"""Which Redis client a model uses.

In order: a client installed with :func:`override_client` (the testing helper uses it), the
model's ``Meta.redis``, and a default client made from ``REDIS_PYDANTIC_URL`` (else
``redis://localhost:6379/0``). The default client is made on first use, never at import, and
one per event loop in the asyncio face, so ``asyncio.run()`` twice and pytest's per-test loops
both work.
"""

from __future__ import annotations

import os
import threading
import weakref
from typing import Any

from redis_pydantic._compat import (
    SyncRedis,
    sync_check_blocking_call,
    sync_close_with_loop,
    sync_loop_key,
)

DEFAULT_URL = "redis://localhost:6379/0"

_override: Any = None
_defaults: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def default_url() -> str:
    """The URL of the default client: ``REDIS_PYDANTIC_URL`` or ``redis://localhost:6379/0``."""
    return os.environ.get("REDIS_PYDANTIC_URL") or DEFAULT_URL


def override_client(client: Any) -> Any:
    """Point every model of this face at ``client`` (``None`` removes it); returns the previous one."""
    global _override
    previous, _override = _override, client
    return previous


def default_client() -> SyncRedis:
    """The default client of the current event loop (or process, in the blocking face)."""
    scope = sync_loop_key()
    entry = _defaults.get(scope)
    if entry is None:
        with _lock:
            entry = _defaults.get(scope)
            if entry is None:
                client = SyncRedis.from_url(default_url())
                # The closer is kept beside the client: it closes it when the loop shuts down.
                entry = (client, sync_close_with_loop(client))
                _defaults[scope] = entry
    return entry[0]


def client_for(cls: type) -> Any:
    """The client that model class ``cls`` talks to."""
    sync_check_blocking_call()
    if _override is not None:
        return _override
    client = getattr(cls.Meta, "redis", None)  # type: ignore[attr-defined]
    return client if client is not None else default_client()
