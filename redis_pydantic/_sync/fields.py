# This file is generated from redis_pydantic/_async/fields.py by setup_unasync.py. Do not edit it by hand.
"""Field values with Redis operations.

A model keeps plain values in its ``__dict__`` (so pydantic serializes and compares them as
usual). Reading a field returns a bound value: a subclass of the value's own type for ``str``,
``int``, ``float``, ``bytes``, ``Decimal``, ``datetime``, ``date`` and ``UUID``; the stored
list or dict itself (as :class:`RedisList` / :class:`RedisDict`); a nested model; or, for
values Python does not let us subclass (``bool``, ``None``, enum members), a
:class:`RedisValue` that compares, hashes and tests truthiness like the value it holds.
"""

from __future__ import annotations

import datetime
import decimal
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel

from redis_pydantic import _ops
from redis_pydantic._schema import MODEL, FieldSpec
from redis_pydantic._sync.executor import run, run_single
from redis_pydantic.errors import FieldNotLoadedError


class _Bound:
    """Operations every bound field value has. Subclasses provide ``_rp_owner``/``_rp_spec``."""

    __slots__ = ()
    _rp_owner: Any
    _rp_spec: FieldSpec

    def _rp_field(self) -> _ops.Field:
        return _ops.Field(self._rp_owner, self._rp_spec)

    def set(self, value: Any) -> None:
        """Validate ``value``, write it to this field in Redis, then store it locally."""
        run_single(_ops.set_field(self._rp_owner, self._rp_spec, value), what="set")

    def load(self) -> Any:
        """Read this field from Redis, store it locally and return it (at once, even in a pipeline)."""
        run_single(_ops.load_field(self._rp_owner, self._rp_spec), read=True)
        return getattr(self._rp_owner, self._rp_spec.name)


class _BoundScalar(_Bound):
    __slots__ = ()

    def __reduce_ex__(self, protocol: Any) -> Any:
        # Copies and pickles hold the plain value, never the owning model.
        return self._rp_owner.__dict__[self._rp_spec.name].__reduce_ex__(protocol)

    def __copy__(self) -> Any:
        return self._rp_owner.__dict__[self._rp_spec.name]

    def __deepcopy__(self, memo: Any) -> Any:
        return self._rp_owner.__dict__[self._rp_spec.name]


class _Number(_BoundScalar):
    __slots__ = ()

    def aincrease(self, amount: int | float = 1) -> Any:
        """Add ``amount`` in Redis (JSON.NUMINCRBY), update the local value and return it."""
        return run_single(
            _ops.increase(self._rp_owner, self._rp_spec, amount), returns_value=True, what="aincrease"
        )


class RedisStr(_BoundScalar, str):
    """A ``str`` field value."""


class RedisInt(_Number, int):
    """An ``int`` field value."""


class RedisFloat(_Number, float):
    """A ``float`` field value."""


class RedisBytes(_BoundScalar, bytes):
    """A ``bytes`` field value (stored as base64 text)."""


class RedisDecimal(_BoundScalar, decimal.Decimal):
    """A ``Decimal`` field value."""


class RedisDatetime(_BoundScalar, datetime.datetime):
    """A ``datetime`` field value."""


class RedisDate(_BoundScalar, datetime.date):
    """A ``date`` field value."""


class RedisUUID(_BoundScalar, uuid.UUID):
    """A ``UUID`` field value."""


def _datetime(v: datetime.datetime) -> Any:
    return RedisDatetime(
        v.year, v.month, v.day, v.hour, v.minute, v.second, v.microsecond, v.tzinfo, fold=v.fold
    )


def _uuid(v: uuid.UUID) -> Any:
    u = object.__new__(RedisUUID)
    object.__setattr__(u, "int", v.int)
    object.__setattr__(u, "is_safe", v.is_safe)
    return u


#: Types whose bound subclass is made by calling the subclass on the value.
_PLAIN: dict[type, Any] = {
    str: RedisStr,
    int: RedisInt,
    float: RedisFloat,
    bytes: RedisBytes,
    decimal.Decimal: RedisDecimal,
}

_MAKERS: dict[type, Any] = {
    datetime.datetime: _datetime,
    datetime.date: lambda v: RedisDate(v.year, v.month, v.day),
    uuid.UUID: _uuid,
}


