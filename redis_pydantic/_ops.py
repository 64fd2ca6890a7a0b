"""Redis operations as data: each library operation is described once, here, without I/O.

An operation on one field that is one Redis command is a :class:`FieldCommand`: how its
argument is validated, when it is a check-and-set instead, its command, and how its reply is
applied locally. Every other operation is an :class:`Op` built by its builder: the commands to
send, how their replies are applied locally, whether it returns a value, whether it needs the
document, and (for optimistic operations) the read that the commands are computed from. A
field command becomes an Op (:func:`field_op`) whenever it is not simply sent at once.

A face's ``executor.run(op)`` decides how an Op is sent: directly, queued in an open
``pipeline()``, or after creating a never-saved document. ``executor.run_field()`` sends a field
command of a stored model at once when nothing else is needed, and hands every other case to
``run()``. Bad input raises before anything is sent or queued, and local state changes only
after Redis accepted the change.
"""

from __future__ import annotations

import contextvars
import decimal
import enum
import json
import math
import random
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import PydanticSerializationError

from redis_pydantic import _paths, _scripts
from redis_pydantic._schema import (
    DECIMAL,
    INT,
    INT64_MAX,
    INT64_MIN,
    MODEL,
    FieldSpec,
    check_json_numbers,
    check_json_numbers_fast,
    field_specs,
    has_model_validators,
    read_back_specs,
    validators_may_change,
    values_of,
)
from redis_pydantic._scripts import DICT_OPS, ScriptCall
from redis_pydantic.errors import (
    DocumentValidationError,
    FieldNotLoadedError,
    FieldStateError,
    FieldValidationError,
    KeyNotFoundError,
    NotAttachedError,
    RedisCommandError,
    UnknownFieldError,
    not_serializable,
)

Command = tuple[Any, ...] | ScriptCall


class DocumentState(enum.Enum):
    """What a stored model knows about its document."""

    #: Never saved or loaded by this instance: its first field operation creates the document.
    NEW = "new"
    #: Saved, loaded or deleted: field operations require the document to exist.
    STORED = "stored"


NEW = DocumentState.NEW
STORED = DocumentState.STORED


class Access(enum.Enum):
    """How an operation touches the document, which decides how ``run()`` sends it."""

    #: Sent at once, even inside ``pipeline()``; never creates the document.
    READ = "read"
    #: Changes part of the document: a never-saved model's document is created first, in the
    #: same atomic step. Queued inside ``pipeline()``.
    UPDATE = "update"
    #: Writes (or deletes) whole documents itself: nothing is created first.
    WRITE = "write"


class Then:
    """What the replies of an operation call for: run the read ``op``, then return ``result``.

    ``result`` is :data:`READ_RESULT` when the read's own result is the operation's result (a
    read that raises the right error, for example).
    """

    __slots__ = ("op", "result")

    def __init__(self, op: Op, result: Any) -> None:
        self.op = op
        self.result = result


#: See :class:`Then`.
READ_RESULT: Any = object()


_READ = Access.READ


#: How often a check-and-set reads and tries again when another client wrote first.
OPTIMISTIC_ATTEMPTS = 128
#: The limit of the random pause before the second try, in seconds; the limit doubles with
#: each try, up to the cap. 128 tries pause about 6 s in all on average (12 s at most).
RETRY_PAUSE_BASE = 0.0005
RETRY_PAUSE_CAP = 0.1


def retry_pause(attempt: int) -> float:
    """Seconds to wait before trying a check-and-set again, after try ``attempt`` (from 0) lost
    to another client's write: a random pause below a limit that doubles with each try, up to
    :data:`RETRY_PAUSE_CAP` ("full jitter"). Writers that collided spread out instead of
    reading the same version again together, so many writers of one document all succeed."""
    return _JITTER.uniform(0.0, min(RETRY_PAUSE_CAP, RETRY_PAUSE_BASE * 2.0 ** min(attempt, 16)))


#: The operating system's randomness: a program that seeds ``random`` (or forks workers that
#: share its state) would otherwise give its writers the same pauses, colliding again together.
_JITTER = random.SystemRandom()


class Optimistic:
    """An operation whose commands depend on the current value in Redis (check-and-set).

    The executor watches ``key``, sends ``read``, and calls ``decide(reply)``: it returns the
    write commands (sent inside MULTI/EXEC) or raises. A conflicting write from another client
    makes the executor read and decide again.
    """

    __slots__ = ("key", "read", "decide", "parts")

    def __init__(
        self,
        key: str,
        read: Command,
        decide: Callable[[Any], list[Command]],
        parts: tuple[str, ...] | None = None,
    ) -> None:
        self.key = key
        self.read = read
        self.decide = decide
        #: The place that ``read`` reads (``JSON.GET key <path> <path>``); ``None``: it reads
        #: the whole document (``JSON.GET key $``).
        self.parts = parts

    def reply_once_created(self, create: Command) -> Any:
        """The reply ``read`` gets once ``create`` (a never-saved model's command that creates
        its document: see ``_rp_create_command``) has run. The executor decides on it before
        the document exists, and sends ``create`` with the writes in one step: a refused
        operation creates nothing."""
        document: bytes = create.args[0] if isinstance(create, ScriptCall) else create[3]  # type: ignore[assignment]
        if self.parts is None:
            return b"[" + document + b"]"
        value = json.loads(document)
        for name in self.parts:
            value = value.get(name) if isinstance(value, dict) else None
        path = self.read[2]  # type: ignore[index]
        return json.dumps({path: [] if value is None else [value]})


class Op:
    """One library operation, complete: built once, by one builder.

    ``commands`` go to Redis; ``apply(replies)`` gets one reply per command, updates local state
    and returns the operation's result, or a :class:`Then`. ``returns_value`` operations cannot
    be queued in ``pipeline()``. ``optimistic`` operations compute their commands from a read.
    ``per_slot`` operations may be sent one hash slot at a time on Redis Cluster.
    """

    # The attributes most operations set are slots; the others keep their class default unless
    # given (``__dict__``): an operation is built for every field operation, fewer stores is faster.
    __slots__ = ("root", "cls", "meta", "commands", "apply", "what", "fields", "access", "__dict__")

    #: Whether the operation's result is a value read from Redis (it cannot be queued).
    returns_value = False
    #: The check-and-set read an optimistic operation computes its commands from (its own
    #: ``commands`` are empty).
    optimistic: Optimistic | None = None
    #: The document the operation reads or writes when it has no ``root`` (``get``).
    key: str | None = None
    #: Whether the operation extends the document's expiry when its class has
    #: ``Meta.refresh_ttl`` (reads and writes do; ``ttl()``, ``expire()`` and deletes do not).
    refresh = True
    #: The commands write keys of several Redis Cluster hash slots and need not be one atomic
    #: step: on a cluster they are sent per slot, and ``apply`` gets the exception of each
    #: command that failed in its place (the others have run).
    per_slot = False
    #: The operation writes whole values (``set``, ``save``, ``aupdate``, ``aclear``), not a
    #: change of the values Redis holds: a local change of the same values in a ``lock()``
    #: block is replaced by it, not lost (see :meth:`Changes.write_starts`).
    replaces = False

    # Only the options that every operation sets are parameters: keyword-only parameters with
    # defaults make each call slower, and every field operation builds one Op. The others are
    # class attributes above, set with having().
    def __init__(
        self,
        root: Any,
        commands: list[Command],
        apply: Callable[[list[Any]], Any],
        what: str = "",
        fields: tuple[tuple[str, ...], ...] = (),
        access: Access = Access.UPDATE,
    ) -> None:
        self.root = root
        self.cls: Any = type(root)
        #: The ``Meta`` of ``cls`` when the builder has read it (reading it from a model class is
        #: slow: pydantic's metaclass has ``__getattr__``).
        self.meta: Any = None
        self.commands = commands
        self.apply = apply
        self.what = what
        #: The paths (field names from the document's root) whose values the operation changes
        #: in Redis and locally: a ``lock()`` block does not write them again on exit.
        self.fields = fields
        #: Whether the operation only reads, or updates or writes the whole document.
        self.access = access

    def having(
        self,
        *,
        returns_value: bool = False,
        cls: type | None = None,
        optimistic: Optimistic | None = None,
        key: str | None = None,
        refresh: bool = True,
        per_slot: bool = False,
    ) -> Op:
        """Set the options that most operations leave at their defaults; returns the operation.

        ``cls`` is the model class of an operation without ``root`` (a class operation).
        """
        if returns_value:
            self.returns_value = True
        if cls is not None:
            self.cls = cls
        if optimistic is not None:
            self.optimistic = optimistic
        if key is not None:
            self.key = key
        if not refresh:
            self.refresh = False
        if per_slot:
            self.per_slot = True
        return self


class ValueOp(Op):
    """An operation whose result is a value read from Redis: it cannot be queued in ``pipeline()``."""

    __slots__ = ()
    returns_value = True


