"""The I/O-free parts of bound field values, shared by both faces.

Each face's ``fields`` module combines these with its own ``set``/``load`` and atomic methods,
and builds its field descriptor class with :func:`field_descriptor_class`.
"""

from __future__ import annotations

import copy
import datetime
import uuid
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from redis_pydantic._schema import MODEL, FieldDescriptor, FieldSpec
from redis_pydantic.errors import FieldNotLoadedError


class ScalarCopies:
    """Copies and pickles of a bound scalar hold the plain value, never the owning model."""

    __slots__ = ()
    _rp_owner: Any
    _rp_spec: FieldSpec

    def __reduce_ex__(self, protocol: Any) -> Any:
        return self._rp_owner.__dict__[self._rp_spec.name].__reduce_ex__(protocol)

    def __copy__(self) -> Any:
        return self._rp_owner.__dict__[self._rp_spec.name]

    def __deepcopy__(self, memo: Any) -> Any:
        return self._rp_owner.__dict__[self._rp_spec.name]


class ListCopies:
    """Copies and pickles of a bound list are plain lists."""

    __slots__ = ()

    def __reduce_ex__(self, protocol: Any) -> Any:
        return (list, (list(self),))  # type: ignore[call-overload]

    def __copy__(self) -> list[Any]:
        return list(self)  # type: ignore[call-overload]

    def __deepcopy__(self, memo: Any) -> list[Any]:
        return copy.deepcopy(list(self), memo)  # type: ignore[call-overload]


class DictCopies:
    """Copies and pickles of a bound dict are plain dicts."""

    __slots__ = ()

    def __reduce_ex__(self, protocol: Any) -> Any:
        return (dict, (dict(self),))  # type: ignore[call-overload]

    def __copy__(self) -> dict[Any, Any]:
        return dict(self)  # type: ignore[call-overload]

    def __deepcopy__(self, memo: Any) -> dict[Any, Any]:
        return copy.deepcopy(dict(self), memo)  # type: ignore[call-overload]


class ValueProxy:
    """Stands for a value Python does not let us subclass: ``bool``, ``None``, enum members...

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
        if isinstance(other, ValueProxy):
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


class UnloadedBase:
    """What a field of a partial instance reads as before it is loaded or set.

    Apart from the face's ``load()`` and ``set()``, any use raises :class:`FieldNotLoadedError`.
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
    def refuse(self: UnloadedBase, *args: Any) -> Any:
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
    setattr(UnloadedBase, _name, _refuse(_name))
del _name


def _bind(obj: Any, owner: Any, spec: FieldSpec) -> Any:
    object.__setattr__(obj, "_rp_owner", owner)
    object.__setattr__(obj, "_rp_spec", spec)
    return obj


def field_descriptor_class(
    plain: dict[type, type],
    datetime_cls: type[datetime.datetime],
    date_cls: type[datetime.date],
    uuid_cls: type[uuid.UUID],
    list_cls: type[list[Any]],
    dict_cls: type[dict[Any, Any]],
    proxy_cls: type[ValueProxy],
    unloaded_cls: Callable[[Any, FieldSpec], Any],
) -> type[FieldDescriptor]:
    """Build a face's field descriptor from its bound value classes.

    Reading a field returns the bound form of its value: ``plain`` maps str, int, float, bytes
    and Decimal to their bound subclasses; lists and dicts become (and stay) the face's bound
    containers; a field of a partial instance that was not loaded reads as ``unloaded_cls``.
    """

    def make_datetime(v: datetime.datetime) -> Any:
        return datetime_cls(
            v.year, v.month, v.day, v.hour, v.minute, v.second, v.microsecond, v.tzinfo, fold=v.fold
        )

    def make_uuid(v: uuid.UUID) -> Any:
        u = object.__new__(uuid_cls)
        object.__setattr__(u, "int", v.int)
        object.__setattr__(u, "is_safe", v.is_safe)
        return u

    makers: dict[type, Callable[[Any], Any]] = {
        datetime.datetime: make_datetime,
        datetime.date: lambda v: date_cls(v.year, v.month, v.day),
        uuid.UUID: make_uuid,
    }

    def wrap_other(owner: Any, spec: FieldSpec, value: Any) -> Any:
        kind = type(value)
        if kind is list or kind is dict:
            container = list_cls(value) if kind is list else dict_cls(value)
            owner.__dict__[spec.name] = container
            return _bind(container, owner, spec)
        maker = makers.get(kind)
        if maker is not None:
            return _bind(maker(value), owner, spec)
        bind_model = getattr(value, "_rp_bind", None)
        if bind_model is not None:
            bind_model(owner, spec)
            return value
        if spec.kind == MODEL and isinstance(value, BaseModel):
            # A plain instance of the user's class (assigned with ``=`` or unpickled): store its
            # Redis-enabled copy, as validation would have.
            converted = spec.item_type.model_validate(value)
            owner.__dict__[spec.name] = converted
            converted._rp_bind(owner, spec)
            return converted
        return proxy_cls(owner, spec, value)

    class BoundFieldDescriptor(FieldDescriptor):
        __slots__ = ()

        def __get__(self, instance: Any, owner: type | None = None) -> Any:
            if instance is None:
                raise self.class_access()
            try:
                value = instance.__dict__[self.name]
            except KeyError:
                return unloaded_cls(instance, self.spec)
            # The common cases first, in this one call: every field operation starts here.
            kind = type(value)
            cls = plain.get(kind)
            if cls is not None:  # str, int, float, bytes, Decimal
                obj = cls(value)
                obj._rp_owner = instance
                obj._rp_spec = self.spec
                return obj
            if kind is list_cls or kind is dict_cls:
                return _bind(value, instance, self.spec)
            return wrap_other(instance, self.spec, value)

    return BoundFieldDescriptor
