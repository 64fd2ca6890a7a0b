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

from redis_pydantic import _ops
from redis_pydantic._schema import FieldSpec
from redis_pydantic._sync.executor import run_single
from redis_pydantic._values import (
    DictCopies,
    ListCopies,
    ScalarCopies,
    UnloadedBase,
    ValueProxy,
    field_descriptor_class,
)


class _Bound:
    """Operations every bound field value has. Subclasses provide ``_rp_owner``/``_rp_spec``."""

    __slots__ = ()
    _rp_owner: Any
    _rp_spec: FieldSpec

    def set(self, value: Any) -> None:
        """Validate ``value``, write it to this field in Redis, then store it locally."""
        run_single(_ops.set_field(self._rp_owner, self._rp_spec, value), what="set")

    def load(self) -> Any:
        """Read this field from Redis, store it locally and return it (at once, even in a pipeline)."""
        run_single(_ops.load_field(self._rp_owner, self._rp_spec), read=True)
        return getattr(self._rp_owner, self._rp_spec.name)


class _BoundScalar(_Bound, ScalarCopies):
    __slots__ = ()


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


class RedisValue(_Bound, ValueProxy):
    """A field value Python does not let us subclass (``bool``, ``None``, enum members...).

    Compare it with ``==``, not ``is``; see :class:`redis_pydantic._values.ValueProxy`.
    """

    __slots__ = ()


class RedisList(_Bound, ListCopies, list):  # type: ignore[type-arg]
    """A ``list`` field value. Plain list methods change only the local list; the ``a``-prefixed
    methods change Redis atomically first and then the local list."""

    __slots__ = ("_rp_owner", "_rp_spec")

    def aappend(self, item: Any) -> None:
        """Append ``item`` in Redis (JSON.ARRAPPEND), then locally."""
        owner, spec = self._rp_owner, self._rp_spec
        single = _ops.list_append(owner, spec, self, item)
        run_single(single, reload=lambda: _ops.load_field(owner, spec), what="aappend")

    def aextend(self, items: Iterable[Any]) -> None:
        """Append every item in one JSON.ARRAPPEND, then locally."""
        owner, spec = self._rp_owner, self._rp_spec
        single = _ops.list_extend(owner, spec, self, items)
        run_single(single, reload=lambda: _ops.load_field(owner, spec), what="aextend")

    def ainsert(self, index: int, item: Any) -> None:
        """Insert ``item`` before ``index`` in Redis, then locally (indexes clamp like list.insert)."""
        owner, spec = self._rp_owner, self._rp_spec
        single = _ops.list_insert(owner, spec, self, index, item)
        run_single(single, reload=lambda: _ops.load_field(owner, spec), what="ainsert")

    def apop(self, index: int = -1) -> Any:
        """Remove and return the item at ``index`` in Redis. IndexError when empty or out of range."""
        owner, spec = self._rp_owner, self._rp_spec
        single = _ops.list_pop(owner, spec, self, index)
        return run_single(
            single, returns_value=True, reload=lambda: _ops.load_field(owner, spec), what="apop"
        )

    def aclear(self) -> None:
        """Make the list empty in Redis (``[]`` stays at the path), then locally."""
        run_single(_ops.clear_container(self._rp_owner, self._rp_spec, self), what="aclear")


_MISSING: Any = _ops._MISSING


class RedisDict(_Bound, DictCopies, dict):  # type: ignore[type-arg]
    """A ``dict`` field value (``Dict[str, T]``). Plain dict methods change only the local dict;
    the ``a``-prefixed methods change Redis atomically first and then the local dict."""

    __slots__ = ("_rp_owner", "_rp_spec")

    def aset_item(self, key: str, value: Any) -> None:
        """Set ``self[key] = value`` in Redis, then locally."""
        run_single(_ops.dict_set_item(self._rp_owner, self._rp_spec, self, key, value), what="aset_item")

    def aupdate(self, mapping: Mapping[str, Any] | None = None, /, **kwargs: Any) -> None:
        """Set several items in one atomic command (a script that checks the path), then locally."""
        items = dict(mapping or {}, **kwargs)
        run_single(_ops.dict_update(self._rp_owner, self._rp_spec, self, items), what="aupdate")

    def adel_item(self, key: str) -> None:
        """Delete ``key`` in Redis, then locally. KeyError when it is not there."""
        run_single(_ops.dict_del(self._rp_owner, self._rp_spec, self, key), what="adel_item")

    def apop(self, key: str, default: Any = _MISSING) -> Any:
        """Remove ``key`` in Redis and return its value, or ``default``; KeyError without one."""
        single = _ops.dict_pop(self._rp_owner, self._rp_spec, self, key, default)
        return run_single(single, returns_value=True, what="apop")

    def apopitem(self) -> tuple[str, Any]:
        """Remove and return the last ``(key, value)`` pair in Redis. KeyError when empty."""
        single = _ops.dict_popitem(self._rp_owner, self._rp_spec, self)
        return run_single(single, returns_value=True, what="apopitem")  # type: ignore[no-any-return]

    def aclear(self) -> None:
        """Make the dict empty in Redis (``{}`` stays at the path), then locally."""
        run_single(_ops.clear_container(self._rp_owner, self._rp_spec, self), what="aclear")


class UnloadedField(_Bound, UnloadedBase):
    """What a field of a partial instance reads as before it is loaded or set.

    It has ``load()`` and ``set()``; any other use raises :class:`FieldNotLoadedError`.
    """

    __slots__ = ()


FieldDescriptor = field_descriptor_class(
    {str: RedisStr, int: RedisInt, float: RedisFloat, bytes: RedisBytes, decimal.Decimal: RedisDecimal},
    RedisDatetime,
    RedisDate,
    RedisUUID,
    RedisList,
    RedisDict,
    RedisValue,
    UnloadedField,
)