class Changes:
    """What happened to a model while a ``lock()`` block ran, to tell what the block writes on
    exit (see :func:`lock_writes`).

    ``model`` is the model the block locked, at ``path`` in its document; ``before`` is its
    :func:`field_payloads` at entry. Paths in ``before`` and ``applied`` are relative to
    ``model``.
    """

    __slots__ = ("model", "path", "before", "assigned", "applied", "written")

    def __init__(self, model: Any, path: tuple[str, ...], before: dict[tuple[str, ...], bytes]) -> None:
        self.model = model
        self.path = path
        self.before = before
        #: The places assigned with ``=`` (paths from the document's root).
        self.assigned: set[tuple[str, ...]] = set()
        #: The JSON of a value right after an operation changed it, in Redis and locally: its
        #: new baseline. The exit writes it only if it changed in place after that operation.
        self.applied: dict[tuple[str, ...], bytes] = {}
        #: What the exit writes (see :func:`lock_writes`): each value's path, relative to
        #: ``model``, and its JSON.
        self.written: list[tuple[tuple[str, ...], bytes]] = []

    def _touched(self, places: Iterable[tuple[str, ...]]) -> Iterator[tuple[tuple[str, ...], bytes]]:
        """Each value of ``model`` at or below one of ``places`` (from the document's root), with
        its JSON now."""
        depth = len(self.path)
        for place in places:
            if place[:depth] != self.path and self.path[: len(place)] != place:
                continue  # outside the locked model
            relative = place[depth:]
            for name in relative[:1] or field_specs(type(self.model)):  # () is the whole model
                for field, payload in field_payloads(self.model, only=name).items():
                    if _overlap(field, relative):
                        yield field, payload

    def write_starts(self, places: Iterable[tuple[str, ...]]) -> None:
        # (Called for the writes that change a value in Redis, not for those that replace it.)
        """A write of ``places`` is about to be sent: refused when the block changed one of their
        values locally (with ``=`` or in place) and has not written it yet. Redis would get the
        operation's change alone, and the local value, made of both, could not be kept equal to
        it."""
        for field, payload in self._touched(places):
            if payload != self.applied.get(field, self.before.get(field)):
                raise FieldStateError(
                    f"{_paths.json_path_for((*self.path, *field))} was changed locally in this lock() "
                    "block, and that change is written when the block exits: make the field "
                    "operation before the local change, or make the change with operations only"
                )

    def operation_applied(self, places: Iterable[tuple[str, ...]]) -> None:
        for field, payload in self._touched(places):
            self.applied[field] = payload


def write_starts(root: Any, fields: Iterable[tuple[str, ...]]) -> None:
    """Tell the ``lock()`` blocks open on ``root`` that a write of these paths is about to be sent
    (FieldStateError when one of them holds a local change of the block not yet written)."""
    for changes in root._rp_changes:
        changes.write_starts(fields)


def record_applied(root: Any, fields: Iterable[tuple[str, ...]]) -> None:
    """Tell the ``lock()`` blocks open on ``root`` which paths an operation changed."""
    for changes in root._rp_changes:
        changes.operation_applied(fields)


def field_parts(owner: Any, spec: FieldSpec) -> tuple[str, ...]:
    """The path of field ``spec`` of ``owner`` from its document's root, as field names."""
    return spec.parts if owner._rp_root is None else (*owner._rp_path, spec.name)


def nothing(replies: list[Any]) -> None:
    """``apply`` of an operation whose replies change nothing locally."""
    return None


# --------------------------------------------------------------------------- reply helpers


def text(reply: Any) -> str:
    """A reply as str, whether the client decodes responses or not."""
    if isinstance(reply, bytes):
        return reply.decode()
    return str(reply)


def unwrap_json(reply: Any, key: str) -> str | bytes | None:
    """The JSON text of the single match of a ``$`` path in a JSON.GET reply.

    ``None`` when the path matched nothing. RedisJSON answers ``[<value>]``, so the brackets are
    cut off without decoding the value twice.
    """
    if reply is None:
        raise KeyNotFoundError(key)
    if len(reply) <= 2:  # "[]"
        return None
    return reply[1:-1]


def first(reply: Any) -> Any:
    """The first element of a ``$``-path reply list."""
    if isinstance(reply, list):
        return reply[0] if reply else None
    return reply


def locate(model: Any) -> tuple[Any, tuple[str, ...]]:
    """The top-level stored model and the path of ``model`` inside its document."""
    root = getattr(model, "_rp_root", None)
    if root is None:
        return model, ()
    if root is False:
        raise not_attached(model)
    return root, model._rp_path


# --------------------------------------------------------------------------- whole documents


def mark_checked(model: Any, payload: Any) -> None:
    """Remember that ``payload`` (bytes) is a document JSON that fits ``model``'s class: read into
    the model, or validated before it was written. Only stored models (not nested ones) keep it:
    they alone have no root (read through the instance: a class attribute read goes through
    pydantic's metaclass ``__getattr__``, several times slower)."""
    if type(payload) is bytes and getattr(model, "_rp_root", False) is None:
        object.__setattr__(model, "_rp_checked", hash(payload))


def forget_checked(model: Any) -> None:
    """A value was assigned to ``model`` with ``=``: its next write checks it again."""
    if getattr(model, "_rp_checked", None) is not None:
        object.__setattr__(model, "_rp_checked", None)


def _unchanged_json(model: Any) -> bytes | None:
    """The JSON of ``model`` when it is the very document that was last read into it or checked
    before it was written, and nothing was assigned to it with ``=`` since; ``None`` otherwise.

    Such JSON is not checked again. (The checks serialize with pydantic's warnings as errors,
    which costs about twice a plain serialization, and validate the JSON.)
    """
    checked = getattr(model, "_rp_checked", None)
    if checked is None:
        return None
    try:
        payload: bytes = type(model).__pydantic_serializer__.to_json(model, warnings=False)
    except PydanticSerializationError:
        return None
    return payload if hash(payload) == checked else None


def _serialize(model: Any) -> bytes:
    cls = type(model)
    try:
        payload: bytes = cls.__pydantic_serializer__.to_json(model, warnings="error")
    except PydanticSerializationError as exc:
        d = model.__dict__
        for name, spec in field_specs(cls).items():
            if name in d:
                spec.dump_json_strict(d[name])  # raises for the field that is wrong
        raise not_serializable(cls.__name__, exc) from exc
    return payload


def _validate(model: Any, payload: bytes) -> tuple[bytes, Any]:
    """``payload`` (``model``'s JSON) read back as its class would read it: the JSON to write and
    the new instance.

    A validator may change values on the way (one that upper-cases a field, or computes one
    from others), when they were assigned with ``=``: then the JSON to write is the validated
    model's, what ``get()`` reads, and ``model`` takes its values.
    """
    cls = type(model)
    try:
        read_back = cls.__pydantic_validator__.validate_json(payload)
    except ValidationError as exc:
        raise FieldValidationError(cls.__name__, exc) from None
    if validators_may_change(cls):
        # The model takes the values get() reads even when their JSON is the same (an enum
        # member read back as its value with use_enum_values).
        payload = cls.__pydantic_serializer__.to_json(read_back, warnings=False)
        values = read_back.__dict__
        for spec in field_specs(cls).values():
            if spec.name in values:
                store_local(model, spec, values[spec.name])
    mark_checked(model, payload)
    return payload, read_back


def document_json_read_back(model: Any) -> tuple[bytes, Any]:
    """:func:`document_json`, and the model that ``get()`` would read from it (``None`` when it
    is the very document the model was read as: the model holds what it holds)."""
    payload = _unchanged_json(model)
    if payload is not None:
        return payload, None
    payload = _serialize(model)
    check_json_numbers(payload, type(model).__name__)
    return _validate(model, payload)


def adopt_read_back(model: Any, read_back: Any) -> None:
    """After ``model``'s JSON is written: make its values those of ``read_back``, what ``get()``
    reads from that JSON (see :func:`adopt_writes`)."""
    values = read_back.__dict__
    # Other values are what get() reads back already: an assignment stores a plain value, and
    # a scalar put into a list in place cannot change afterwards.
    for spec in read_back_specs(type(model)):
        if spec.name in values:
            store_local(model, spec, values[spec.name])


def document_json(model: Any) -> bytes:
    """The JSON of ``model``'s whole document, refused unless ``get()`` would read it back.

    Values assigned with ``=`` are not validated by pydantic (it only warns when serializing):
    a value of the wrong type, or one that breaks a constraint or a validator, raises
    :class:`FieldValidationError` here, and nothing is written. A stored model whose JSON is the
    very document it was read as (or last written as) is not validated again.
    """
    payload = _unchanged_json(model)
    if payload is not None:
        return payload
    payload = _serialize(model)
    check_json_numbers(payload, type(model).__name__)
    return _validate(model, payload)[0]


def documents_json(models: list[Any]) -> list[tuple[bytes, Any]]:
    """:func:`document_json_read_back` of each model (the same checks and errors), cheaper per
    model: the number check runs once over all the documents."""
    payloads: list[bytes] = []
    changed: list[int] = []
    for i, model in enumerate(models):
        payload = _unchanged_json(model)
        if payload is None:
            payload = _serialize(model)
            changed.append(i)
        payloads.append(payload)
    read_backs: list[Any] = [None] * len(models)
    if changed:
        # Documents end with "}": no number spans two.
        if not check_json_numbers_fast(b"".join([payloads[i] for i in changed])):
            for i in changed:
                check_json_numbers(payloads[i], type(models[i]).__name__)
        for i in changed:
            payloads[i], read_backs[i] = _validate(models[i], payloads[i])
    return list(zip(payloads, read_backs, strict=True))


