"""Field values with Redis operations (see :mod:`redis_pydantic._values` for the value model).

Reading a field gives a value of the field's own type with the field's operations attached:
``set``/``load`` everywhere, ``aincrease`` on numbers, the ``a``-prefixed list and dict
operations on containers. A value is a handle to the field of the model it was read from: its
operations always act on that model's current field.
"""

from __future__ import annotations

import datetime
import decimal
import uuid
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar, overload

from typing_extensions import Self

from redis_pydantic import _ops
from redis_pydantic._compat import AsyncResult
from redis_pydantic._schema import FieldSpec
from redis_pydantic._values import (
    BoolHandle,
    BytesValue,
    DatetimeValue,
    DateValue,
    DecimalValue,
    DictValue,
    FloatValue,
    FrozensetValue,
    IntValue,
    ListValue,
    SetValue,
    StrValue,
    TimedeltaValue,
    TimeValue,
    TupleValue,
    TypedField,
    UnloadedBase,
    UUIDValue,
    field_descriptor_class,
)

from .executor import run_field

_P = TypeVar("_P")
_T = TypeVar("_T")
_K = TypeVar("_K")
_V = TypeVar("_V")
_D = TypeVar("_D")


class _Bound(TypedField[_P]):
    """Operations every field value has. Subclasses provide ``_rp_owner``/``_rp_spec``."""

    __slots__ = ()
    _rp_owner: Any
    _rp_spec: FieldSpec

    def set(self, value: _P) -> AsyncResult[None]:
        """Validate ``value``, write it to this field in Redis, then store it locally."""
        return run_field(_ops.SET_FIELD, self, value)

    def load(self) -> AsyncResult[Self]:
        """Read this field from Redis, store it locally and return it (at once, even in a pipeline)."""
        return run_field(_ops.LOAD_FIELD, self)


class _Number(_Bound[_P]):
    __slots__ = ()

    def aincrease(self, amount: _P | int = 1) -> AsyncResult[_P]:
        """Add ``amount`` in Redis, update the local value and return the new value."""
        return run_field(_ops.INCREASE, self, amount)


class RedisStr(_Bound[str], StrValue, str):
    """A ``str`` field value."""

    __slots__ = ("_rp_owner", "_rp_spec")


class RedisInt(_Number[int], IntValue, int):
    """An ``int`` field value (``JSON.NUMINCRBY`` for ``aincrease``)."""


class RedisFloat(_Number[float], FloatValue, float):
    """A ``float`` field value (``JSON.NUMINCRBY`` for ``aincrease``)."""

    __slots__ = ("_rp_owner", "_rp_spec")


class RedisDecimal(_Number[decimal.Decimal], DecimalValue, decimal.Decimal):
    """A ``Decimal`` field value, stored exactly as a JSON string (``aincrease`` is a
    check-and-set: read, add, write if unchanged)."""

    __slots__ = ("_rp_owner", "_rp_spec")


class RedisBytes(_Bound[bytes], BytesValue, bytes):
    """A ``bytes`` field value (stored as standard base64 text)."""


class RedisDatetime(_Bound[datetime.datetime], DatetimeValue, datetime.datetime):
    """A ``datetime`` field value."""

    __slots__ = ("_rp_owner", "_rp_spec")


class RedisDate(_Bound[datetime.date], DateValue, datetime.date):
    """A ``date`` field value."""

    __slots__ = ("_rp_owner", "_rp_spec")


class RedisTime(_Bound[datetime.time], TimeValue, datetime.time):
    """A ``time`` field value."""

    __slots__ = ("_rp_owner", "_rp_spec")


class RedisTimedelta(_Bound[datetime.timedelta], TimedeltaValue, datetime.timedelta):
    """A ``timedelta`` field value."""

    __slots__ = ("_rp_owner", "_rp_spec")


class RedisUUID(_Bound[uuid.UUID], UUIDValue, uuid.UUID):
    """A ``UUID`` field value."""

    __slots__ = ("_rp_owner", "_rp_spec")


class RedisTuple(_Bound[tuple[Any, ...]], TupleValue, tuple[Any, ...]):
    """A ``tuple`` field value."""


class RedisFrozenset(_Bound[frozenset[_T]], FrozensetValue, frozenset[_T]):
    """A ``frozenset`` field value."""

    __slots__ = ("_rp_owner", "_rp_spec")


class RedisBool(_Bound[bool], BoolHandle):
    """A ``bool`` field value: truthiness and ``==`` like the bool, plus ``set``/``load``.

    Python forbids subclassing ``bool``, so this is a handle: write ``if model.active:``, never
    ``model.active is True``; ``plain(model.active)`` is the bool itself.
    """

    __slots__ = ()


