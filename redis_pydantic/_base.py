"""The I/O-free core of a stored model, shared by both faces.

Identity (``pk``, ``key``), the ``Meta`` options, partial instances, the library's per-instance
state and copying live here; each face's ``BaseRedisModel`` adds the methods that talk to Redis.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime
import gc
import math
import types
import weakref
from collections.abc import Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from pydantic import BaseModel, ValidationError
from typing_extensions import Self

from redis_pydantic import _ops, _paths, _schema, _values
from redis_pydantic._scripts import CREATE, ScriptCall, write_documents
from redis_pydantic.errors import (
    DocumentValidationError,
    InvalidArgumentError,
    KeyNotFoundError,
    NotAttachedError,
    PartialWriteError,
    RedisCommandError,
    WrongModelKeyError,
)

NEW = _ops.NEW
STORED = _ops.STORED


#: Assigned values of these types are stored as they are.
_PLAIN_TYPES = frozenset({str, int, float, bool, bytes, type(None)})


def assign(model: Any, name: str, value: Any) -> None:
    """``model.name = value`` for stored and nested models.

    A value read from a model is stored as its plain value (or a copy, for an attached nested
    model): it can never write into the document it was read from.
    """
    if type(value) not in _PLAIN_TYPES:
        value = _values.assignable(value)
    BaseModel.__setattr__(model, name, value)
    root: Any = getattr(model, "_rp_root", False)
    if root is None:
        root, path = model, (name,)
    elif root is not False:
        path = (*model._rp_path, name)
    else:
        return
    _ops.forget_checked(root)
    if root._rp_changes and name in type(model).__pydantic_fields__:
        for changes in root._rp_changes:  # the lock() blocks open on the model
            changes.assigned.add(path)


class StateSlots(BaseModel):
    """The library's per-instance state of a stored model, as slots: the base of both faces'
    ``BaseRedisModel``, so one set of slot descriptors serves both.

    Every new instance sets them (``init_state``), with the slots' own setters: about twice as
    fast as ``object.__setattr__``, which finds the slot by its name each time.
    """

    __slots__ = (
        "_rp_root",
        "_rp_path",
        "_rp_json",
        # A nested model: whether a model that holds it (the stored model, or one nested on the
        # way) has model validators (see _ops.validated_with_model).
        "_rp_guard",
        "_rp_pk",
        "_rp_state",
        "_rp_key",
        "_rp_changes",
        # The hash of the document JSON last read into or validated for this model (see
        # _ops.document_json); unset until then.
        "_rp_checked",
    )


set_root = StateSlots.__dict__["_rp_root"].__set__
set_path = StateSlots.__dict__["_rp_path"].__set__
set_json = StateSlots.__dict__["_rp_json"].__set__
set_pk = StateSlots.__dict__["_rp_pk"].__set__
set_state = StateSlots.__dict__["_rp_state"].__set__
set_key = StateSlots.__dict__["_rp_key"].__set__
set_changes = StateSlots.__dict__["_rp_changes"].__set__
set_checked = StateSlots.__dict__["_rp_checked"].__set__


def init_state(model: Any) -> None:
    """Set the library's per-instance state (:class:`StateSlots`)."""
    set_pk(model, None)
    set_root(model, None)
    set_path(model, ())
    set_json(model, "$")
    set_state(model, NEW)
    set_key(model, None)
    #: The lock() blocks open on this model (see _ops.Changes).
    set_changes(model, ())


def post_init_state(model: Any, context: Any = None, /) -> None:
    """``model_post_init``'s set-up: the state of a new instance (``context`` is pydantic's,
    unused: this function is also the library's own ``model_post_init``).

    pydantic also calls ``model_post_init`` when it validates a document into an existing
    instance (``load()``, see _ops.validate_into): that instance keeps its state (its key, its
    binding to the stored model, the ``lock()`` blocks open on it).
    """
    if _ops.reloading.get() is not model:
        init_state(model)