#: The model that validate_into() is filling again: pydantic calls its model_post_init, which
#: must keep the model's state (see _base.post_init_state). The new nested models built on the
#: way are fresh instances and get theirs.
reloading: contextvars.ContextVar[Any] = contextvars.ContextVar("redis_pydantic.reloading", default=None)


def validate_into(model: Any, raw: str | bytes) -> None:
    """Validate the JSON document ``raw`` straight into ``model``, keeping its identity and binding.

    pydantic fills the existing instance (as ``__init__`` does), which is cheaper than building a
    second model and copying it over; the library's own per-instance state is kept, and so are
    the model's private attributes (``PrivateAttr``: local state, never stored), which pydantic
    would set back to their defaults.
    """
    # None when the class has no private attributes; unset before pydantic 2.13 on an instance
    # made by model_construct (a partial instance, or one find() read with only=...).
    private = getattr(model, "__pydantic_private__", None)
    token = reloading.set(model)
    try:
        type(model).__pydantic_validator__.validate_json(raw, self_instance=model)
    finally:
        reloading.reset(token)
        if private is not None:
            object.__setattr__(model, "__pydantic_private__", private)
    mark_checked(model, raw)  # (a stored model: the whole document)


def replace_fields(target: BaseModel, loaded: BaseModel) -> None:
    """Make ``target`` hold the field values of ``loaded``, in place."""
    target.__dict__.clear()
    target.__dict__.update(loaded.__dict__)
    object.__setattr__(target, "__pydantic_fields_set__", set(loaded.__pydantic_fields_set__))
    object.__setattr__(target, "__pydantic_extra__", loaded.__pydantic_extra__)


# --------------------------------------------------------------------------- where a field is


def not_attached(model: Any) -> NotAttachedError:
    """The error for an operation on a nested model that belongs to no stored document."""
    return NotAttachedError(
        f"this {type(model).__name__} is not attached to a stored model; reach it through "
        "the model's attribute (user.profile), not from a list, dict or copy"
    )


def current_owner(owner: Any, root: Any = False) -> Any:
    """The model that holds the field now: ``owner`` itself, or for a nested model that was
    replaced in its parent since it was read, the nested model now at its place.

    An operation through a value that is no longer the model's current field acts on the current
    field, so it never writes elsewhere and the local object stays equal to Redis. (``root``:
    ``owner._rp_root`` when the caller has read it.)
    """
    if root is False:
        root = getattr(owner, "_rp_root", False)
    if root is None:  # a top-level stored model: the common case
        return owner
    if root is False:
        raise not_attached(owner)
    path = owner._rp_path
    current = root
    try:  # the common case first: the very model sits at its place
        for name in path:
            current = current.__dict__[name]
    except (AttributeError, KeyError):  # something else is there now
        current = None
    if current is owner:
        return owner
    current = root
    try:
        for name in path:
            current = getattr(current, name)  # the descriptor binds (or rebinds) what it returns
    except AttributeError:  # a model above it was replaced by None (or something else)
        raise NotAttachedError(
            f"{_paths.json_path_for(path)} of the document at {root.key!r} is no longer in a model "
            "locally: a model that held it was replaced"
        ) from None
    if current is owner:
        return owner
    if not isinstance(current, BaseModel):
        path = _paths.json_path_for(owner._rp_path)
        raise NotAttachedError(
            f"{path} of the document at {root.key!r} holds {current!r} locally, not a model"
        )
    return current


def target(owner: Any, spec: FieldSpec) -> tuple[Any, Any, str, str, tuple[str, ...]]:
    """The current owner, the stored model, its key, and the JSON path and the path parts (see
    :func:`field_parts`) of field ``spec``."""
    root: Any = getattr(owner, "_rp_root", False)
    if root is None:  # a top-level stored model: the common case (its key is usually cached)
        return owner, owner, owner._rp_key or owner.key, spec.path, spec.parts
    current = current_owner(owner, root)
    if current is not owner:
        owner = current
        root = owner._rp_root
    prefix = owner._rp_json
    paths = spec.below.get(prefix) or spec.nested_paths(prefix, owner._rp_path)
    return owner, root, root._rp_key or root.key, paths[0], paths[1]


def current_container(owner: Any, spec: FieldSpec, kind: type) -> Any:
    """The list or dict the field holds now (bound to ``owner``), for in-place local changes."""
    try:
        value = owner.__dict__[spec.name]
    except KeyError:
        raise FieldNotLoadedError(
            f"{spec.qualname} is not loaded: call load() on it or on the model"
        ) from None
    if not isinstance(value, kind):
        raise FieldStateError(f"{spec.qualname} holds {value!r} locally, not a {kind.__name__}")
    if getattr(value, "_rp_owner", None) is not owner:
        value = getattr(owner, spec.name)  # the descriptor binds a copy to this owner
    return value


#: Values that are simply stored: no identity to keep, no model to fill in place.
_PLAIN_VALUES = frozenset({str, int, float, bool, bytes, type(None)})


def store_local(owner: Any, spec: FieldSpec, value: Any) -> None:
    """Put a value into the owner, keeping list/dict identity so held references stay live."""
    d = owner.__dict__
    name = spec.name
    if type(value) in _PLAIN_VALUES:  # the common case, without the checks below
        d[name] = value
        owner.__pydantic_fields_set__.add(name)
        return
    current = d.get(name)
    if isinstance(current, BaseModel) and type(current) is type(value):
        replace_fields(current, value)
    elif (
        isinstance(value, list | dict | set)
        and getattr(current, "_rp_owner", None) is owner
        and isinstance(current, type(value))
    ):
        # The bound container stays the same object: values read before stay live.
        kept: Any = current
        kept.clear()
        if isinstance(value, dict):
            dict.update(kept, value)
        elif isinstance(value, list):
            list.extend(kept, value)
        else:
            set.update(kept, value)
    else:
        d[name] = value
    owner.__pydantic_fields_set__.add(name)


# --------------------------------------------------------------------------- field operations

#: What ``prepare`` returns for an operation with nothing to do (``aextend([])``): no command is
#: sent, as ``list.extend([])`` changes nothing.
NOTHING: Any = object()

#: An operation on one field, ready to send: the current owner, the stored model, its key, the
#: JSON path and the path parts of the field, the field, the prepared argument, the local
#: container (list or dict) when the operation changes one in place, and the command.
Step = tuple[Any, Any, str, str, tuple[str, ...], FieldSpec, Any, Any, Command]


class FieldCommand:
    """An operation on one field that is one Redis command, described once.

    - ``prepare(spec, arg)`` validates the caller's argument, raising the typed error before
      anything is sent, and returns it prepared (or :data:`NOTHING`). ``None``: the argument
      is used as it is.
    - ``check_and_set(spec, prepared)`` is, for a field whose value must be validated whole
      (``spec.whole_checks``: bounds, validators), the change to make by check-and-set instead
      (see :func:`checked`); otherwise ``None``. ``None`` in place of the method: the
      operation never is one.
    - ``command(spec, key, path, prepared)`` is the command to send.
    - ``finish(step, reply)`` applies the command's reply locally and returns the operation's
      result, or a :class:`Then`.

    A face's ``run_field()`` sends the command at once when the model is stored and nothing else
    is needed; in every other case the operation runs as the :class:`Op` that :func:`field_op`
    builds (queued in ``pipeline()``, after creating the document, with the expiry refresh).
    """

    __slots__ = ()
    #: The operation's name in errors.
    what = ""
    access = Access.UPDATE
    #: Whether the result is a value read from Redis (it cannot be queued in ``pipeline()``).
    returns_value = False
    #: The container the field must hold locally (``list``/``dict``), changed in place.
    container: type | None = None
    #: The operation writes the field's whole value (see :attr:`Op.replaces`).
    replaces = False

    # Attributes, not methods, when there is nothing to do: every field operation asks, and
    # a test of None is cheaper than a call.
    prepare: Callable[[FieldSpec, Any], Any] | None = None
    check_and_set: Callable[[FieldSpec, Any], Callable[[Any], tuple[Any, Any]] | None] | None = None

    def change(self, prepared: Any) -> Callable[[Any], tuple[Any, Any]]:
        """The operation as a change of the field's current value, for a check-and-set: the new
        value and the result (see :func:`checked`)."""
        raise NotImplementedError

    def command(self, spec: FieldSpec, key: str, path: str, prepared: Any) -> Command:
        raise NotImplementedError

    def finish(self, step: Step, reply: Any) -> Any:
        raise NotImplementedError


