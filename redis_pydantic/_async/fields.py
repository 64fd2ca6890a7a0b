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
from typing import Any

from redis_pydantic import _ops
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
    UnloadedBase,
    UUIDValue,
    field_descriptor_class,
)

from .executor import run


class _Bound:
    """Operations every field value has. Subclasses provide ``_rp_owner``/``_rp_spec``."""

    __slots__ = ()
    _rp_owner: Any
    _rp_spec: FieldSpec

    async def set(self, value: Any) -> None:
        """Validate ``value``, write it to this field in Redis, then store it locally."""
        await run(_ops.set_field(self._rp_owner, self._rp_spec, value))

    async def load(self) -> Any:
        """Read this field from Redis, store it locally and return it (at once, even in a pipeline)."""
        return await run(_ops.load_field(self._rp_owner, self._rp_spec))


class _Number(_Bound):
    __slots__ = ()

    async def aincrease(self, amount: Any = 1) -> Any:
        """Add ``amount`` in Redis, update the local value and return the new value."""
        return await run(_ops.increase(self._rp_owner, self._rp_spec, amount))


class RedisStr(_Bound, StrValue, str):
    """A ``str`` field value."""


class RedisInt(_Number, IntValue, int):
    """An ``int`` field value (``JSON.NUMINCRBY`` for ``aincrease``)."""


class RedisFloat(_Number, FloatValue, float):
    """A ``float`` field value (``JSON.NUMINCRBY`` for ``aincrease``)."""


class RedisDecimal(_Number, DecimalValue, decimal.Decimal):
    """A ``Decimal`` field value, stored exactly as a JSON string (``aincrease`` is a
    check-and-set: read, add, write if unchanged)."""


class RedisBytes(_Bound, BytesValue, bytes):
    """A ``bytes`` field value (stored as standard base64 text)."""


class RedisDatetime(_Bound, DatetimeValue, datetime.datetime):
    """A ``datetime`` field value."""


class RedisDate(_Bound, DateValue, datetime.date):
    """A ``date`` field value."""


class RedisTime(_Bound, TimeValue, datetime.time):
    """A ``time`` field value."""


class RedisTimedelta(_Bound, TimedeltaValue, datetime.timedelta):
    """A ``timedelta`` field value."""


class RedisUUID(_Bound, UUIDValue, uuid.UUID):
    """A ``UUID`` field value."""


class RedisTuple(_Bound, TupleValue, tuple):  # type: ignore[type-arg]
    """A ``tuple`` field value."""


class RedisFrozenset(_Bound, FrozensetValue, frozenset):  # type: ignore[type-arg]
    """A ``frozenset`` field value."""


class RedisBool(_Bound, BoolHandle):
    """A ``bool`` field value: truthiness and ``==`` like the bool, plus ``set``/``load``.

    Python forbids subclassing ``bool``, so this is a handle: write ``if model.active:``, never
    ``model.active is True``; ``plain(model.active)`` is the bool itself.
    """

    __slots__ = ()


class _Container(_Bound):
    __slots__ = ()

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._rp_owner = None


class RedisList(_Container, ListValue, list):  # type: ignore[type-arg]
    """A ``list`` field value. Plain list methods change only the local list; the ``a``-prefixed
    methods change Redis atomically first and then the local list."""

    __slots__ = ("_rp_owner", "_rp_spec")

    async def aappend(self, item: Any) -> None:
        """Append ``item`` in Redis (JSON.ARRAPPEND), then locally."""
        await run(_ops.list_append(self._rp_owner, self._rp_spec, item))

    async def aextend(self, items: Iterable[Any]) -> None:
        """Append every item in one JSON.ARRAPPEND, then locally."""
        await run(_ops.list_extend(self._rp_owner, self._rp_spec, items))

    async def ainsert(self, index: int, item: Any) -> None:
        """Insert ``item`` before ``index`` in Redis, then locally (indexes clamp like list.insert)."""
        await run(_ops.list_insert(self._rp_owner, self._rp_spec, index, item))

    async def apop(self, index: int = -1) -> Any:
        """Remove and return the item at ``index`` in Redis. IndexError when empty or out of range."""
        return await run(_ops.list_pop(self._rp_owner, self._rp_spec, index))

    async def aclear(self) -> None:
        """Make the list empty in Redis (``[]`` stays at the path), then locally."""
        await run(_ops.clear_container(self._rp_owner, self._rp_spec, list))


_MISSING: Any = _ops._MISSING


class RedisDict(_Container, DictValue, dict):  # type: ignore[type-arg]
    """A ``dict`` field value. Plain dict methods change only the local dict; the ``a``-prefixed
    methods change Redis atomically first and then the local dict."""

    __slots__ = ("_rp_owner", "_rp_spec")

    async def aset_item(self, key: Any, value: Any) -> None:
        """Set ``self[key] = value`` in Redis, then locally."""
        await run(_ops.dict_set_item(self._rp_owner, self._rp_spec, key, value))

    async def aupdate(self, mapping: Mapping[Any, Any] | None = None, /, **kwargs: Any) -> None:
        """Set several items in one atomic command (a script that checks the path), then locally."""
        items = dict(mapping or {}, **kwargs)
        await run(_ops.dict_update(self._rp_owner, self._rp_spec, items))

    async def adel_item(self, key: Any) -> None:
        """Delete ``key`` in Redis, then locally. KeyError when it is not there."""
        await run(_ops.dict_del(self._rp_owner, self._rp_spec, key))

    async def apop(self, key: Any, default: Any = _MISSING) -> Any:
        """Remove ``key`` in Redis and return its value, or ``default``; KeyError without one."""
        return await run(_ops.dict_pop(self._rp_owner, self._rp_spec, key, default))

    async def apopitem(self) -> tuple[Any, Any]:
        """Remove and return the last ``(key, value)`` pair in Redis. KeyError when empty."""
        return await run(_ops.dict_popitem(self._rp_owner, self._rp_spec))  # type: ignore[no-any-return]

    async def aclear(self) -> None:
        """Make the dict empty in Redis (``{}`` stays at the path), then locally."""
        await run(_ops.clear_container(self._rp_owner, self._rp_spec, dict))


class RedisSet(_Container, SetValue, set):  # type: ignore[type-arg]
    """A ``set`` field value (stored as a JSON array). Plain set methods change only the local set."""

    __slots__ = ("_rp_owner", "_rp_spec")


class UnloadedField(_Bound, UnloadedBase):
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
