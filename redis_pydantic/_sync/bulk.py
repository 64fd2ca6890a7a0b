# This file is generated from redis_pydantic/_async/bulk.py by setup_unasync.py. Do not edit it by hand.
"""Many documents at once: ``get_many``, ``save_many``, ``delete_many``, ``scan``, ``scan_keys``
and ``count`` (the batches, commands and replies are built in :mod:`redis_pydantic._bulk`)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from redis_pydantic import _bulk, _cluster
from redis_pydantic._base import refresh_command, refresh_of
from redis_pydantic.errors import TRANSPORT_ERRORS, translate

from .connection import client_for
from .executor import execute, transaction


def _send(cls: Any, client: Any, commands: list[Any]) -> list[Any]:
    """One round trip for model class ``cls``: a single command as it is, several as one atomic step."""
    coalesce = cls.Meta.autopipeline
    try:
        if len(commands) == 1:
            return [execute(client, commands[0], coalesce)]
        return transaction(client, commands, coalesce)
    except TRANSPORT_ERRORS as exc:
        raise translate(exc, client) from exc


def get_many(
    cls: Any,
    keys_or_pks: Iterable[str],
    missing: str,
    batch: int,
    max_command_bytes: int,
    progress: _bulk.Progress | None,
) -> list[Any]:
    none_if_missing = _bulk.check_missing(missing)
    size, limit = _bulk.check_options(batch, max_command_bytes, progress)
    keys = _bulk.keys_of(cls, keys_or_pks)
    client = client_for(cls)
    refresh = refresh_of(cls)
    by_slot = _cluster.is_cluster(client)
    read: list[tuple[list[str], list[Any]]] = []
    for chunk in _bulk.split_keys(keys, size, limit, by_slot):
        commands: list[Any] = [_bulk.mget_command(chunk)]
        if refresh is not None:
            commands += [refresh_command(key, refresh) for key in chunk]
        replies = (_send(cls, client, commands))[0]
        read.append((chunk, _bulk.decode_batch(cls, chunk, replies, none_if_missing)))
        if progress is not None:
            progress(len(chunk))
    return _bulk.in_input_order(keys, read, by_slot)


def save_many(
    cls: Any,
    models: Iterable[Any],
    batch: int,
    max_command_bytes: int,
    progress: _bulk.Progress | None,
) -> list[Any]:
    size, limit = _bulk.check_options(batch, max_command_bytes, progress)
    writes = _bulk.writes(cls, models)  # every model is checked before anything is sent
    client = client_for(cls)
    for chunk in _bulk.split_writes(writes, size, limit, _cluster.is_cluster(client)):
        _send(cls, client, _bulk.mset_commands(chunk))
        for write in chunk:
            write.written()
        if progress is not None:
            progress(len(chunk))
    return [write.model for write in writes]


def delete_many(
    cls: Any,
    keys_or_pks: Iterable[str],
    batch: int,
    max_command_bytes: int,
    progress: _bulk.Progress | None,
) -> int:
    size, limit = _bulk.check_options(batch, max_command_bytes, progress)
    keys = _bulk.keys_of(cls, keys_or_pks)
    client = client_for(cls)
    deleted = 0
    for chunk in _bulk.split_keys(keys, size, limit, _cluster.is_cluster(client)):
        deleted += int((_send(cls, client, [("DEL", *chunk)]))[0])
        if progress is not None:
            progress(len(chunk))
    return deleted


def scan_keys(cls: Any, batch: int, unique: bool, progress: _bulk.Progress | None = None) -> Iterator[str]:
    """The keys of the documents of ``cls``, SCAN call by SCAN call (``batch`` is its COUNT hint)."""
    size = _bulk.check_batch(batch)
    _bulk.check_progress(progress)
    client = client_for(cls)
    pattern = _bulk.match_pattern(cls.Meta.key_prefix)
    kept = _bulk.KeyFilter(cls, unique)
    # SCAN walks one server: on Redis Cluster, each primary in turn.
    nodes = client.get_primaries() if _cluster.is_cluster(client) else [None]
    for node in nodes:
        target = {} if node is None else {"target_nodes": node}
        cursor = 0
        while True:
            try:
                reply = client.execute_command(*_bulk.scan_command(cursor, pattern, size), **target)
            except TRANSPORT_ERRORS as exc:
                raise translate(exc, client) from exc
            cursor, found = _bulk.scan_reply(reply)
            keys = kept.keep(found)
            if progress is not None and keys:
                progress(len(keys))
            for key in keys:  # noqa: UP028 - an async generator has no ``yield from``
                yield key
            if cursor == 0:
                break


def _read_present(cls: Any, client: Any, keys: Sequence[str]) -> list[Any]:
    """The documents at ``keys`` (one JSON.MGET), skipping keys that vanished since SCAN."""
    # On Redis Cluster, one JSON.MGET per hash slot.
    chunks = (
        _bulk.split_keys(keys, len(keys), _bulk.DEFAULT_MAX_COMMAND_BYTES, True)
        if _cluster.is_cluster(client)
        else [keys]
    )
    models: list[Any] = []
    for chunk in chunks:
        replies = (_send(cls, client, [_bulk.mget_command(chunk)]))[0]
        models += [model for model in _bulk.decode_batch(cls, chunk, replies, True) if model is not None]
    return models


def scan(cls: Any, batch: int, unique: bool, progress: _bulk.Progress | None) -> Iterator[Any]:
    """The documents of ``cls``: SCAN, then one JSON.MGET per ``batch`` keys."""
    size = min(_bulk.check_batch(batch), _bulk.MAX_KEYS_PER_COMMAND)
    _bulk.check_progress(progress)
    client = client_for(cls)
    pending: list[str] = []
    for key in scan_keys(cls, size, unique):
        pending.append(key)
        if len(pending) >= size:
            models = _read_present(cls, client, pending)
            pending = []
            if progress is not None:
                progress(len(models))
            for model in models:
                yield model
    if pending:
        models = _read_present(cls, client, pending)
        if progress is not None:
            progress(len(models))
        for model in models:
            yield model


def count(cls: Any, batch: int) -> int:
    """How many documents of ``cls`` there are (each key counted once)."""
    n = 0
    for _ in scan_keys(cls, batch, True):
        n += 1
    return n