def field_step(kind: FieldCommand, owner: Any, spec: FieldSpec, arg: Any) -> Step | Op | None:
    """Operation ``kind`` with ``arg`` on field ``spec`` of ``owner``: a :data:`Step`, or the
    check-and-set :class:`Op` (fields validated whole), or ``None`` when there is nothing to do."""
    prepare = kind.prepare
    if prepare is None:
        prepared = arg
    elif spec.model_checks:  # (validators may read the model's other fields: see values_of)
        with values_of(owner):
            prepared = prepare(spec, arg)
    else:
        prepared = prepare(spec, arg)
    if prepared is NOTHING:
        return None
    if getattr(owner, "_rp_root", False) is None:  # target()'s common case, without its call
        root, key, path, parts = owner, owner._rp_key or owner.key, spec.path, spec.parts
        # validated_with_model(), without its call: every write asks.
        whole = spec.model_checks and kind.access is not _READ
    else:
        owner, root, key, path, parts = target(owner, spec)
        whole = (spec.model_checks or (owner is not root and owner._rp_guard)) and kind.access is not _READ
    if whole:
        change = kind.change(prepared)
    elif kind.check_and_set is None:
        change = None
    else:
        change = kind.check_and_set(spec, prepared)
    if change is not None:
        op = checked(owner, spec, kind.what, change, returns_value=kind.returns_value, with_model=whole)
        if kind.replaces:
            op.replaces = True
        return op
    container = None if kind.container is None else current_container(owner, spec, kind.container)
    return owner, root, key, path, parts, spec, prepared, container, kind.command(spec, key, path, prepared)


def refuse_before_create(kind: FieldCommand, step: Step) -> None:
    """For the first write of a never-saved model: raise now what the operation would raise on
    the document that it creates from the local values (``apop`` of an empty list, of a key
    the dict does not hold, a sum beyond 64 bits).

    The document is created in the same atomic step as the operation, and Redis does not roll
    back: refused after it, the operation would leave behind a document that it created.
    """
    owner, root, spec, prepared = step[0], step[1], step[5], step[6]
    current = owner.__dict__.get(spec.name, NOTHING)
    if current is NOTHING or root._rp_missing_required():  # no document is created from it
        return
    new, _ = kind.change(prepared)(current)
    spec.dump_json(new)  # (numbers that JSON or RedisJSON cannot hold)


def step_op(kind: FieldCommand, step: Step) -> Op:
    """``step`` as an :class:`Op`."""

    def apply(replies: list[Any]) -> Any:
        return kind.finish(step, replies[0])

    op = (ValueOp if kind.returns_value else Op)(
        step[1], [step[8]], apply, kind.what, (step[4],), kind.access
    )
    if kind.replaces:
        op.replaces = True
    return op


def field_op(kind: FieldCommand, owner: Any, spec: FieldSpec, arg: Any = None) -> Op | None:
    """Operation ``kind`` with ``arg`` on field ``spec`` of ``owner``, as an :class:`Op`."""
    step = field_step(kind, owner, spec, arg)
    if type(step) is tuple:
        return step_op(kind, step)
    return step  # type: ignore[return-value]


def _not_written(step: Step, reply: Any, what: str = "cannot be written") -> None:
    if reply is None:
        raise RedisCommandError(f"{step[3]} {what} in the document at {step[2]!r}")


# --------------------------------------------------------------------------- scalar fields


class _SetField(FieldCommand):
    __slots__ = ()
    what = "set"
    replaces = True
    prepare = staticmethod(FieldSpec.validate)

    def change(self, prepared: Any) -> Callable[[Any], tuple[Any, Any]]:
        return lambda current: (prepared, None)

    def command(self, spec: FieldSpec, key: str, path: str, prepared: Any) -> Command:
        return ("JSON.SET", key, path, spec.dump_json(prepared))

    def finish(self, step: Step, reply: Any) -> None:
        if reply is None:
            _not_written(step, reply)
        store_local(step[0], step[5], step[6])


class _LoadField(FieldCommand):
    __slots__ = ()
    what = "load"
    access = Access.READ

    def command(self, spec: FieldSpec, key: str, path: str, prepared: Any) -> Command:
        return ("JSON.GET", key, path)

    def finish(self, step: Step, reply: Any) -> Any:
        owner, _, key, path, _, spec, _, _, _ = step
        raw = unwrap_json(reply, key)
        if raw is None:
            if owner is not step[1]:  # a nested model's field: is the nested model still there?
                return Then(_missing_member(step), READ_RESULT)
            value = _missing_field_value(owner, spec, key, path)
        else:
            try:
                if spec.model_checks:  # (validators may read the model's other fields)
                    with values_of(owner):
                        value = spec.load_json(raw)
                else:
                    value = spec.load_json(raw)
            except ValidationError as exc:
                raise DocumentValidationError(key, exc, f"field {path}") from None
        store_local(owner, spec, value)
        return getattr(owner, spec.name)


def _missing_field_value(owner: Any, spec: FieldSpec, key: str, path: str) -> Any:
    """The value of a field that the document does not hold (written before the field was added
    to the model): its default, or KeyNotFoundError for a required field."""
    info = type(owner).__pydantic_fields__[spec.name]
    if info.is_required():
        raise KeyNotFoundError(key, f"the document at {key!r} has no field {path}")
    return info.get_default(call_default_factory=True)


def _type_names(reply: Any) -> list[str]:
    """The type names of a ``JSON.TYPE key <$ path>`` reply (flat in RESP2, nested in RESP3)."""
    names: list[str] = []
    for item in reply if isinstance(reply, list) else [reply]:
        if isinstance(item, list):
            names += _type_names(item)
        elif item is not None:
            names.append(item.decode() if isinstance(item, bytes) else str(item))
    return names


def _missing_member(step: Step) -> Op:
    """A nested model's field that the document does not hold: the field's default when the
    nested model is there as an object (a field added later), else RedisCommandError and no
    local change (another client set the nested model to null, or replaced it)."""
    owner, root, key, path, parts, spec, _, _, _ = step
    holder = _paths.json_path_for(parts[:-1])

    def apply(replies: list[Any]) -> Any:
        if _type_names(replies[0])[:1] != ["object"]:
            raise RedisCommandError(
                f"{path} cannot be read: {holder} does not hold an object in the document at {key!r} "
                "(another client changed it)"
            )
        store_local(owner, spec, _missing_field_value(owner, spec, key, path))
        return getattr(owner, spec.name)

    return ValueOp(root, [("JSON.TYPE", key, holder)], apply, what="load", access=Access.READ)


class _Increase(FieldCommand):
    __slots__ = ()
    what = "aincrease"
    returns_value = True

    def prepare(self, spec: FieldSpec, arg: Any) -> Any:
        # An int amount for an int field passes validate_amount() as it is: not worth its call.
        if spec.kind != INT or type(arg) is not int or not INT64_MIN <= arg <= INT64_MAX:
            return spec.validate_amount(arg)
        return arg

    def check_and_set(self, spec: FieldSpec, prepared: Any) -> Callable[[Any], tuple[Any, Any]] | None:
        if spec.kind == DECIMAL or spec.whole_checks:
            # Decimals are stored as exact JSON strings, which JSON.NUMINCRBY cannot add to;
            # bounds (ge=0...) are checked on the sum before it is written.
            return self.change(prepared)
        return None

    def change(self, prepared: Any) -> Callable[[Any], tuple[Any, Any]]:
        return lambda current: (_exact_sum(current, prepared), _NEW_VALUE)

    def command(self, spec: FieldSpec, key: str, path: str, prepared: Any) -> Command:
        return ("JSON.NUMINCRBY", key, path, prepared)

    def finish(self, step: Step, reply: Any) -> Any:
        owner, root, key, path, _, spec, amount, _, _ = step
        if spec.kind == INT:
            new: Any = None
            # The common replies first: [n] (Redis 8), the JSON text b"[n]" (Redis 7).
            if type(reply) is list:
                if len(reply) == 1 and type(reply[0]) is int:
                    new = reply[0]
            elif type(reply) is bytes and reply[:1] == b"[":
                try:
                    new = int(reply[1:-1])
                except ValueError:
                    pass
            if new is None:
                new = _sum_of(reply, key, path, True)
            if type(new) is not int or not INT64_MIN <= new - amount <= INT64_MAX:
                # Past the 64-bit range RedisJSON wraps around (fakeredis turns to a float).
                return Then(_overflow(spec, root, key, path, amount, new), READ_RESULT)
            # A plain int field (no bound, no validator: those go by check-and-set) holds the
            # int as it is: no validator call.
            store_local(owner, spec, new)
            return new
        new = _sum_of(reply, key, path, False)
        if not math.isfinite(new):  # fakeredis (Redis refuses such a sum)
            raise RedisCommandError(f"{path} would not be a finite number in the document at {key!r}")
        value = spec.load_python(new)
        store_local(owner, spec, value)
        return value


#: Adds Decimals exactly: no rounding to the default context's 28 digits.
_EXACT_DECIMALS = decimal.Context(prec=decimal.MAX_PREC, Emax=decimal.MAX_EMAX, Emin=decimal.MIN_EMIN)


def _exact_sum(current: Any, amount: Any) -> Any:
    """``current + amount``; exact for a Decimal (the sum keeps every digit of both)."""
    if isinstance(current, decimal.Decimal):
        return _EXACT_DECIMALS.add(current, decimal.Decimal(amount))
    return current + amount