class RedisList(_Bound[list[_T]], ListValue, list[_T]):
    """A ``list`` field value. Plain list methods change only the local list; the ``a``-prefixed
    methods change Redis atomically first and then the local list."""

    __slots__ = ("_rp_owner", "_rp_spec")

    def __init__(self, items: Iterable[_T] = (), /) -> None:
        list.__init__(self, items)
        self._rp_owner = None

    def aappend(self, item: _T) -> AsyncResult[None]:
        """Append ``item`` in Redis (JSON.ARRAPPEND), then locally."""
        return run_field(_ops.LIST_APPEND, self, item)

    def aextend(self, items: Iterable[_T]) -> AsyncResult[None]:
        """Append every item in one JSON.ARRAPPEND, then locally."""
        return run_field(_ops.LIST_EXTEND, self, items)

    def ainsert(self, index: int, item: _T) -> AsyncResult[None]:
        """Insert ``item`` before ``index`` in Redis, then locally (indexes clamp like list.insert)."""
        return run_field(_ops.LIST_INSERT, self, (index, item))

    def apop(self, index: int = -1) -> AsyncResult[_T]:
        """Remove and return the item at ``index`` in Redis. IndexError when empty or out of range."""
        return run_field(_ops.LIST_POP, self, index)

    def aclear(self) -> AsyncResult[None]:
        """Make the list empty in Redis (``[]`` stays at the path), then locally."""
        return run_field(_ops.CLEAR_LIST, self)


_MISSING: Any = _ops._MISSING


class RedisDict(_Bound[dict[_K, _V]], DictValue, dict[_K, _V]):
    """A ``dict`` field value. Plain dict methods change only the local dict; the ``a``-prefixed
    methods change Redis atomically first and then the local dict."""

    __slots__ = ("_rp_owner", "_rp_spec")

    def __init__(self, items: Mapping[_K, _V] | None = None, /) -> None:
        dict.__init__(self, items or {})
        self._rp_owner = None

    def aset_item(self, key: _K, value: _V) -> AsyncResult[None]:
        """Set ``self[key] = value`` in Redis, then locally."""
        return run_field(_ops.DICT_SET_ITEM, self, (key, value))

    def aupdate(self, mapping: Mapping[_K, _V] | None = None, /, **kwargs: _V) -> AsyncResult[None]:
        """Set several items in one atomic command (a script that checks the path), then locally."""
        items: dict[Any, Any] = dict(mapping or {})
        items.update(kwargs)
        if len(items) == 1:  # one item: the plain command of aset_item
            return run_field(_ops.DICT_SET_ITEM, self, next(iter(items.items())))
        return run_field(_ops.DICT_UPDATE, self, items)

    def adel_item(self, key: _K) -> AsyncResult[None]:
        """Delete ``key`` in Redis, then locally. KeyError when it is not there."""
        return run_field(_ops.DICT_DEL, self, key)

    @overload
    def apop(self, key: _K, /) -> AsyncResult[_V]: ...

    @overload
    def apop(self, key: _K, default: _V | _D, /) -> AsyncResult[_V | _D]: ...

    def apop(self, key: _K, default: Any = _MISSING, /) -> AsyncResult[Any]:
        """Remove ``key`` in Redis and return its value, or ``default``; KeyError without one."""
        return run_field(_ops.DICT_POP, self, (key, default))

    def apopitem(self) -> AsyncResult[tuple[_K, _V]]:
        """Remove and return the last ``(key, value)`` pair in Redis. KeyError when empty."""
        return run_field(_ops.DICT_POPITEM, self)

    def aclear(self) -> AsyncResult[None]:
        """Make the dict empty in Redis (``{}`` stays at the path), then locally."""
        return run_field(_ops.CLEAR_DICT, self)


class RedisSet(_Bound[set[_T]], SetValue, set[_T]):
    """A ``set`` field value (stored as a JSON array). Plain set methods change only the local set."""

    __slots__ = ("_rp_owner", "_rp_spec")

    def __init__(self, items: Iterable[_T] = (), /) -> None:
        set.__init__(self, items)
        self._rp_owner = None


class UnloadedField(_Bound[Any], UnloadedBase):
    """What a field of a partial instance reads as before it is loaded or set.

    It has ``load()`` and ``set()``; any other use raises :class:`FieldNotLoadedError`.
    """

    __slots__ = ()


FieldDescriptor = field_descriptor_class(
    scalars={
        str: RedisStr,
        int: RedisInt,
        float: RedisFloat,
        bytes: RedisBytes,
        decimal.Decimal: RedisDecimal,
        tuple: RedisTuple,
        frozenset: RedisFrozenset,
    },
    others={
        datetime.datetime: RedisDatetime,
        datetime.date: RedisDate,
        datetime.time: RedisTime,
        datetime.timedelta: RedisTimedelta,
        uuid.UUID: RedisUUID,
    },
    containers={list: RedisList, dict: RedisDict, set: RedisSet},
    bool_cls=RedisBool,
    unloaded_cls=UnloadedField,
)
