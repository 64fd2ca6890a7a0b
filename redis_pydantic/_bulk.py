"""Many documents at once: batches, commands and replies, without I/O (shared by both faces).

Every bulk operation goes the same way: check the arguments and everything that will be written
(nothing is sent when something is wrong), split the keys into batches (:func:`split`), send one
command per batch (the commands are built here) and decode the replies here.

Batches are bounded twice: at most ``batch`` documents, and at most ``max_command_bytes`` bytes of
arguments per command (a single document larger than that goes alone in its command). Redis Cluster
refuses a multi-key command whose keys lie in several hash slots: for a cluster client,
:func:`split` is called with ``by_slot=True`` and never puts two slots in one batch. The batches
are then sent one after the other; sending the batches of each node together (one round trip per
node) is for the cluster transport to add, on top of these same batches.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, TypeVar

from pydantic import ValidationError

from redis_pydantic import _base, _ops, _paths
from redis_pydantic._scripts import write_documents
from redis_pydantic.errors import (
    DocumentValidationError,
    InvalidArgumentError,
    KeyNotFoundError,
)

T = TypeVar("T")

#: Documents per command unless told otherwise.
DEFAULT_BATCH = 1000
#: Bytes of arguments per command unless told otherwise (keys, paths and documents).
DEFAULT_MAX_COMMAND_BYTES = 16 * 1024 * 1024
#: The most keys one command takes, whatever ``batch`` says: batches then always fit in the
#: library's batch script (Lua's unpack() stops near 8000 values).
MAX_KEYS_PER_COMMAND = 2000
#: The type SCAN is asked for: RedisJSON's documents.
JSON_TYPE = "ReJSON-RL"

#: Called after each batch with the number of documents (or keys) it handled: ``tqdm.update``
#: fits.
Progress = Callable[[int], object]


# --------------------------------------------------------------------------- arguments


def check_batch(batch: object, name: str = "batch") -> int:
    """``batch`` if it is a positive int; InvalidArgumentError otherwise."""
    if not isinstance(batch, int) or isinstance(batch, bool) or batch < 1:
        raise InvalidArgumentError(f"{name} must be a positive int, not {batch!r}")
    return batch


def check_progress(progress: object) -> None:
    """InvalidArgumentError unless ``progress`` is ``None`` or a callable."""
    if progress is not None and not callable(progress):
        raise InvalidArgumentError(f"progress must be a callable taking a count, not {progress!r}")


def check_options(batch: object, max_command_bytes: object, progress: object) -> tuple[int, int]:
    """The batch size (at most :data:`MAX_KEYS_PER_COMMAND`) and command size limit, checked;
    InvalidArgumentError for a bad option."""
    size = check_batch(batch)
    limit = check_batch(max_command_bytes, "max_command_bytes")
    check_progress(progress)
    return min(size, MAX_KEYS_PER_COMMAND), limit


def key_of(cls: Any, key_or_pk: object) -> str:
    """The key of the document of ``cls`` named by ``key_or_pk``: a full key ``"<prefix>:<pk>"``,
    or a pk (any other non-empty str)."""
    if not isinstance(key_or_pk, str) or not key_or_pk:
        raise InvalidArgumentError(f"a key or pk must be a non-empty str, not {key_or_pk!r}")
    prefix = f"{cls.Meta.key_prefix}:"
    if key_or_pk.startswith(prefix) and len(key_or_pk) > len(prefix):
        return key_or_pk
    return prefix + key_or_pk


def keys_of(cls: Any, keys_or_pks: Iterable[object]) -> list[str]:
    """The keys named by ``keys_or_pks`` (see :func:`key_of`), in order, all checked first."""
    if isinstance(keys_or_pks, str | bytes):
        raise InvalidArgumentError("give a list of keys or pks, not a single str")
    return [key_of(cls, item) for item in keys_or_pks]


def _size(text: str | bytes) -> int:
    if isinstance(text, bytes) or text.isascii():
        return len(text)
    return len(text.encode())


# --------------------------------------------------------------------------- batches


def split(
    items: Sequence[T],
    key: Callable[[T], str],
    size: Callable[[T], int],
    batch: int,
    max_command_bytes: int,
    *,
    by_slot: bool = False,
) -> Iterator[list[T]]:
    """``items`` in consecutive batches of at most ``batch`` items and ``max_command_bytes`` bytes
    (``size(item)`` each; an item larger than the limit goes alone).

    With ``by_slot`` (Redis Cluster), items are first grouped by the hash slot of ``key(item)``,
    in order of first appearance, so a batch never holds keys of two slots; the order of items
    within a slot is kept. Callers put results back in input order themselves.
    """
    if not by_slot and len(items) <= batch:
        total = 0
        for item in items:
            total += size(item)
        if total <= max_command_bytes:  # the common case: one batch
            if items:
                yield list(items)
            return
    groups: Iterable[Sequence[T]] = [items]
    if by_slot:
        slots: dict[int, list[T]] = {}
        for item in items:
            slots.setdefault(_paths.hash_slot(key(item)), []).append(item)
        groups = slots.values()
    for group in groups:
        current: list[T] = []
        used = 0
        for item in group:
            n = size(item)
            if current and (len(current) >= batch or used + n > max_command_bytes):
                yield current
                current, used = [], 0
            current.append(item)
            used += n
        if current:
            yield current


def split_keys(keys: Sequence[str], batch: int, max_command_bytes: int, by_slot: bool) -> Iterator[list[str]]:
    """Keys in batches for JSON.MGET or DEL (see :func:`split`)."""
    return split(keys, _identity, _size, batch, max_command_bytes, by_slot=by_slot)


def _identity(key: str) -> str:
    return key


# --------------------------------------------------------------------------- reading


def mget_command(keys: Sequence[str]) -> tuple[Any, ...]:
    return ("JSON.MGET", *keys, _paths.ROOT)


def check_missing(missing: object) -> bool:
    """Whether a missing document gives ``None`` (``missing="none"``) rather than raising."""
    if missing not in ("raise", "none"):
        raise InvalidArgumentError(f"missing must be 'raise' or 'none', not {missing!r}")
    return missing == "none"


def decode_batch(cls: Any, keys: Sequence[str], replies: Sequence[Any], none_if_missing: bool) -> list[Any]:
    """The models of one JSON.MGET reply, in the order of ``keys`` (``None`` for a missing one,
    or KeyNotFoundError); DocumentValidationError for a document that does not fit ``cls``.

    Each model is what ``get()`` gives (see ``_base.copy_from_json``); this loop is the hot path of
    ``get_many`` and ``scan``, so it does the same with fewer lookups per document.
    """
    with _base.paused_collector():
        return _decode(cls, keys, replies, none_if_missing)


def _decode(cls: Any, keys: Sequence[str], replies: Sequence[Any], none_if_missing: bool) -> list[Any]:
    cut = len(cls.Meta.key_prefix) + 1
    validate = cls.__pydantic_validator__.validate_json
    set_pk, set_key, set_state, set_checked = _base.set_pk, _base.set_key, _base.set_state, _base.set_checked
    stored = _ops.STORED
    out: list[Any] = []
    append = out.append
    for key, raw in zip(keys, replies, strict=True):
        if raw is not None and raw[:1] in _OPEN_BRACKETS:
            raw = raw[1:-1] or None  # RedisJSON's [<document>]; fakeredis's [] for a missing key
        if raw is None:
            if not none_if_missing:
                raise KeyNotFoundError(key)
            append(None)
            continue
        try:
            model = validate(raw)
        except ValidationError as exc:
            raise DocumentValidationError(key, exc) from None
        set_pk(model, key[cut:])
        set_key(model, key)
        set_state(model, stored)
        if type(raw) is bytes:
            set_checked(model, hash(raw))
        append(model)
    return out


_OPEN_BRACKETS = (b"[", "[")


def in_input_order(keys: Sequence[str], read: list[tuple[list[str], list[Any]]], by_slot: bool) -> list[Any]:
    """The models read batch by batch (``(batch keys, models)`` pairs), in the order of ``keys``.

    Batches split in input order just follow each other; batches grouped by slot are put back in
    input order (a key given twice lies twice in its slot's batches, in the same order).
    """
    if not by_slot:
        return [model for _, models in read for model in models]
    by_key: dict[str, list[Any]] = {}
    for chunk, models in read:
        for key, model in zip(chunk, models, strict=True):
            by_key.setdefault(key, []).append(model)
    for found in by_key.values():
        found.reverse()
    return [by_key[key].pop() for key in keys]


# --------------------------------------------------------------------------- writing


class Write:
    """One document of a ``save_many``: its model, key, JSON and expiry (milliseconds), and the
    model that ``get()`` reads from that JSON (``None``: the model holds it already)."""

    __slots__ = ("model", "key", "payload", "ttl", "read_back")

    def __init__(self, model: Any, key: str, payload: bytes, ttl: int | None, read_back: Any = None) -> None:
        self.model = model
        self.key = key
        self.payload = payload
        self.ttl = ttl
        self.read_back = read_back

    def written(self) -> None:
        """The document is in Redis: the model is stored, and holds what ``get()`` reads back."""
        self.model._rp_mark_stored()
        if self.read_back is not None:
            _ops.adopt_read_back(self.model, self.read_back)


def writes(cls: Any, models: Iterable[Any]) -> list[Write]:
    """What ``cls.save_many(models)`` writes, every model checked before anything is sent.

    Each model must be a complete instance of ``cls`` (or of a subclass) whose values validate,
    as for ``save()``; it is written at its own key with its own class's ``Meta.ttl``.
    """
    if isinstance(models, cls):
        raise InvalidArgumentError("give a list of models, not a single model")
    models = list(models)
    ttls: dict[type, int | None] = {}
    for model in models:
        kind = type(model)
        if kind not in ttls:
            if not isinstance(model, cls):
                raise InvalidArgumentError(
                    f"save_many() of {cls.__name__} got {model!r}, not a {cls.__name__}"
                )
            ttls[kind] = _base.ttl_of(kind)
        model._rp_check_complete()
    documents = _ops.documents_json(models)
    return [
        Write(model, model._rp_key or model.key, payload, ttls[type(model)], read_back)
        for model, (payload, read_back) in zip(models, documents, strict=True)
    ]


def write_size(write: Write) -> int:
    return _size(write.key) + len(write.payload) + 1


def split_writes(
    items: Sequence[Write], batch: int, max_command_bytes: int, by_slot: bool
) -> Iterator[list[Write]]:
    """Writes in batches for JSON.MSET (see :func:`split`)."""
    return split(items, _write_key, write_size, batch, max_command_bytes, by_slot=by_slot)


def _write_key(write: Write) -> str:
    return write.key


def mset_commands(items: Sequence[Write]) -> list[_ops.Command]:
    """One JSON.MSET of the batch or, when some have an expiry, the script that writes them
    and gives each its expiry in the same step (and writes nothing, and sets no expiry, when a
    key holds another Redis type)."""
    if all(item.ttl is None for item in items):
        args: list[Any] = ["JSON.MSET"]
        for item in items:
            args += (item.key, _paths.ROOT, item.payload)
        return [tuple(args)]
    return [
        write_documents(
            [item.key for item in items], [item.payload for item in items], [item.ttl for item in items]
        )
    ]


# --------------------------------------------------------------------------- scanning


_GLOB_SPECIAL = frozenset("*?[]\\")


def match_pattern(prefix: str) -> str:
    """The SCAN MATCH pattern of the keys ``"<prefix>:<pk>"``, with glob characters escaped."""
    escaped = "".join("\\" + c if c in _GLOB_SPECIAL else c for c in prefix)
    return escaped + ":*"


def scan_command(cursor: Any, pattern: str, count: int) -> tuple[Any, ...]:
    return ("SCAN", cursor, "MATCH", pattern, "TYPE", JSON_TYPE, "COUNT", count)


def scan_reply(reply: Any) -> tuple[int, list[str]]:
    """The next cursor and the keys (as str) of a SCAN reply."""
    cursor, keys = reply
    if isinstance(cursor, dict):  # a cluster client answers {node: cursor} for the node asked
        (cursor,) = cursor.values()
    return int(cursor), [k.decode() if isinstance(k, bytes) else k for k in keys]


class KeyFilter:
    """The keys of one class among those SCAN returns: not those of a class whose prefix extends
    this one's (``"User:admin:"`` for ``"User"``), and each key once when ``unique``.

    SCAN may return a key more than once (when the keyspace is resized during the iteration):
    ``unique`` remembers the keys returned so far, which costs memory for each one.
    """

    __slots__ = ("excluded", "seen")

    def __init__(self, cls: Any, unique: bool) -> None:
        self.excluded = _base.extending_prefixes(cls.Meta.key_prefix)
        self.seen: set[str] | None = set() if unique else None

    def keep(self, keys: list[str]) -> list[str]:
        out = []
        seen = self.seen
        for key in keys:
            if self.excluded and key.startswith(self.excluded):
                continue
            if seen is not None:
                if key in seen:
                    continue
                seen.add(key)
            out.append(key)
        return out