SET_FIELD = _SetField()
LOAD_FIELD = _LoadField()
INCREASE = _Increase()


def _sum_of(reply: Any, key: str, path: str, is_int: bool) -> Any:
    """The new number in a ``JSON.NUMINCRBY`` reply, whatever its form."""
    if isinstance(reply, bytes | str):  # RESP2 (and scripts) answer the JSON text "[n]"
        reply = json.loads(reply)
    new = first(reply)
    if new is None:
        raise RedisCommandError(f"{path} is not a number in the document at {key!r}")
    if isinstance(new, bytes | str):  # fakeredis answers [b"37"]
        new = json.loads(new)
    if is_int and type(new) is float and new.is_integer() and abs(new) <= 2**53:
        new = int(new)  # fakeredis may answer an integer sum as a float
    return new


#: The result of a checked operation that returns the field's new value (``aincrease``).
_NEW_VALUE: Any = object()


def _read_one(reply: Any, key: str, path: str) -> str:
    """The JSON text of the value at ``path`` from ``JSON.GET key <path> <path>``.

    Asking for the path twice gets ``{path: [matches]}``, the same from every RedisJSON (and
    fakeredis), whatever the value.
    """
    if reply is None:
        raise KeyNotFoundError(key)
    matches = json.loads(reply).get(path) or [None]
    if matches[0] is None:
        raise RedisCommandError(f"{path} holds no value to change in the document at {key!r}")
    return json.dumps(matches[0])


def checked(
    owner: Any,
    spec: FieldSpec,
    what: str,
    change: Callable[[Any], tuple[Any, Any]],
    *,
    returns_value: bool = False,
    with_model: bool = False,
) -> Op:
    """A check-and-set operation on the field ``spec`` of ``owner``.

    The executor watches the document, reads the field, and ``change(current)`` gives the new
    value and the operation's result. The new value is validated whole, as the field validates
    it (constraints, validators), and written only if nobody changed the document since it was
    read; otherwise the executor reads and tries again. A value that the model could not read
    back is therefore never written. ``with_model``: the whole document is read, and validated
    with the new value as the model (model validators: see :func:`validated_with_model`).
    """
    if with_model:

        def compute(text: str | None) -> tuple[bytes, Any, Any]:
            # A field the document does not hold (added to the model later) has its default.
            current = _missing_field_value(owner, spec, key, path) if text is None else spec.load_json(text)
            new, result = change(current)
            with values_of(owner):
                validated = spec.validate(new)
            return spec.dump_json(validated), validated, validated if result is _NEW_VALUE else result

        def store(value: Any) -> None:
            store_local(owner, spec, value)

        owner, root, key, path, parts = target(owner, spec)
        return checked_document(root, what, [(parts, path, compute, store)], returns_value=returns_value)
    owner, root, key, path, parts = target(owner, spec)
    outcome: list[Any] = []

    def decide(reply: Any) -> list[Command]:
        current = spec.load_json(_read_one(reply, key, path))
        new, result = change(current)
        validated = spec.validate(new)
        outcome[:] = [validated, validated if result is _NEW_VALUE else result]
        return [("JSON.SET", key, path, spec.dump_json(validated), "XX")]

    def apply(replies: list[Any]) -> Any:
        if replies[0] is None:
            raise RedisCommandError(f"{path} cannot be written in the document at {key!r}")
        store_local(owner, spec, outcome[0])
        return outcome[1]

    return Op(root, [], apply, what=what, fields=(parts,)).having(
        returns_value=returns_value, optimistic=Optimistic(key, ("JSON.GET", key, path, path), decide, parts)
    )


#: One value written by :func:`checked_document`: its path parts and JSON path, ``compute(text)``
#: that gives its JSON, its local value and the operation's result from the JSON text of its
#: current value (``None`` when it has none), and ``store(local)`` that sets it locally.
Placement = tuple[tuple[str, ...], str, Callable[[str | None], tuple[bytes, Any, Any]], Callable[[Any], None]]


def checked_document(root: Any, what: str, places: list[Placement], *, returns_value: bool = False) -> Op:
    """A check-and-set of values of ``root``'s document, validated with the whole model.

    The executor watches the document and reads it whole; each value's new JSON is computed from
    the current one and set into the document, and the document must then validate as the
    model (its model validators included) before anything is written: FieldValidationError
    otherwise, nothing written. The values are written in one JSON.MSET, only if nobody changed
    the document since it was read, with the values that the model's validators changed on the
    way (see :func:`validated_writes`). The result is that of the first value.
    """
    cls = type(root)
    key = root._rp_key or root.key
    outcome: list[tuple[Any, Any]] = []
    written: list[Any] = []  # the places written, and the validated model

    def decide(reply: Any) -> list[Command]:
        document = _document_of(reply, key)
        outcome.clear()
        writes: dict[tuple[str, ...], bytes] = {}
        for parts, path, compute, _ in places:
            holder = _holder(document, parts)
            if holder is None:
                raise RedisCommandError(f"{path} cannot be written in the document at {key!r}")
            name = parts[-1]
            payload, local, result = compute(json.dumps(holder[name]) if name in holder else None)
            holder[name] = json.loads(payload)
            outcome.append((local, result))
            writes[parts] = payload
        names = ", ".join(_paths.json_path_for(place[0]) for place in places)
        final, validated = validated_writes(cls, document, writes, f"{cls.__name__} with the new {names}")
        written[:] = [list(final), validated]
        args: list[Any] = ["JSON.MSET"]
        for place, payload in final.items():
            args += (key, _paths.json_path_for(place), payload)
        return [tuple(args)]

    def apply(replies: list[Any]) -> Any:
        for (_, _, _, store), (local, _) in zip(places, outcome, strict=True):
            store(local)
        adopt_validated(root, written[1], written[0])
        return outcome[0][1] if outcome else None

    return Op(root, [], apply, what=what, fields=tuple(place[0] for place in places)).having(
        returns_value=returns_value, optimistic=Optimistic(key, ("JSON.GET", key, "$"), decide)
    )


def _document_of(reply: Any, key: str) -> Any:
    """The parsed document of a ``JSON.GET key $`` reply (KeyNotFoundError when there is none)."""
    text = unwrap_json(reply, key)
    if text is None:
        raise KeyNotFoundError(key)
    return json.loads(text)


def _holder(document: Any, parts: tuple[str, ...]) -> dict[str, Any] | None:
    """The object of the parsed ``document`` that holds the place ``parts`` (``None`` when a model
    on the way is not there, for example set to null by another client)."""
    holder = document
    for name in parts[:-1]:
        holder = holder.get(name) if isinstance(holder, dict) else None
    return holder if isinstance(holder, dict) else None


def validated_writes(
    cls: type[BaseModel], document: Any, writes: dict[tuple[str, ...], bytes], what: str
) -> tuple[dict[tuple[str, ...], bytes], Any]:
    """``writes`` (JSON by place), already made in the parsed ``document``, checked by validating
    the document as ``cls`` (model validators included): FieldValidationError when it does not
    validate.

    Validators may change values on the way (a ``mode="after"`` validator that upper-cases a
    field, a ``mode="before"`` one that computes a field from others). ``get()`` would show the
    changed values, so they are written too: the result holds ``writes`` and each place whose
    validated value differs from the document's, as the validated model's JSON. A place inside
    one of ``writes`` changes the JSON of that write; one that holds some of ``writes`` replaces
    them. The validated model comes with them: what ``get()`` reads once they are written.
    """
    try:
        validated = cls.__pydantic_validator__.validate_json(json.dumps(document))
    except ValidationError as exc:
        raise FieldValidationError(what, exc) from None
    changed: dict[tuple[str, ...], bytes] = {}
    _changed_by_validation(validated, document, (), changed)
    if not changed:
        return writes, validated
    final = dict(writes)
    for place, payload in changed.items():
        outer = next((w for w in writes if place[: len(w)] == w), None)
        if outer is not None:
            final[outer] = _payload_at(validated, outer)
            continue
        for inner in [w for w in final if w[: len(place)] == place]:
            del final[inner]
        final[place] = payload
    return final, validated


def adopt_validated(root: Any, validated: Any, places: Iterable[tuple[str, ...]]) -> None:
    """After the values at ``places`` of ``root``'s document are written: make each local value
    the one of ``validated``, the model that ``get()`` reads from the document (a fresh instance:
    its values are nobody else's). Validators that read other fields, or change values, are
    then what they are in ``get()``."""
    for place in places:
        owner: Any = root
        value: Any = validated
        for name in place[:-1]:
            owner = owner.__dict__.get(name)
            value = value.__dict__.get(name)
        name = place[-1]
        if isinstance(owner, BaseModel) and isinstance(value, BaseModel) and name in value.__dict__:
            store_local(owner, field_specs(type(owner))[name], value.__dict__[name])


