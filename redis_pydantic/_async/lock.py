"""``model.lock()``: read-modify-write of a stored model under a Redis lock."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import redis.exceptions

from redis_pydantic import _ops, _paths
from redis_pydantic._base import refresh_of
from redis_pydantic._compat import AsyncLock, async_lock_holder
from redis_pydantic._lease import AsyncLeaseKeeper
from redis_pydantic._scripts import SAVE_AND_RELEASE, ScriptCall
from redis_pydantic.errors import (
    TRANSPORT_ERRORS,
    LockInUseError,
    LockLostError,
    LockTimeoutError,
    PipelineError,
    RedisCommandError,
    RedisPydanticError,
    attach_release_failure,
    map_exceptions,
    translate,
)

from .executor import current_batch, execute, reload_quietly, run

#: Held while a block checks that no other block is open on its model instance and registers.
_registering = threading.Lock()

#: The locks that open ``lock()`` blocks hold, as (holder, lock key): see async_lock_holder.
_held: set[tuple[Any, str]] = set()

#: Lease of a lock in seconds; it is renewed every third of it while the body runs.
DEFAULT_TIMEOUT = 10.0
#: How long ``lock()`` waits for another holder, in seconds, before LockTimeoutError.
DEFAULT_BLOCKING_TIMEOUT = 10.0


@asynccontextmanager
async def model_lock(
    model: Any,
    action: str,
    timeout: float | None,
    blocking_timeout: float | None,
    extend: bool,
) -> AsyncIterator[Any]:
    batch = current_batch.get()
    if batch is not None and not batch.closed:
        # Its exit's write would go out at once, ahead of the queued ones and even if the
        # pipeline's block failed: neither is what the program says.
        raise PipelineError(
            "lock() cannot be used inside pipeline(): open the lock first and the pipeline inside it"
        )
    root, path = _ops.locate(model)
    client = type(root)._rp_client()
    lock_key = _paths.lock_key_for(root.key, _paths.check_lock_action(action))
    held = (async_lock_holder(), lock_key)
    if held in _held:
        raise LockInUseError(
            f"this task or thread already holds {lock_key!r} in an open lock() block of the same "
            "action: a block nested in it would wait for itself. Open the second block after the "
            "first one ends"
        )
    lock = AsyncLock(client, lock_key, timeout=timeout, blocking_timeout=blocking_timeout, thread_local=False)
    with map_exceptions(client, root.key):
        acquired = await lock.acquire()
    if not acquired:
        raise LockTimeoutError(f"could not acquire {lock_key!r} within {blocking_timeout} seconds")
    _held.add(held)
    try:
        keeper = None
        changes = _ops.Changes(model, path, {})
        registered = loaded = False
        try:
            with _registering:  # checked and registered at once, also between threads
                if root._rp_changes:
                    # Each block writes what it changed locally: two blocks on one instance would
                    # write each other's changes, and the second one's read on entry would undo the
                    # first's.
                    raise LockInUseError(
                        f"another lock() block is open on this {type(root).__name__} instance; use one "
                        "instance per block (Model.get(key) gives another)"
                    )
                object.__setattr__(root, "_rp_changes", (changes,))
                registered = True
            await model.load()
            loaded = True
            changes.before = _ops.field_payloads(model)
            if extend and timeout:
                keeper = AsyncLeaseKeeper(lock, timeout)
                keeper.start()
            yield model
            # Only what the block assigned (or changed in place), validated: nothing else.
            changed = _ops.lock_writes(model, path, changes)
        except BaseException as exc:
            if keeper is not None:
                await keeper.stop()
            try:
                await lock.release()
            except redis.exceptions.LockError:
                pass  # the lease already ran out; the body's exception is what matters
            except TRANSPORT_ERRORS as release_exc:
                # The body's exception must not be replaced by this one: attach it instead.
                attach_release_failure(exc, lock_key, translate(release_exc, client, root.key))
            if loaded and isinstance(exc, Exception):
                # Nothing the block changed locally was saved: the model holds what Redis holds.
                await reload_quietly(model)
            raise
        finally:
            if registered:
                object.__setattr__(
                    root, "_rp_changes", tuple(c for c in root._rp_changes if c is not changes)
                )
        if keeper is not None:
            await keeper.stop()
        token = lock.local.token
        refresh = refresh_of(type(root))
        call = ScriptCall(SAVE_AND_RELEASE, (lock_key, root.key), (token, refresh or "", *changed))
        checked = _ops.lock_exit_checked(model, path, call, changes)
        try:
            if checked is None:
                done = await execute(client, call, type(root).Meta.autopipeline)
            else:
                try:
                    done = await run(checked)
                except RedisPydanticError:  # the validators refused, or the read failed: nothing written
                    try:
                        await lock.release()
                    except TRANSPORT_ERRORS:  # (a lock no longer ours: LockError, a RedisError)
                        pass
                    await reload_quietly(model)
                    raise
        except TRANSPORT_ERRORS as exc:
            error = translate(exc, client, root.key)
            # Whether the script ran is unknown. Free the lock if it is still ours (the release checks
            # the token), so that it is not held until its lease runs out.
            try:
                await lock.release()
            except TRANSPORT_ERRORS:
                pass
            if isinstance(error, RedisCommandError):  # Redis refused: nothing was written
                await reload_quietly(model)
            raise error from exc
        if done:
            if checked is None:  # (a check-and-set adopts what it wrote itself)
                _ops.adopt_writes(model, changes.written)
        else:
            await reload_quietly(model)  # nothing was saved: the model holds what Redis holds
            reason = f" ({keeper.lost})" if keeper is not None and keeper.lost else ""
            raise LockLostError(
                f"the lock {lock_key!r} expired or was taken over before the block ended{reason}; "
                "its changes were not saved"
            )
    finally:
        _held.discard(held)