@contextlib.contextmanager
def paused_collector() -> Iterator[None]:
    """Pause Python's garbage collector while many models are built at once.

    Every object built then survives (the models are returned), so a collection during the loop
    finds no garbage; yet the hundreds of tracked objects of 100 models set off several, which
    cost about a quarter more than the building itself. The loops this wraps have no ``await``,
    so no other task runs meanwhile; the collector runs as usual afterwards.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def copy_from_json(cls: Any, payload: str | bytes, pk: str, key: str, state: _ops.DocumentState) -> Any:
    """A new instance of ``cls`` validated from the document JSON ``payload``, with its key."""
    copy = cls.__pydantic_validator__.validate_json(payload)
    set_pk(copy, pk)
    set_key(copy, key)
    set_state(copy, state)
    if type(payload) is bytes:
        set_checked(copy, hash(payload))
    return copy


def duplicates(
    model: Any, n: int, *, per_slot: bool = False, colocate: bool = False
) -> tuple[_ops.Op | None, list[Any]]:
    """The JSON.MSET that stores ``n`` copies of ``model`` under new pks, and the copies (each
    what get() would read back, marked stored once the command has run).

    The copies are validated before anything is sent: a model that no longer validates raises
    with nothing written. ``colocate`` gives every copy a pk that puts it in the Redis Cluster
    hash slot of ``model`` (``{<tag>}<hex>``), so one atomic command stores them all. Otherwise,
    with ``per_slot`` (a cluster client), there is one JSON.MSET per hash slot; when some of them
    fail, the copies of the others are stored and PartialWriteError reports both.
    """
    if getattr(model, "_rp_root", None) is not None:
        raise NotAttachedError("Can only duplicate from top level model")
    if not isinstance(n, int) or isinstance(n, bool) or n < 0:
        raise InvalidArgumentError(f"n must be a non-negative int, not {n!r}")
    model._rp_check_complete()
    if n == 0:
        return None, []
    cls = type(model)
    payload = _ops.document_json(model)
    prefix = cls.Meta.key_prefix
    pks = _paths.colocated_pks(prefix, model.key, n) if colocate else _paths.new_pks(n)
    copies = []
    with paused_collector():
        for pk in pks:
            key = f"{prefix}:{pk}"
            copies.append(copy_from_json(cls, payload, pk, key, NEW))
    if per_slot and not colocate and n > 1:
        by_slot: dict[int, list[Any]] = {}
        for copy in copies:
            by_slot.setdefault(_paths.hash_slot(copy._rp_key), []).append(copy)
        groups = list(by_slot.values())
    else:
        groups = [copies]
    ms = ttl_of(cls)
    commands: list[_ops.Command] = []
    group_of: list[int] = []  # the group of each command
    for number, group in enumerate(groups):
        if ms is None:
            args: list[Any] = ["JSON.MSET"]
            for copy in group:
                args += (copy._rp_key, "$", payload)
            commands.append(tuple(args))
        else:  # in the same step: no copy exists without its expiry
            keys = [copy._rp_key for copy in group]
            commands.append(write_documents(keys, [payload] * len(keys), [ms] * len(keys)))
        group_of.append(number)

    def apply(replies: list[Any]) -> None:
        error_of: dict[int, BaseException] = {}
        for number, reply in zip(group_of, replies, strict=True):
            if isinstance(reply, BaseException):
                error_of.setdefault(number, reply)
        failed: list[Any] = []
        for number, group in enumerate(groups):
            if number in error_of:
                failed += group
            else:
                for copy in group:
                    set_state(copy, STORED)
        if error_of:
            errors = list(error_of.values())
            stored = [copy for copy in copies if copy._rp_state is STORED]
            raise PartialWriteError(
                f"duplicate_many stored {len(stored)} of {n} copies; the {len(failed)} others, in "
                f"{len(errors)} hash slot(s), were not stored: "
                + "; ".join(dict.fromkeys(str(error) for error in errors)),
                stored,
                failed,
                errors,
            )

    op = _ops.Op(None, commands, apply, access=_ops.Access.WRITE, what="duplicate").having(
        cls=cls, refresh=False, per_slot=len(groups) > 1
    )
    return op, copies


def save_model(model: Any) -> _ops.Op:
    """Write ``model``'s whole document (or, for a nested model, its place in the document)."""
    if getattr(model, "_rp_root", None) is not None:
        model = _ops.current_owner(model)
        root, path = model._rp_location()
        payload, read_back = _ops.document_json_read_back(model)
        json_path = _paths.json_path_for(path)

        def adopt(local: Any) -> None:
            if local is not None:
                _ops.adopt_read_back(model, local)

        if _ops.holders_have_model_validators(root, path):
            # The models that hold it check it with their other values: see checked_document.
            def compute(text: str | None) -> tuple[bytes, Any, Any]:
                return payload, read_back, None

            op = _ops.checked_document(root, "save", [(path, json_path, compute, adopt)])
        else:

            def apply_nested(replies: list[Any]) -> None:
                if replies[0] is None:
                    raise RedisCommandError(f"{json_path} cannot be written in the document at {root.key!r}")
                adopt(read_back)

            command = ("JSON.SET", root.key, json_path, payload)
            op = _ops.Op(root, [command], apply_nested, what="save", fields=(path,))
        op.replaces = True
        return op
    model._rp_check_complete()
    payload, read_back = _ops.document_json_read_back(model)
    key = model.key
    ms = ttl_of(type(model))
    commands: list[_ops.Command] = [
        ("JSON.SET", key, "$", payload)
        if ms is None
        # One step: the document never exists without its expiry, and a key of another type
        # is refused with no expiry set on it.
        else write_documents([key], [payload], [ms])
    ]

    def apply(replies: list[Any]) -> None:
        model._rp_mark_stored()
        if read_back is not None:  # the model holds what get() reads back
            _ops.adopt_read_back(model, read_back)

    op = _ops.Op(model, commands, apply, access=_ops.Access.WRITE, what="save").having(refresh=False)
    op.replaces = True
    return op