def _changed_by_validation(
    model: Any, stored: dict[str, Any], prefix: tuple[str, ...], out: dict[tuple[str, ...], bytes]
) -> None:
    """Into ``out``: the places below ``prefix`` whose value in the validated ``model`` is not the
    one the parsed document ``stored`` holds, with the model's JSON of it (nested models are
    compared field by field)."""
    d = model.__dict__
    for name, spec in field_specs(type(model)).items():
        if name not in stored or name not in d:
            continue  # a field the document lacks reads as its default every time
        value = d[name]
        if spec.kind == MODEL and isinstance(value, BaseModel) and isinstance(stored[name], dict):
            _changed_by_validation(value, stored[name], (*prefix, name), out)
            continue
        payload = spec.dump_json(value)
        if json.loads(payload) != stored[name]:
            out[(*prefix, name)] = payload


def _payload_at(model: Any, place: tuple[str, ...]) -> bytes:
    """The JSON of the value at ``place`` of ``model``, as its field writes it."""
    owner = model
    for name in place[:-1]:
        owner = owner.__dict__[name]
    spec: FieldSpec = field_specs(type(owner))[place[-1]]
    return spec.dump_json(owner.__dict__[place[-1]])


def holders_have_model_validators(root: Any, path: tuple[str, ...]) -> bool:
    """Whether one of the models that hold the place ``path`` of ``root``'s document (``root``
    and the models nested on the way, not the value at ``path``) has model validators."""
    model = root
    for name in path:
        if has_model_validators(type(model)):
            return True
        model = model.__dict__.get(name)
        if model is None:
            return False
    return False


def validated_with_model(owner: Any, root: Any, spec: FieldSpec) -> bool:
    """Whether a write of field ``spec`` of ``owner`` (in ``root``'s document) must be validated
    with the whole document: the model that holds it, or one that holds that model, has model
    validators (``@model_validator``), which may check the field together with others."""
    return spec.model_checks or (owner is not root and owner._rp_guard)


def _overflow(spec: FieldSpec, root: Any, key: str, path: str, amount: int, new: int) -> Op:
    """RedisJSON wrapped a 64-bit integer around: take the amount back off, then refuse."""

    def apply(replies: list[Any]) -> None:
        bound = {"le": INT64_MAX} if amount > 0 else {"ge": INT64_MIN}
        kind = "less_than_equal" if amount > 0 else "greater_than_equal"
        error = ValidationError.from_exception_data(
            spec.qualname, [{"type": kind, "loc": (), "input": int(new) - amount, "ctx": bound}]
        )
        raise FieldValidationError(f"{spec.qualname} (aincrease)", error, "a 64-bit integer")

    # NUMINCRBY wraps around both ways, so subtracting the amount restores the value exactly,
    # whatever other clients added meanwhile.
    return Op(root, [("JSON.NUMINCRBY", key, path, -amount)], apply, access=Access.WRITE)


# -- lists ---------------------------------------------------------------------------------


def _length_matches(step: Step, expected: int, reply: Any) -> bool:
    new_len = reply[0] if type(reply) is list and reply else first(reply)  # [n]: the common reply
    if new_len is None:
        raise RedisCommandError(f"{step[3]} is not a list in the document at {step[2]!r}")
    return bool(new_len == expected)


def _reread(owner: Any, spec: FieldSpec, result: Any = None) -> Then:
    """Redis made the change, but the local value was out of date: read the field again."""
    return Then(field_op(LOAD_FIELD, owner, spec), result)  # type: ignore[arg-type]


class _ContainerCommand(FieldCommand):
    """An operation that changes the list or dict of its field in place (``container``)."""

    __slots__ = ()

    def check_and_set(self, spec: FieldSpec, prepared: Any) -> Callable[[Any], tuple[Any, Any]] | None:
        return self.change(prepared) if spec.whole_checks else None

    def change(self, prepared: Any) -> Callable[[Any], tuple[Any, Any]]:
        """The check-and-set change: the new container and the result, from the current one."""
        raise NotImplementedError


class _ListCommand(_ContainerCommand):
    __slots__ = ()
    container = list


class _ListAppend(_ListCommand):
    __slots__ = ()
    what = "aappend"
    prepare = staticmethod(FieldSpec.validate_item)

    def change(self, prepared: Any) -> Callable[[Any], tuple[Any, Any]]:
        return lambda current: ([*current, prepared], None)

    def command(self, spec: FieldSpec, key: str, path: str, prepared: Any) -> Command:
        return ("JSON.ARRAPPEND", key, path, spec.dump_item_json(prepared))

    def finish(self, step: Step, reply: Any) -> Any:
        lst = step[7]
        if not _length_matches(step, len(lst) + 1, reply):
            return _reread(step[0], step[5])
        list.append(lst, step[6])
        return None


class _ListExtend(_ListCommand):
    __slots__ = ()
    what = "aextend"

    def prepare(self, spec: FieldSpec, arg: Any) -> Any:
        return spec.validate_items(arg) or NOTHING

    def change(self, prepared: Any) -> Callable[[Any], tuple[Any, Any]]:
        return lambda current: ([*current, *prepared], None)

    def command(self, spec: FieldSpec, key: str, path: str, prepared: Any) -> Command:
        return ("JSON.ARRAPPEND", key, path, *spec.dump_items_json(prepared))

    def finish(self, step: Step, reply: Any) -> Any:
        lst, items = step[7], step[6]
        if not _length_matches(step, len(lst) + len(items), reply):
            return _reread(step[0], step[5])
        list.extend(lst, items)
        return None


#: Any index at least this far from 0 inserts at an end of every list.
_INSERT_BOUND = 2**62


def _check_index(index: Any) -> None:
    if not isinstance(index, int) or isinstance(index, bool):
        raise TypeError(f"list indices must be integers, not {type(index).__name__}")


class _ListInsert(_ListCommand):
    """``arg``: ``(index, item)``."""

    __slots__ = ()
    what = "ainsert"

    def prepare(self, spec: FieldSpec, arg: Any) -> Any:
        index, item = arg
        _check_index(index)
        # Past either end list.insert clamps: an index beyond what a list can hold means the same.
        index = max(-_INSERT_BOUND, min(int(index), _INSERT_BOUND))
        return index, spec.validate_item(item)

    def change(self, prepared: Any) -> Callable[[Any], tuple[Any, Any]]:
        index, item = prepared

        def insert(current: list[Any]) -> tuple[list[Any], None]:
            new = list(current)
            new.insert(index, item)
            return new, None

        return insert

    def command(self, spec: FieldSpec, key: str, path: str, prepared: Any) -> Command:
        index, item = prepared
        payload = spec.dump_item_json(item)
        if index == 0:
            return ("JSON.ARRINSERT", key, path, 0, payload)
        return ScriptCall(_scripts.LIST_INSERT, (key,), (path, index, payload))

    def finish(self, step: Step, reply: Any) -> Any:
        lst = step[7]
        if not _length_matches(step, len(lst) + 1, reply):
            return _reread(step[0], step[5])
        list.insert(lst, *step[6])
        return None


class _ListPop(_ListCommand):
    """``arg``: the index."""

    __slots__ = ()
    what = "apop"
    returns_value = True

    def prepare(self, spec: FieldSpec, arg: Any) -> Any:
        _check_index(arg)
        return arg

    def change(self, prepared: Any) -> Callable[[Any], tuple[Any, Any]]:
        def pop(current: list[Any]) -> tuple[list[Any], Any]:
            if not current:
                raise IndexError("pop from empty list")
            if not -len(current) <= prepared < len(current):
                raise IndexError("pop index out of range")
            new = list(current)
            return new, new.pop(prepared)

        return pop

    def command(self, spec: FieldSpec, key: str, path: str, prepared: Any) -> Command:
        if prepared in (-1, 0):  # always in range unless the list is empty: JSON.ARRPOP itself
            return ("JSON.ARRPOP", key, path, prepared)
        # Python's IndexError for an index out of range (ARRPOP would clamp it)
        return ScriptCall(_scripts.LIST_POP, (key,), (path, prepared))

    def finish(self, step: Step, reply: Any) -> Any:
        owner, root, key, path, _, spec, index, lst, command = step
        if type(command) is tuple:
            raw = first(reply)
            if raw is None:
                # [nil] is both "empty list" and "not a list"; nothing was written, so a read
                # tells them apart.
                return Then(_pop_failure(root, key, path), READ_RESULT)
        else:
            if reply[0] == 0:
                raise IndexError(text(reply[1]))
            raw = reply[1]
        try:
            item = spec.load_item_json(raw)
        except ValidationError as exc:
            return Then(_put_back(root, key, path, _reinsert(key, path, index, raw), exc), READ_RESULT)
        try:
            local_ok = lst[index] == item
        except IndexError:
            local_ok = False
        if not local_ok:
            return _reread(owner, spec, item)
        list.pop(lst, index)
        return item


def _reinsert(key: str, path: str, index: int, raw: Any) -> Command:
    """The command that puts an item popped from ``index`` back where it was."""
    if index == -1:
        return ("JSON.ARRAPPEND", key, path, raw)
    # After the pop the list is one shorter: a negative index moves one step to the right.
    return ("JSON.ARRINSERT", key, path, index if index >= 0 else index + 1, raw)


def _put_back(root: Any, key: str, path: str, command: Command, error: ValidationError) -> Op:
    """Redis removed an item that the model cannot read (another program wrote it): put it back,
    then raise the typed error naming the document."""

    def apply(replies: list[Any]) -> None:
        raise DocumentValidationError(key, error, f"item of {path}")

    return Op(root, [command], apply, access=Access.WRITE, what="apop")