class RedisValue(_Bound):
    """A field value that Python does not let us subclass: ``bool``, ``None``, enum members...

    It compares, hashes, formats and tests truthiness like the value it holds, and passes
    attribute access through (``model.color.name`` on an enum field). Compare it with ``==``,
    not ``is``: ``model.active == True`` and ``if model.active:`` work; ``model.active is True``
    does not. ``model_dump()`` and the stored JSON always hold the real value.
    """

    __slots__ = ("_rp_owner", "_rp_spec", "_rp_value")

    def __init__(self, owner: Any, spec: FieldSpec, value: Any) -> None:
        object.__setattr__(self, "_rp_owner", owner)
        object.__setattr__(self, "_rp_spec", spec)
        object.__setattr__(self, "_rp_value", value)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, RedisValue):
            other = other._rp_value
        return bool(self._rp_value == other)

    def __ne__(self, other: object) -> bool:
        return not self == other

    def __hash__(self) -> int:
        return hash(self._rp_value)

    def __bool__(self) -> bool:
        return bool(self._rp_value)

    def __repr__(self) -> str:
        return repr(self._rp_value)

    def __str__(self) -> str:
        return str(self._rp_value)

    def __format__(self, spec: str) -> str:
        return format(self._rp_value, spec)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._rp_value, name)

    def __iter__(self) -> Any:
        return iter(self._rp_value)

    def __len__(self) -> int:
        return len(self._rp_value)

    def __contains__(self, item: object) -> bool:
        return item in self._rp_value

    def __reduce_ex__(self, protocol: Any) -> Any:
        return self._rp_value.__reduce_ex__(protocol)

    def __copy__(self) -> Any:
        return self._rp_value

    def __deepcopy__(self, memo: Any) -> Any:
        return self._rp_value


class RedisList(_Bound, list):  # type: ignore[type-arg]
    """A ``list`` field value. Plain list methods change only the local list; the ``a``-prefixed
    methods change Redis atomically first and then the local list."""

    __slots__ = ("_rp_owner", "_rp_spec")

    def _rp_extend(self, items: Iterable[Any], what: str) -> None:
        owner, spec = self._rp_owner, self._rp_spec
        run_single(
            _ops.list_extend(owner, spec, self, items),
            reload=lambda: _ops.load_field(owner, spec),
            what=what,
        )

    def aappend(self, item: Any) -> None:
        """Append ``item`` in Redis (JSON.ARRAPPEND), then locally."""
        self._rp_extend((item,), "aappend")

    def aextend(self, items: Iterable[Any]) -> None:
        """Append every item in one JSON.ARRAPPEND, then locally."""
        self._rp_extend(items, "aextend")

    def ainsert(self, index: int, item: Any) -> None:
        """Insert ``item`` before ``index`` in Redis, then locally (indexes clamp like list.insert)."""
        run(_ops.list_insert(self._rp_field(), self, index, item))

    def apop(self, index: int = -1) -> Any:
        """Remove and return the item at ``index`` in Redis. IndexError when empty or out of range."""
        return run(_ops.list_pop(self._rp_field(), self, index))

    def aclear(self) -> None:
        """Make the list empty in Redis (``[]`` stays at the path), then locally."""
        run_single(_ops.clear_container(self._rp_owner, self._rp_spec, self), what="aclear")

    def __reduce_ex__(self, protocol: Any) -> Any:
        return (list, (list(self),))

    def __copy__(self) -> list[Any]:
        return list(self)

    def __deepcopy__(self, memo: Any) -> list[Any]:
        import copy

        return copy.deepcopy(list(self), memo)


_MISSING: Any = _ops._MISSING


class RedisDict(_Bound, dict):  # type: ignore[type-arg]
    """A ``dict`` field value (``Dict[str, T]``). Plain dict methods change only the local dict;
    the ``a``-prefixed methods change Redis atomically first and then the local dict."""

    __slots__ = ("_rp_owner", "_rp_spec")

    def _rp_update(self, items: Mapping[str, Any], what: str) -> None:
        run_single(_ops.dict_update(self._rp_owner, self._rp_spec, self, items), what=what)

    def aset_item(self, key: str, value: Any) -> None:
        """Set ``self[key] = value`` in Redis, then locally."""
        self._rp_update({key: value}, "aset_item")

    def aupdate(self, mapping: Mapping[str, Any] | None = None, /, **kwargs: Any) -> None:
        """Set several items in one atomic command (a script that checks the path), then locally."""
        items = dict(mapping or {}, **kwargs)
        self._rp_update(items, "aupdate")

    def adel_item(self, key: str) -> None:
        """Delete ``key`` in Redis, then locally. KeyError when it is not there."""
        run(_ops.dict_del(self._rp_field(), self, key))

    def apop(self, key: str, default: Any = _MISSING) -> Any:
        """Remove ``key`` in Redis and return its value, or ``default``; KeyError without one."""
        return run(_ops.dict_pop(self._rp_field(), self, key, default))

    def apopitem(self) -> tuple[str, Any]:
        """Remove and return the last ``(key, value)`` pair in Redis. KeyError when empty."""
        return run(_ops.dict_popitem(self._rp_field(), self))  # type: ignore[no-any-return]

    def aclear(self) -> None:
        """Make the dict empty in Redis (``{}`` stays at the path), then locally."""
        run_single(_ops.clear_container(self._rp_owner, self._rp_spec, self), what="aclear")

    def __reduce_ex__(self, protocol: Any) -> Any:
        return (dict, (dict(self),))

    def __copy__(self) -> dict[Any, Any]:
        return dict(self)

    def __deepcopy__(self, memo: Any) -> dict[Any, Any]:
        import copy

        return copy.deepcopy(dict(self), memo)