def pk_of(cls: Any, meta: Any, key: str) -> str:
    """The pk of ``key``, a key of model class ``cls`` whose ``Meta`` is ``meta``
    (WrongModelKeyError for a key of another class)."""
    prefix = meta.key_prefix
    end = len(prefix) + 1
    if not isinstance(key, str) or len(key) <= end or key[end - 1] != ":" or not key.startswith(prefix):
        raise WrongModelKeyError(f"{key!r} is not a key of {cls.__name__} (expected '{prefix}:<pk>')")
    return key[end:]


def get_model(cls: Any, key: str, meta: Any) -> _ops.Op:
    """Read the model of class ``cls`` (whose ``Meta`` is ``meta``) stored at ``key``."""
    pk = pk_of(cls, meta, key)

    def apply(replies: list[Any]) -> Any:
        raw = _ops.unwrap_json(replies[0], key)
        if raw is None:
            raise KeyNotFoundError(key)
        try:
            return copy_from_json(cls, raw, pk, key, STORED)
        except ValidationError as exc:
            raise DocumentValidationError(key, exc) from None

    op = _ops.Op(None, [("JSON.GET", key, "$")], apply, "get", (), _ops.Access.READ)
    op.cls = cls
    op.meta = meta
    op.key = key
    return op


def load_model(model: Any) -> _ops.Op:
    """Read ``model`` (a stored or nested model) from Redis into the instance itself."""
    if getattr(model, "_rp_root", False) is None:  # a stored model: the common case
        root, path, json_path = model, (), "$"
    else:
        model = _ops.current_owner(model)
        root, path = model._rp_location()
        json_path = _paths.json_path_for(path)
    key = root._rp_key or root.key

    def apply(replies: list[Any]) -> None:
        raw = _ops.unwrap_json(replies[0], key)
        if raw is None:
            raise KeyNotFoundError(key, f"the document at {key!r} has no {json_path}")
        try:
            _ops.validate_into(model, raw)
        except ValidationError as exc:
            raise DocumentValidationError(key, exc, json_path if path else "") from None

    command = ("JSON.GET", key, json_path)
    return _ops.Op(root, [command], apply, access=_ops.Access.READ, what="load", fields=(path,))


# --------------------------------------------------------------------------- expiry

#: The longest expiry accepted, in milliseconds (about 146 million years): Redis refuses an expiry
#: whose end does not fit in a signed 64-bit count of milliseconds.
MAX_TTL_MS = 2**62