def _pop_failure(root: Any, key: str, path: str) -> Op:
    """A read that raises the right error for a JSON.ARRPOP that popped nothing."""

    def apply(replies: list[Any]) -> None:
        kind = first(first(replies[0]))
        if kind in (b"array", "array"):
            raise IndexError("pop from empty list")
        raise RedisCommandError(f"{path} is not a list in the document at {key!r}")

    return Op(root, [("JSON.TYPE", key, path)], apply, access=Access.READ, what="apop")


class _Clear(_ContainerCommand):
    """``aclear()`` of a list or dict field: the empty container stays at the path."""

    __slots__ = ("container", "empty")
    what = "aclear"
    replaces = True

    def __init__(self, container: type[list[Any]] | type[dict[Any, Any]]) -> None:
        self.container = container
        self.empty = b"[]" if container is list else b"{}"

    def change(self, prepared: Any) -> Callable[[Any], tuple[Any, Any]]:
        make = self.container
        assert make is not None
        return lambda current: (make(), None)

    def command(self, spec: FieldSpec, key: str, path: str, prepared: Any) -> Command:
        return ("JSON.SET", key, path, self.empty)

    def finish(self, step: Step, reply: Any) -> None:
        _not_written(step, reply)
        step[7].clear()
        step[0].__pydantic_fields_set__.add(step[5].name)


LIST_APPEND = _ListAppend()
LIST_EXTEND = _ListExtend()
LIST_INSERT = _ListInsert()
LIST_POP = _ListPop()
CLEAR_LIST = _Clear(list)
CLEAR_DICT = _Clear(dict)


# -- dicts ---------------------------------------------------------------------------------


class _DictCommand(_ContainerCommand):
    __slots__ = ()
    container = dict


class _DictSetItem(_DictCommand):
    """``arg``: ``(key, value)``."""

    __slots__ = ()
    what = "aset_item"

    def prepare(self, spec: FieldSpec, arg: Any) -> Any:
        item_key, value = arg
        item_key, member = spec.validate_key(item_key)
        return item_key, member, spec.validate_item(value)

    def change(self, prepared: Any) -> Callable[[Any], tuple[Any, Any]]:
        item_key, _, value = prepared
        return lambda current: ({**current, item_key: value}, None)

    def command(self, spec: FieldSpec, key: str, path: str, prepared: Any) -> Command:
        _, member, value = prepared
        payload = spec.dump_item_json(value)
        segment = _paths.member_segment(member)
        if segment is not None:
            return ("JSON.SET", key, path + segment, payload)
        return ScriptCall(DICT_OPS, (key,), ("set", path, member, payload))

    def finish(self, step: Step, reply: Any) -> None:
        _not_written(step, reply, "is not a dict")
        item_key, _, value = step[6]
        dict.__setitem__(step[7], item_key, value)
        step[0].__pydantic_fields_set__.add(step[5].name)


class _DictUpdate(_DictCommand):
    """``arg``: a mapping of two items or more (one item is :data:`DICT_SET_ITEM`)."""

    __slots__ = ()
    what = "aupdate"

    def prepare(self, spec: FieldSpec, arg: Any) -> Any:
        validated, members = spec.validate_dict_items(arg)
        return (validated, members) if validated else NOTHING

    def change(self, prepared: Any) -> Callable[[Any], tuple[Any, Any]]:
        validated = prepared[0]
        return lambda current: ({**current, **validated}, None)

    def command(self, spec: FieldSpec, key: str, path: str, prepared: Any) -> Command:
        validated, members = prepared
        # Not JSON.MSET: it answers OK and writes nothing when the path no longer holds an
        # object, which would leave the local dict ahead of Redis. The script checks and
        # refuses. Its arguments: "set", the path, then each item's member name and JSON (filled
        # by slice assignment, which also checks that the two lists have the same length).
        pairs: list[Any] = [None] * (2 * len(members))
        pairs[0::2] = members
        pairs[1::2] = spec.dump_items_json(validated.values())
        return ScriptCall(DICT_OPS, (key,), ("set", path, *pairs))

    def finish(self, step: Step, reply: Any) -> None:
        _not_written(step, reply, "is not a dict")
        dict.update(step[7], step[6][0])
        step[0].__pydantic_fields_set__.add(step[5].name)


_MISSING: Any = object()


class _DictPop(_DictCommand):
    """``arg``: ``(key, default)``, ``default`` :data:`_MISSING` for none."""

    __slots__ = ()
    what = "apop"
    returns_value = True

    def prepare(self, spec: FieldSpec, arg: Any) -> Any:
        item_key, default = arg
        return (*spec.validate_key(item_key), default)

    def change(self, prepared: Any) -> Callable[[Any], tuple[Any, Any]]:
        item_key, _, default = prepared

        def pop(current: dict[Any, Any]) -> tuple[dict[Any, Any], Any]:
            if item_key not in current:
                if default is _MISSING:
                    raise KeyError(item_key)
                return current, default
            new = dict(current)
            return new, new.pop(item_key)

        return pop

    def command(self, spec: FieldSpec, key: str, path: str, prepared: Any) -> Command:
        return ScriptCall(DICT_OPS, (key,), ("pop", path, prepared[1]))

    def finish(self, step: Step, reply: Any) -> Any:
        _, root, key, path, _, spec, (item_key, member, default), d, _ = step
        if reply[0] == 0:
            if default is _MISSING:
                raise KeyError(item_key)
            d.pop(item_key, None)
            return default
        try:
            value = spec.load_item_json(reply[1])
        except ValidationError as exc:
            restore = ScriptCall(DICT_OPS, (key,), ("set", path, member, reply[1]))
            return Then(_put_back(root, key, path, restore, exc), READ_RESULT)
        d.pop(item_key, None)
        return value


class _DictDel(_DictCommand):
    """``arg``: the key."""

    __slots__ = ()
    what = "adel_item"

    def prepare(self, spec: FieldSpec, arg: Any) -> Any:
        return spec.validate_key(arg)

    def change(self, prepared: Any) -> Callable[[Any], tuple[Any, Any]]:
        item_key = prepared[0]

        def delete(current: dict[Any, Any]) -> tuple[dict[Any, Any], None]:
            if item_key not in current:
                raise KeyError(item_key)
            return {k: v for k, v in current.items() if k != item_key}, None

        return delete

    def command(self, spec: FieldSpec, key: str, path: str, prepared: Any) -> Command:
        return ScriptCall(DICT_OPS, (key,), ("pop", path, prepared[1]))

    def finish(self, step: Step, reply: Any) -> None:
        if reply[0] == 0:
            raise KeyError(step[6][0])
        step[7].pop(step[6][0], None)


class _DictPopitem(_DictCommand):
    __slots__ = ()
    what = "apopitem"
    returns_value = True

    def change(self, prepared: Any) -> Callable[[Any], tuple[Any, Any]]:
        def popitem(current: dict[Any, Any]) -> tuple[dict[Any, Any], tuple[Any, Any]]:
            if not current:
                raise KeyError("popitem(): dictionary is empty")
            new = dict(current)
            return new, new.popitem()

        return popitem

    def command(self, spec: FieldSpec, key: str, path: str, prepared: Any) -> Command:
        return ScriptCall(DICT_OPS, (key,), ("popitem", path))

    def finish(self, step: Step, reply: Any) -> Any:
        _, root, key, path, _, spec, _, d, _ = step
        if reply[0] == 0:
            raise KeyError("popitem(): dictionary is empty")
        try:
            popped = spec.load_key(text(reply[1]))
            value = spec.load_item_json(reply[2])
        except ValidationError as exc:
            restore = ScriptCall(DICT_OPS, (key,), ("set", path, text(reply[1]), reply[2]))
            return Then(_put_back(root, key, path, restore, exc), READ_RESULT)
        d.pop(popped, None)
        return popped, value


DICT_SET_ITEM = _DictSetItem()
DICT_UPDATE = _DictUpdate()
DICT_POP = _DictPop()
DICT_DEL = _DictDel()
DICT_POPITEM = _DictPopitem()


# --------------------------------------------------------------------------- model-level