class UnloadedField(_Bound):
    """What a field of a partial instance reads as before it is loaded or set.

    It has ``load()`` and ``set()``; any other use raises :class:`FieldNotLoadedError`.
    """

    __slots__ = ("_rp_owner", "_rp_spec")

    def __init__(self, owner: Any, spec: FieldSpec) -> None:
        object.__setattr__(self, "_rp_owner", owner)
        object.__setattr__(self, "_rp_spec", spec)

    def _fail(self) -> FieldNotLoadedError:
        return FieldNotLoadedError(
            f"{self._rp_spec.qualname} is not loaded: give it a value, or call load() on it or on the model"
        )

    def __repr__(self) -> str:
        return f"<unloaded {self._rp_spec.qualname}>"

    def __getattr__(self, name: str) -> Any:
        raise self._fail()

    def __bool__(self) -> bool:
        raise self._fail()

    def __str__(self) -> str:
        raise self._fail()

    def __eq__(self, other: object) -> bool:
        raise self._fail()

    def __hash__(self) -> int:
        raise self._fail()


def _refuse(name: str) -> Any:
    def refuse(self: UnloadedField, *args: Any) -> Any:
        raise self._fail()

    refuse.__name__ = name
    return refuse


# Python looks operators up on the type, past __getattr__, so each one has to refuse explicitly.
for _name in (
    *(f"__{op}__" for op in ("ne", "lt", "le", "gt", "ge", "neg", "pos", "abs", "invert")),
    *(f"__{op}__" for op in ("int", "float", "complex", "index", "round", "trunc", "floor", "ceil")),
    *(f"__{op}__" for op in ("len", "iter", "reversed", "contains", "getitem", "bytes")),
    *(
        f"__{r}{op}__"
        for op in ("add", "sub", "mul", "matmul", "truediv", "floordiv", "mod", "divmod", "pow")
        for r in ("", "r")
    ),
    *(f"__{r}{op}__" for op in ("lshift", "rshift", "and", "xor", "or") for r in ("", "r")),
):
    setattr(UnloadedField, _name, _refuse(_name))
del _name


def _bind(obj: Any, owner: Any, spec: FieldSpec) -> Any:
    object.__setattr__(obj, "_rp_owner", owner)
    object.__setattr__(obj, "_rp_spec", spec)
    return obj


def wrap_value(owner: Any, spec: FieldSpec, value: Any) -> Any:
    """The bound form of ``value``, the field ``spec`` of the model instance ``owner``."""
    kind = type(value)
    plain = _PLAIN.get(kind)
    if plain is not None:  # str, int, float, bytes, Decimal: the common case, kept short
        obj = plain(value)
        obj._rp_owner = owner
        obj._rp_spec = spec
        return obj
    if kind is RedisList or kind is RedisDict:
        return _bind(value, owner, spec)
    if kind is list or kind is dict:
        container = RedisList(value) if kind is list else RedisDict(value)
        owner.__dict__[spec.name] = container
        return _bind(container, owner, spec)
    maker = _MAKERS.get(kind)
    if maker is not None:
        return _bind(maker(value), owner, spec)
    bind_model = getattr(value, "_rp_bind", None)
    if bind_model is not None:
        bind_model(owner, spec.name)
        return value
    if spec.kind == MODEL and isinstance(value, BaseModel):
        # A plain instance of the user's class (assigned with ``=`` or unpickled): store its
        # Redis-enabled copy, as validation would have.
        converted = spec.item_type.model_validate(value)
        owner.__dict__[spec.name] = converted
        converted._rp_bind(owner, spec.name)
        return converted
    return RedisValue(owner, spec, value)


def unloaded_value(owner: Any, spec: FieldSpec) -> UnloadedField:
    """The placeholder a field of a partial instance reads as until it is given or loaded."""
    return UnloadedField(owner, spec)