def ttl_millis(value: object, what: str) -> int:
    """``value`` (seconds as an ``int`` or ``float``, or a ``timedelta``) in whole milliseconds,
    rounded up; InvalidArgumentError unless it is positive and finite."""
    ms: int | None = None
    if isinstance(value, datetime.timedelta):
        micros = (value.days * 86_400 + value.seconds) * 1_000_000 + value.microseconds
        ms = -(-micros // 1000)
    elif isinstance(value, int) and not isinstance(value, bool):
        ms = value * 1000
    elif isinstance(value, float) and math.isfinite(value):
        # Rounded to the microsecond first: 1.1 * 1000 is 1100.0000000000002.
        ms = math.ceil(round(value * 1000, 3))
    if ms is None or ms <= 0 or ms > MAX_TTL_MS:
        raise InvalidArgumentError(
            f"{what} must be a positive number of seconds or timedelta (at most {MAX_TTL_MS // 1000} "
            f"seconds), not {value!r}"
        )
    return ms


def check_expiry_options(cls: Any, meta: dict[str, Any]) -> None:
    """Refuse a ``Meta.ttl`` or ``Meta.refresh_ttl`` that could not be applied, when the class is
    defined."""
    ttl = meta.get("ttl")
    if ttl is not None:
        ttl_millis(ttl, f"{cls.__name__}.Meta.ttl")
    refresh = meta.get("refresh_ttl", False)
    if not isinstance(refresh, bool):
        raise InvalidArgumentError(f"{cls.__name__}.Meta.refresh_ttl must be a bool, not {refresh!r}")
    if refresh and ttl is None:
        raise InvalidArgumentError(
            f"{cls.__name__}.Meta.refresh_ttl extends documents to Meta.ttl: set Meta.ttl too"
        )


def check_autopipeline_option(cls: Any, meta: dict[str, Any]) -> None:
    """Refuse a ``Meta.autopipeline`` that is not a bool, when the class is defined."""
    value = meta.get("autopipeline", True)
    if not isinstance(value, bool):
        raise InvalidArgumentError(f"{cls.__name__}.Meta.autopipeline must be a bool, not {value!r}")


def ttl_of(cls: Any) -> int | None:
    """The expiry of new and saved documents of ``cls`` in milliseconds (``Meta.ttl``), if any."""
    ttl = getattr(cls.Meta, "ttl", None)
    return None if ttl is None else ttl_millis(ttl, f"{cls.__name__}.Meta.ttl")


def refresh_of(cls: Any) -> int | None:
    """The milliseconds that reads and writes extend a document of ``cls`` to, or ``None`` unless
    ``Meta.refresh_ttl`` is set."""
    if not getattr(cls.Meta, "refresh_ttl", False):
        return None
    return ttl_of(cls)


def refresh_command(key: str, ms: int) -> tuple[Any, ...]:
    """Extend the expiry of the document at ``key`` to ``ms``, only when it has one: a document
    made persistent with ``persist()`` stays persistent."""
    return ("PEXPIRE", key, ms, "XX")


def _top_level_key(model: Any, what: str) -> str:
    if getattr(model, "_rp_root", None) is not None:
        raise NotAttachedError(f"{what} applies to a stored model, not to a model nested in one")
    return str(model.key)


def expire_model(model: Any, ttl: object) -> _ops.Op:
    """Make ``model``'s document expire in ``ttl``; KeyNotFoundError when there is none."""
    key = _top_level_key(model, "expire()")
    ms = ttl_millis(ttl, "the expiry")

    def apply(replies: list[Any]) -> None:
        if not replies[0]:
            raise KeyNotFoundError(key)

    # No root: the model's state does not change (a never-saved model stays never saved).
    command = ("PEXPIRE", key, ms)
    return _ops.Op(None, [command], apply, access=_ops.Access.WRITE, what="expire").having(
        returns_value=True, cls=type(model), key=key, refresh=False
    )


def ttl_model(model: Any) -> _ops.Op:
    """The seconds left before ``model``'s document expires (``None`` when it does not)."""
    key = _top_level_key(model, "ttl()")

    def apply(replies: list[Any]) -> float | None:
        ms = int(replies[0])
        if ms == -2:
            raise KeyNotFoundError(key)
        return None if ms < 0 else ms / 1000

    return _ops.Op(None, [("PTTL", key)], apply, access=_ops.Access.READ, what="ttl").having(
        cls=type(model), key=key, refresh=False
    )


def persist_model(model: Any) -> _ops.Op:
    """Remove the expiry of ``model``'s document; KeyNotFoundError when there is none."""
    key = _top_level_key(model, "persist()")

    def apply(replies: list[Any]) -> None:
        if not replies[0]:
            raise KeyNotFoundError(key)

    # PERSIST answers 0 both for a missing document and for one without expiry: EXISTS tells,
    # in the same atomic step.
    commands: list[_ops.Command] = [("EXISTS", key), ("PERSIST", key)]
    return _ops.Op(None, commands, apply, access=_ops.Access.WRITE, what="persist").having(
        returns_value=True, cls=type(model), key=key, refresh=False
    )


# --------------------------------------------------------------------------- class registry

#: Every stored model class defined (both faces), to tell which key prefixes extend another.
_stored_classes: weakref.WeakSet[type] = weakref.WeakSet()


def register_class(cls: type) -> None:
    _stored_classes.add(cls)


def extending_prefixes(prefix: str) -> tuple[str, ...]:
    """The ``"<prefix>:"`` starts of the keys of other model classes whose prefix extends
    ``prefix`` with ``":"`` (``"User:admin"`` extends ``"User"``).

    A key ``"User:admin:7"`` matches ``"User:*"``; it is taken to be the ``"User:admin"`` class's
    document, not a ``User`` whose pk is ``"admin:7"``.
    """
    start = prefix + ":"
    found = set()
    for cls in list(_stored_classes):
        other = getattr(cls.Meta, "key_prefix", None)  # type: ignore[attr-defined]
        if isinstance(other, str) and other.startswith(start):
            found.add(other + ":")
    return tuple(sorted(found))


def _with_state_init(post_init: Any) -> Any:
    """Wrap a subclass's own model_post_init so the library's set-up always runs first."""

    def model_post_init(self: Any, context: Any, /) -> None:
        post_init_state(self)
        post_init(self, context)

    model_post_init.__doc__ = post_init.__doc__
    model_post_init.__rp_wrapped__ = True  # type: ignore[attr-defined]
    return model_post_init


def set_up_class(cls: Any) -> None:
    """Give a new model class its own ``Meta`` and keep the state set-up in ``model_post_init``.

    A subclass inherits the options its own ``Meta`` does not set, except ``key_prefix`` (the
    class name unless given). Each class gets its own ``Meta`` object, so changing one class's
    options never changes another's.
    """
    own = cls.__dict__.get("Meta")
    parent = next(base for base in cls.__mro__[1:] if "Meta" in base.__dict__)
    inherited = {k: v for k, v in vars(parent.__dict__["Meta"]).items() if not k.startswith("__")}
    inherited.pop("key_prefix", None)
    inherited.pop("index_name", None)  # each class's documents have their own search index
    if own is not None:
        inherited.update({k: v for k, v in vars(own).items() if not k.startswith("__")})
    if not inherited.get("key_prefix"):
        inherited["key_prefix"] = cls.__name__
    prefix = inherited["key_prefix"]
    if not isinstance(prefix, str) or prefix.startswith("{"):
        # Keys starting with "{" are lock keys (see _paths.lock_key_for): a document key
        # must never be one, whatever its pk.
        raise InvalidArgumentError(
            f"{cls.__name__}.Meta.key_prefix must be a str that does not start with '{{', not {prefix!r}"
        )
    check_expiry_options(cls, inherited)
    check_autopipeline_option(cls, inherited)
    cls.Meta = type("Meta", (), inherited)
    register_class(cls)
    own_post_init = cls.__dict__.get("model_post_init")
    if own_post_init is not None and not getattr(own_post_init, "__rp_wrapped__", False):
        type.__setattr__(cls, "model_post_init", _with_state_init(own_post_init))


class NestedCore:
    """Where a model sits in its document; shared by stored and nested models, no I/O."""

    __slots__ = ()
    _rp_root: Any
    _rp_path: tuple[str, ...]
    _rp_json: str
    _rp_guard: bool

    def _rp_claim(self, parent: Any, spec: Any) -> Any:
        """This model as the value of field ``spec`` of ``parent``, attached to that place.

        A free model is attached there and returned. One attached to another place (shared by
        a shallow copy of its parent, say) is not taken away from it: ``parent`` gets a copy.
        """
        root = getattr(parent, "_rp_root", False)
        if root is False:  # the parent is not attached to a document: neither is this model
            return self
        if root is None:  # the parent is the stored model itself
            root, path, json_path = parent, spec.parts, spec.path
        else:
            # The field ops of this model build their paths on it: "$.profile" + ".title".
            json_path, path = spec.nested_paths(parent._rp_json, parent._rp_path)
        model = self
        mine = getattr(self, "_rp_root", False)
        if mine is not False:
            if mine is root and self._rp_path == path:
                return self
            model = type(self).model_validate(self)  # type: ignore[attr-defined] # nested classes copy on validation
            parent.__dict__[spec.name] = model
        object.__setattr__(model, "_rp_root", root)
        object.__setattr__(model, "_rp_path", path)
        object.__setattr__(model, "_rp_json", json_path)
        guard = _schema.has_model_validators(type(parent)) or (parent is not root and parent._rp_guard)
        object.__setattr__(model, "_rp_guard", guard)
        return model

    def _rp_location(self) -> tuple[Any, tuple[str, ...]]:
        """The stored model and this model's path in its document; RuntimeError if none."""
        root = getattr(self, "_rp_root", False)
        if root is None:  # a stored model itself
            return self, ()
        if root is not False:  # a nested model bound to its stored model
            return root, self._rp_path
        raise _ops.not_attached(self)

    __setattr__ = assign


# --------------------------------------------------------------------------- class operations

#: True while a stored model class is being defined (see :class:`StoredModelMeta`).
_defining: contextvars.ContextVar[bool] = contextvars.ContextVar("redis_pydantic_defining", default=False)


class ClassOperation:
    """An operation of a model class (``await User.count()``) whose name a field may take.

    ``count`` is a common field name (``count: int = 0``), so it is not refused as one. On the
    class the name gives the operation, bound to the class, even when the class has a field of
    that name (its field descriptor hands the operation over, see
    ``_schema.FieldDescriptor.class_operation``); on an instance, the field. While a model class
    is being defined the name is hidden, so pydantic neither takes the operation for the default
    value of such a field nor warns that the field shadows it.
    """

    __rp_class_operation__ = True

    def __init__(self, func: Callable[..., Any]) -> None:
        self.func = func
        self.__name__ = func.__name__
        self.__doc__ = func.__doc__

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        if _defining.get():
            raise AttributeError(self.__name__)
        return types.MethodType(self.func, owner if owner is not None else type(instance))


if TYPE_CHECKING:
    from pydantic._internal._model_construction import ModelMetaclass as _PydanticModelMetaclass
else:
    # pydantic's metaclass, reached through the public BaseModel rather than its private module.
    _PydanticModelMetaclass = type(BaseModel)


class StoredModelMeta(_PydanticModelMetaclass):
    """The metaclass of stored models: pydantic's, with the class operations a field may shadow
    hidden while a class is being defined (see :class:`ClassOperation`).

    pydantic reads the class attributes while it collects a new class's fields (``getattr`` for
    a default value, ``hasattr`` on the bases for its "shadows an attribute" warning), all inside
    its metaclass's ``__new__``; the flag is reset even when the definition fails.
    """

    def __new__(mcs, name: str, bases: tuple[type, ...], namespace: dict[str, Any], **kwargs: Any) -> Any:
        if kwargs.get("__pydantic_reset_parent_namespace__", True):
            # pydantic resolves the annotations of a class defined inside a function with that
            # function's local names, which it takes from the frame that called its metaclass's
            # __new__: this method. So the names are taken here, from the frame that defines the
            # class, with pydantic's own helpers, and handed over as pydantic stores them (private
            # pydantic API: tests/_async/test_errors.py and test_scan.py define such classes).
            from pydantic._internal._model_construction import build_lenient_weakvaluedict
            from pydantic._internal._typing_extra import parent_frame_namespace

            namespace["__pydantic_parent_namespace__"] = build_lenient_weakvaluedict(parent_frame_namespace())
            kwargs["__pydantic_reset_parent_namespace__"] = False
        token = _defining.set(True)
        try:
            return super().__new__(mcs, name, bases, namespace, **kwargs)
        finally:
            _defining.reset(token)


if TYPE_CHECKING:
    from pydantic import Field, PrivateAttr
    from pydantic._internal._model_construction import NoInitField
    from typing_extensions import dataclass_transform

    # Each face's metaclass, for type checkers: the class operations with their signatures, and
    # marked like pydantic's metaclass (type checkers then give model classes their typed
    # ``__init__``; a metaclass must be marked itself, not through its base).

    class AsyncCount(Protocol):
        def __call__(self, *, batch: int = ...) -> Awaitable[int]: ...

    class SyncCount(Protocol):
        def __call__(self, *, batch: int = ...) -> int: ...

    # ``count`` is a property here: a data descriptor of the metaclass wins over a field named
    # ``count`` of the class, as the ClassOperation does at run time.

    @dataclass_transform(kw_only_default=True, field_specifiers=(Field, PrivateAttr, NoInitField))
    class AsyncModelMeta(StoredModelMeta):
        @property
        def count(cls) -> AsyncCount: ...

    @dataclass_transform(kw_only_default=True, field_specifiers=(Field, PrivateAttr, NoInitField))
    class SyncModelMeta(StoredModelMeta):
        @property
        def count(cls) -> SyncCount: ...

else:
    AsyncModelMeta = SyncModelMeta = StoredModelMeta


# At run time the core is a plain mixin placed before BaseModel; type checkers see BaseModel.
# An import alias (not ``_ModelBase = BaseModel``): pydantic's mypy plugin then transforms the
# class and sees the typing-only ``pk`` below.
if TYPE_CHECKING:
    from pydantic import BaseModel as _ModelBase
else:
    _ModelBase = object


class StoredModelCore(_ModelBase):
    """Identity, state and construction of a stored model; no I/O."""

    __slots__ = ()

    if TYPE_CHECKING:
        # For type checkers only: ``pk=`` is an optional keyword of every model's __init__, and
        # ``model.pk`` is a str. At run time ``pk`` is the property below, never a field.
        pk: str = ""
        # A subclass's own ``class Meta:`` replaces it without an override error.
        Meta: ClassVar[Any]

    # -- construction --------------------------------------------------------------------------
    def __init__(self, /, **data: Any) -> None:
        pk = data.pop("pk", None)
        if data:  # validated fully, as pydantic does: a missing required field raises now
            super().__init__(**data)
        else:
            try:
                super().__init__()
            except ValidationError as exc:
                if not all(e["type"] == "missing" and len(e["loc"]) == 1 for e in exc.errors()):
                    raise
                # Model() or Model(pk=...): a partial instance, whose fields load one by one.
                self._rp_init_partial({})
        if pk is not None:
            self.pk = pk

    # Tells pydantic that this __init__ only adds to BaseModel's: validation (model_validate,
    # get, load) then builds instances directly instead of calling __init__ with a dict.
    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]

    def _rp_init_partial(self, data: dict[str, Any]) -> None:
        specs = _schema.field_specs(type(self))
        fields = type(self).__pydantic_fields__
        by_alias = {info.alias: name for name, info in fields.items() if info.alias}
        values: dict[str, Any] = {}
        for given, value in data.items():
            name = by_alias.get(given, given)
            if name in specs:
                values[name] = specs[name].load_python(value)
        partial = type(self).model_construct(_fields_set=set(values), **values)
        for name, info in fields.items():
            # model_construct leaves defaults unvalidated; nested models must become Redis-enabled.
            if name not in values and info.validate_default and name in partial.__dict__:
                partial.__dict__[name] = specs[name].load_python(partial.__dict__[name])
        object.__setattr__(self, "__dict__", partial.__dict__)
        object.__setattr__(self, "__pydantic_fields_set__", partial.__pydantic_fields_set__)
        object.__setattr__(self, "__pydantic_extra__", partial.__pydantic_extra__)
        # Before pydantic 2.13, model_construct leaves __pydantic_private__ unset on a model that
        # has a model_post_init and no private attributes (ours); pydantic itself means None then.
        object.__setattr__(self, "__pydantic_private__", getattr(partial, "__pydantic_private__", None))
        init_state(self)

    # Set up the library's per-instance state; pydantic calls it for every new instance (and
    # for the instance load() fills). Validated or constructed, every instance passes here, so
    # the hot paths read plain attributes instead of probing with getattr. A subclass may
    # override it; the library's set-up still runs first (see _with_state_init). The function
    # itself, not a method that calls it: one call less on every get() and load().
    model_post_init = post_init_state

    def __getstate__(self) -> dict[Any, Any]:
        state = super().__getstate__()
        state["_rp_pk"] = getattr(self, "_rp_pk", None)
        return state

    def __setstate__(self, state: dict[Any, Any]) -> None:
        pk = state.pop("_rp_pk", None)
        super().__setstate__(state)
        init_state(self)
        object.__setattr__(self, "_rp_pk", pk)

    def __copy__(self) -> Self:
        copy = super().__copy__()
        init_state(copy)
        for name in ("_rp_pk", "_rp_state", "_rp_key"):
            object.__setattr__(copy, name, getattr(self, name, None))
        return copy

    def __deepcopy__(self, memo: dict[int, Any] | None = None) -> Self:
        copy = super().__deepcopy__(memo)
        init_state(copy)
        for name in ("_rp_pk", "_rp_state", "_rp_key"):
            object.__setattr__(copy, name, getattr(self, name, None))
        return copy

    # -- identity ------------------------------------------------------------------------------
    if not TYPE_CHECKING:

        @property
        def pk(self) -> str:
            """This model's primary key: a new random hex id unless set."""
            pk = getattr(self, "_rp_pk", None)
            if pk is None:
                pk = _paths.new_pk()
                object.__setattr__(self, "_rp_pk", pk)
            return pk

        @pk.setter
        def pk(self, value: str) -> None:
            if not isinstance(value, str) or not value:
                raise InvalidArgumentError(f"pk must be a non-empty str, not {value!r}")
            object.__setattr__(self, "_rp_pk", value)
            object.__setattr__(self, "_rp_key", None)

    @property
    def key(self) -> str:
        """The Redis key of this model: ``"<key_prefix>:<pk>"``."""
        key = getattr(self, "_rp_key", None)
        if key is None:
            key = f"{type(self).Meta.key_prefix}:{self.pk}"  # type: ignore[attr-defined]
            set_key(self, key)
        return key

    @classmethod
    def _rp_pk_of(cls, key: str) -> str:
        return pk_of(cls, cls.Meta, key)

    # -- state ---------------------------------------------------------------------------------
    def _rp_mark_stored(self) -> None:
        set_state(self, STORED)

    def _rp_missing_required(self) -> list[str]:
        d = self.__dict__
        fields = type(self).__pydantic_fields__
        if len(d) >= len(fields):  # the common case: pydantic's __dict__ holds only fields
            return []
        return [name for name, info in fields.items() if name not in d and info.is_required()]

    def _rp_check_complete(self) -> None:
        missing = self._rp_missing_required()
        if missing:
            raise ValidationError.from_exception_data(
                type(self).__name__,
                [{"type": "missing", "loc": (name,), "input": self.__dict__} for name in missing],
            )

    def _rp_create_command(self) -> _ops.Command | None:
        """For a never-saved instance: the JSON.SET ... NX that creates its document first (with
        ``Meta.ttl``, the script that also gives a document it created its expiry)."""
        if getattr(self, "_rp_state", NEW) != NEW or getattr(self, "_rp_root", None) is not None:
            return None
        if self._rp_missing_required():
            return None
        ms = ttl_of(type(self))
        if ms is not None:
            return ScriptCall(CREATE, (self.key,), (_ops.document_json(self), ms))
        return ("JSON.SET", self.key, "$", _ops.document_json(self), "NX")

    # -- documents -----------------------------------------------------------------------------
    def redis_dump(self) -> dict[str, Any]:
        """The JSON-compatible dict that :meth:`save` stores (bytes as base64 text)."""
        return self.model_dump(mode="json")