def _overlap(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    return a[: len(b)] == b or b[: len(a)] == a


def lock_writes(model: Any, path: tuple[str, ...], changes: Changes) -> list[Any]:
    """The values that a ``lock()`` block writes on exit, flat: for each, its JSON path, the path
    of the model that holds it ("" for a top-level field) and its JSON.

    It writes what the block assigned with ``=`` (at the place assigned), and values the block
    changed in place (``locked.tags.append(...)``). A value that an operation changed during the
    block is compared with what the operation left, not with its value at entry: what the
    operation applied in Redis is never written back over what other clients did meanwhile,
    and an in-place change made after it is written. Every value written must
    validate as its field (FieldValidationError otherwise, nothing written).
    """
    writes: dict[tuple[str, ...], bytes] = {}
    depth = len(path)
    for place in changes.assigned:
        if place[:depth] != path or len(place) == depth:
            continue
        found = _field_at(model, place[depth:])
        if found is None:  # the place assigned is gone (a model above it was replaced)
            place = (*path, place[depth])
            found = _field_at(model, place[depth:])
        if found is not None:
            spec, value = found
            writes[place] = spec.checked_json(value)
    baseline = {**changes.before, **changes.applied}
    for relative, payload in field_payloads(model).items():
        place = (*path, *relative)
        if baseline.get(relative) == payload:
            continue
        if any(_overlap(place, done) for done in writes):
            continue
        if relative not in baseline and any(_overlap(relative, applied) for applied in changes.applied):
            continue  # a value an operation put there, not changed since
        found = _field_at(model, relative)
        if found is not None:
            writes[place] = found[0].checked_json(found[1])
    # A place inside another one that is written whole is written with it.
    places = sorted(writes, key=len)
    flat: list[Any] = []
    changes.written = []
    for i, place in enumerate(places):
        if not any(place[: len(outer)] == outer for outer in places[:i] if len(outer) < len(place)):
            holder = _paths.json_path_for(place[:-1]) if len(place) > 1 else ""
            flat += [_paths.json_path_for(place), holder, writes[place]]
            changes.written.append((place[depth:], writes[place]))
    return flat


def lock_exit_checked(model: Any, path: tuple[str, ...], call: ScriptCall, changes: Changes) -> Op | None:
    """The exit of a ``lock()`` block on ``model`` (at ``path``) as a check-and-set, when a model
    validator checks the document (``None`` otherwise): the document is watched and read, the
    block's writes are made in it, and it must validate as the model before ``call`` (the
    save-and-release script) runs. Another client's write in between makes it read again, so
    the validators see what Redis holds, not the block's copy. Values the validators changed
    are written with the block's (see :func:`validated_writes`), and the local values become
    what was written."""
    root = locate(model)[0]
    if not changes.written or not _model_validators_within(root):
        return None
    cls = type(root)
    key = root._rp_key or root.key
    token, refresh = call.args[:2]
    written: list[Any] = []  # the places written, and the validated model

    def decide(reply: Any) -> list[Command]:
        document = _document_of(reply, key)
        writes: dict[tuple[str, ...], bytes] = {}
        for relative, payload in changes.written:
            place = (*path, *relative)
            holder = _holder(document, place)
            if holder is None:
                raise RedisCommandError(
                    f"{_paths.json_path_for(place)} cannot be written in the document at {key!r}: "
                    "the model that held it is gone (another client changed it)"
                )
            holder[place[-1]] = json.loads(payload)
            writes[place] = payload
        final, validated = validated_writes(
            cls, document, writes, f"{cls.__name__} with the lock() block's changes"
        )
        written[:] = [list(final), validated]
        triples: list[Any] = []
        for place, payload in final.items():
            holder_path = _paths.json_path_for(place[:-1]) if len(place) > 1 else ""
            triples += [_paths.json_path_for(place), holder_path, payload]
        return [ScriptCall(call.script, call.keys, (token, refresh, *triples))]

    def apply(replies: list[Any]) -> Any:
        if replies[0]:  # written (else the lock was lost: nothing was)
            adopt_validated(root, written[1], written[0])
        return replies[0]

    return ValueOp(root, [], apply, what="lock() exit", access=Access.WRITE).having(
        optimistic=Optimistic(key, ("JSON.GET", key, "$"), decide), refresh=False
    )


def adopt_writes(model: Any, written: list[tuple[tuple[str, ...], bytes]]) -> None:
    """After ``written`` (paths below ``model`` and the JSON written there) is in Redis: make each
    local value what ``get()`` reads back from that JSON. A container keeps its identity, but
    holds fresh values: nothing in it is still a value of another model, and an ``Any`` value
    is what its JSON reads back as."""
    for relative, payload in written:
        owner: Any = model
        for name in relative[:-1]:
            owner = owner.__dict__.get(name)
        if isinstance(owner, BaseModel):
            spec = field_specs(type(owner))[relative[-1]]
            store_local(owner, spec, spec.load_json(payload))


def _model_validators_within(model: Any) -> bool:
    """Whether ``model`` or a model nested in it (at any depth, through model fields) has model
    validators."""
    if has_model_validators(type(model)):
        return True
    return any(isinstance(v, BaseModel) and _model_validators_within(v) for v in model.__dict__.values())


def _field_at(model: Any, relative: tuple[str, ...]) -> tuple[FieldSpec, Any] | None:
    """The spec and local value of the field at ``relative`` below ``model``, if it is there."""
    owner: Any = model
    for name in relative[:-1]:
        owner = owner.__dict__.get(name)
        if not isinstance(owner, BaseModel):
            return None
    spec = field_specs(type(owner)).get(relative[-1])
    if spec is None or relative[-1] not in owner.__dict__:
        return None
    return spec, owner.__dict__[relative[-1]]


def field_payloads(
    model: Any, prefix: tuple[str, ...] = (), only: str | None = None
) -> dict[tuple[str, ...], bytes]:
    """The JSON of each loaded value of ``model`` by its path, nested models field by field, to
    tell which values a ``lock()`` block changed (``only``: of that field alone)."""
    out: dict[tuple[str, ...], bytes] = {}
    d = model.__dict__
    for name, spec in field_specs(type(model)).items():
        if name not in d or (only is not None and name != only):
            continue
        value = d[name]
        if isinstance(value, BaseModel) and spec.kind == MODEL:
            out.update(field_payloads(value, (*prefix, name)))
        else:
            out[(*prefix, name)] = spec.dump_json(value)
    return out


def replace_model(model: Any, value: Any) -> Op:
    """Replace the nested ``model`` by ``value`` (a model of its class or a dict)."""
    model = current_owner(model)
    root, path = locate(model)
    cls = type(model)
    try:
        validated = cls.model_validate(value, strict=True)
    except ValidationError as exc:
        raise FieldValidationError(f"{cls.__name__} at {_paths.json_path_for(path)}", exc) from None
    json_path = _paths.json_path_for(path)
    payload, read_back = document_json_read_back(validated)
    local = validated if read_back is None else read_back  # what get() reads back
    if holders_have_model_validators(root, path):

        def compute(text: str | None) -> tuple[bytes, Any, Any]:
            return payload, local, None

        def store(new: Any) -> None:
            replace_fields(model, new)

        op = checked_document(root, "set", [(path, json_path, compute, store)])
    else:

        def apply(replies: list[Any]) -> None:
            if replies[0] is None:
                raise RedisCommandError(f"{json_path} cannot be written in the document at {root.key!r}")
            replace_fields(model, local)

        op = Op(root, [("JSON.SET", root.key, json_path, payload)], apply, what="set", fields=(path,))
    op.replaces = True
    return op


def _placement(model: Any, spec: FieldSpec, value: Any) -> Placement:
    """Writing the validated ``value`` to field ``spec`` of ``model``, as :func:`checked_document`
    takes it."""
    _, _, _, path, parts = target(model, spec)

    def compute(text: str | None) -> tuple[bytes, Any, Any]:
        return spec.dump_json(value), value, None

    def store(local: Any) -> None:
        store_local(model, spec, local)

    return parts, path, compute, store


def set_fields(model: Any, values: Mapping[str, Any], what: str = "aupdate") -> Op:
    """Set several fields of ``model`` at once.

    A stored model's fields go in one JSON.MSET (atomic in RedisJSON). A nested model's go as one
    JSON.SET each, in one atomic step: JSON.MSET would answer OK and write nothing when another
    client has set the nested object to null, while JSON.SET answers nil, which is refused.
    """
    specs = field_specs(type(model))
    unknown = [n for n in values if n not in specs]
    if unknown:
        raise UnknownFieldError(f"{type(model).__name__} has no field(s) {', '.join(map(repr, unknown))}")
    if any(specs[name].model_checks for name in values):  # (validators may read other fields)
        with values_of(model):
            validated = {name: specs[name].validate(v) for name, v in values.items()}
    else:
        validated = {name: specs[name].validate(v) for name, v in values.items()}
    model = current_owner(model)
    root = locate(model)[0]
    if validated and any(validated_with_model(model, root, specs[name]) for name in validated):
        op = checked_document(
            root, what, [_placement(model, specs[name], v) for name, v in validated.items()]
        )
        op.replaces = True
        return op
    writes = []
    for name, value in validated.items():
        _, _, key, path, _ = target(model, specs[name])
        writes.append((key, path, specs[name].dump_json(value)))
    commands: list[Command]
    if model is root:
        commands = [("JSON.MSET", *(part for write in writes for part in write))] if writes else []
    else:
        commands = [("JSON.SET", *write) for write in writes]

    def apply(replies: list[Any]) -> None:
        if any(reply is None for reply in replies):
            where = _paths.json_path_for(locate(model)[1])
            raise RedisCommandError(
                f"{where} does not hold an object in the document at {root.key!r} (another client "
                "changed it); nothing was written"
            )
        for name, value in validated.items():
            store_local(model, specs[name], value)

    fields = tuple(field_parts(model, specs[name]) for name in validated)
    op = Op(root, commands, apply, what=what, fields=fields)
    op.replaces = True
    return op
