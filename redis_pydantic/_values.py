"""The I/O-free parts of field values, shared by both faces.

A model keeps plain values in its ``__dict__``, as pydantic does. Reading a field returns the
smallest wrapper Python allows, made by the face's field descriptor (built here by
:func:`field_descriptor_class`):

- a subclass of the value's own type (``str``, ``int``, ``float``, ``bytes``, ``Decimal``,
  ``datetime``, ``date``, ``time``, ``timedelta``, ``UUID``, ``tuple``, ``frozenset``), made
  afresh on each read and bound to the model that was read;
- for ``list``, ``dict`` and ``set``, the container itself, kept in the model as a bound subclass
  so that plain methods (``append``, ``[k] = v``) change the model's local value;
- ``None`` and enum members as themselves, nested models as themselves (bound to their place in
  the document), and values of other types as they are;
- for ``bool``, which Python forbids subclassing, a small handle that tests truthiness and
  compares with ``==`` like the bool, and pretends to be nothing else.

Every wrapper converts back to its plain value wherever a value leaves the model: :func:`plain`,
pickle, ``copy`` and assignment to another model.
"""

from __future__ import annotations

import copy
import datetime
import decimal
import enum
import typing
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, GetCoreSchemaHandler
from pydantic_core import CoreSchema
from typing_extensions import Self

from redis_pydantic._schema import MODEL, FieldDescriptor, FieldSpec, plain_once
from redis_pydantic.errors import FieldNotLoadedError

_P = TypeVar("_P")


class TypedField(Generic[_P]):
    """Base of every field value class of the faces; ``_P`` is the plain type its field takes.

    For type checkers only, a field value class is also a data descriptor: reading a field
    annotated ``RedisStr`` gives a ``RedisStr``, and assigning it (or, by PEP 681, passing it to
    the model's ``__init__``) takes the plain ``str``. At run time these methods do not exist:
    the model class holds a :class:`~redis_pydantic._schema.FieldDescriptor` for each field.
    """

    __slots__ = ()

    if TYPE_CHECKING:

        def __get__(self, instance: object, owner: type[Any] | None = None) -> Self: ...

        def __set__(self, instance: object, value: _P) -> None: ...


class PlainCopies:
    """pickle, ``copy.copy`` and ``copy.deepcopy`` of a field value give its plain value.

    As a field annotation (``name: RedisStr``, ``tags: RedisList[str]``) the class validates and
    serializes exactly as its plain type does.
    """

    __slots__ = ()
    #: The plain type this value class stands for.
    _rp_plain_type: ClassVar[Any] = object

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        args = typing.get_args(source)
        plain_type = cls._rp_plain_type
        return handler(plain_type[args] if args else plain_type)

    def _rp_plain(self) -> Any:
        raise NotImplementedError

    def __reduce_ex__(self, protocol: Any) -> Any:
        # The plain type rebuilt from the plain value: unpickling needs nothing of this library.
        value = self._rp_plain()
        return type(value), (value,)

    def __copy__(self) -> Any:
        return self._rp_plain()

    def __deepcopy__(self, memo: Any) -> Any:
        return copy.deepcopy(self._rp_plain(), memo)


# Each plain type's conversion; ``str.__str__`` and the like return an exact copy for a subclass.
class StrValue(PlainCopies):
    __slots__ = ()
    _rp_plain_type = str

    def _rp_plain(self) -> str:
        return str.__str__(self)  # type: ignore[arg-type]


class IntValue(PlainCopies):
    __slots__ = ()
    _rp_plain_type = int

    def _rp_plain(self) -> int:
        return int.__int__(self)  # type: ignore[arg-type]


class FloatValue(PlainCopies):
    __slots__ = ()
    _rp_plain_type = float

    def _rp_plain(self) -> float:
        return float.__float__(self)  # type: ignore[arg-type]


class BytesValue(PlainCopies):
    __slots__ = ()
    _rp_plain_type = bytes

    def _rp_plain(self) -> bytes:
        return bytes(self)  # type: ignore[call-overload]


class DecimalValue(PlainCopies):
    __slots__ = ()
    _rp_plain_type = decimal.Decimal

    def _rp_plain(self) -> decimal.Decimal:
        return decimal.Decimal(self)  # type: ignore[arg-type]


class DatetimeValue(PlainCopies):
    __slots__ = ()
    _rp_plain_type = datetime.datetime

    def __reduce_ex__(self, protocol: Any) -> Any:
        return self._rp_plain().__reduce__()

    def _rp_plain(self) -> datetime.datetime:
        v: Any = self
        return datetime.datetime(
            v.year, v.month, v.day, v.hour, v.minute, v.second, v.microsecond, v.tzinfo, fold=v.fold
        )


class DateValue(PlainCopies):
    __slots__ = ()
    _rp_plain_type = datetime.date

    def __reduce_ex__(self, protocol: Any) -> Any:
        return self._rp_plain().__reduce__()

    def _rp_plain(self) -> datetime.date:
        v: Any = self
        return datetime.date(v.year, v.month, v.day)


class TimeValue(PlainCopies):
    __slots__ = ()
    _rp_plain_type = datetime.time

    def __reduce_ex__(self, protocol: Any) -> Any:
        return self._rp_plain().__reduce__()

    def _rp_plain(self) -> datetime.time:
        v: Any = self
        return datetime.time(v.hour, v.minute, v.second, v.microsecond, v.tzinfo, fold=v.fold)


class TimedeltaValue(PlainCopies):
    __slots__ = ()
    _rp_plain_type = datetime.timedelta

    def __reduce_ex__(self, protocol: Any) -> Any:
        return self._rp_plain().__reduce__()

    def _rp_plain(self) -> datetime.timedelta:
        v: Any = self
        return datetime.timedelta(v.days, v.seconds, v.microseconds)


class UUIDValue(PlainCopies):
    __slots__ = ()
    _rp_plain_type = uuid.UUID

    def __reduce_ex__(self, protocol: Any) -> Any:
        return uuid.UUID, (str(self),)

    def _rp_plain(self) -> uuid.UUID:
        v: Any = self
        return uuid.UUID(int=v.int, is_safe=v.is_safe)


class TupleValue(PlainCopies):
    __slots__ = ()
    _rp_plain_type = tuple

    def _rp_plain(self) -> tuple[Any, ...]:
        return tuple(self)  # type: ignore[arg-type]


class FrozensetValue(PlainCopies):
    __slots__ = ()
    _rp_plain_type = frozenset

    def _rp_plain(self) -> frozenset[Any]:
        return frozenset(self)  # type: ignore[call-overload]


class ListValue(PlainCopies):
    __slots__ = ()
    _rp_plain_type = list

    def _rp_plain(self) -> list[Any]:
        return list(self)  # type: ignore[call-overload]


class DictValue(PlainCopies):
    __slots__ = ()
    _rp_plain_type = dict

    def _rp_plain(self) -> dict[Any, Any]:
        return dict(self)  # type: ignore[call-overload]


class SetValue(PlainCopies):
    __slots__ = ()
    _rp_plain_type = set

    def _rp_plain(self) -> set[Any]:
        return set(self)  # type: ignore[call-overload]


class BoolHandle(PlainCopies):
    """What a ``bool`` field reads as: it tests truthiness, compares with ``==`` and hashes like
    the bool, and has the field's operations. It is not a ``bool`` (Python forbids that): write
    ``if user.active:`` or ``user.active == False``, never ``is``; :func:`plain` gives the bool.
    """

    __slots__ = ("_rp_owner", "_rp_spec", "_rp_value")
    _rp_plain_type = bool

    def __init__(self, value: bool) -> None:
        self._rp_owner: Any = None
        self._rp_spec: Any = None
        self._rp_value = bool(value)

    def _rp_plain(self) -> bool:
        return self._rp_value

    def __bool__(self) -> bool:
        return self._rp_value

    def __eq__(self, other: object) -> bool:
        if isinstance(other, BoolHandle):
            other = other._rp_value
        return bool(self._rp_value == other)

    def __ne__(self, other: object) -> bool:
        return not self == other

    def __hash__(self) -> int:
        return hash(self._rp_value)

    def __repr__(self) -> str:
        return repr(self._rp_value)

    def __str__(self) -> str:
        return str(self._rp_value)

    def __format__(self, spec: str) -> str:
        return format(self._rp_value, spec)


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

    def __reduce_ex__(self, protocol: Any) -> Any:
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


def assignable(value: Any) -> Any:
    """What a model stores when ``value`` is assigned to one of its fields with ``=``.

    A value read from a model (this one or another) is stored as its plain value, so it can
    never write into the document it was read from; a nested model attached to a document is
    stored as a copy.
    """
    unwrapped = plain_once(value)
    if unwrapped is not value:
        return unwrapped
    if getattr(value, "_rp_root", False) is not False and hasattr(value, "_rp_claim"):
        return type(value).model_validate(value)  # nested classes always copy on validation
    return value


def field_descriptor_class(
    scalars: dict[type, type],
    others: dict[type, type],
    containers: dict[type, type],
    bool_cls: Callable[[bool], Any],
    unloaded_cls: Callable[[Any, FieldSpec], Any],
) -> type[FieldDescriptor]:
    """Build a face's field descriptor from its bound value classes.

    ``scalars`` maps the plain types whose constructor copies a value (``str``, ``int``,
    ``float``, ``bytes``, ``Decimal``, ``tuple``, ``frozenset``) to their bound subclasses;
    ``others`` does the same for ``datetime``, ``date``, ``time``, ``timedelta`` and ``UUID``;
    ``containers`` maps ``list``, ``dict`` and ``set`` to the bound containers kept in the model.
    """
    bound_containers = frozenset(containers.values())

    def make_datetime(cls: Any, v: datetime.datetime) -> Any:
        return cls(v.year, v.month, v.day, v.hour, v.minute, v.second, v.microsecond, v.tzinfo, fold=v.fold)

    def make_date(cls: Any, v: datetime.date) -> Any:
        return cls(v.year, v.month, v.day)

    def make_time(cls: Any, v: datetime.time) -> Any:
        return cls(v.hour, v.minute, v.second, v.microsecond, v.tzinfo, fold=v.fold)

    def make_timedelta(cls: Any, v: datetime.timedelta) -> Any:
        return cls(v.days, v.seconds, v.microseconds)

    def make_uuid(cls: Any, v: uuid.UUID) -> Any:
        u = object.__new__(cls)
        object.__setattr__(u, "int", v.int)
        object.__setattr__(u, "is_safe", v.is_safe)
        return u

    makers: dict[type, tuple[type, Callable[[Any, Any], Any]]] = {}
    for plain_type, make in (
        (datetime.datetime, make_datetime),
        (datetime.date, make_date),
        (datetime.time, make_time),
        (datetime.timedelta, make_timedelta),
        (uuid.UUID, make_uuid),
    ):
        makers[plain_type] = (others[plain_type], make)

    def contain(owner: Any, spec: FieldSpec, value: Any) -> Any:
        """Keep ``value`` (a list, dict or set) in ``owner`` as a container bound to it."""
        cls = containers[type(value)] if type(value) in containers else containers[type(plain_once(value))]
        container = cls(value)
        container._rp_owner = owner
        container._rp_spec = spec
        owner.__dict__[spec.name] = container
        return container

    def wrap_other(owner: Any, spec: FieldSpec, value: Any) -> Any:
        if value is None or isinstance(value, enum.Enum):
            return value
        kind = type(value)
        if kind is bool:
            handle = bool_cls(value)
            handle._rp_owner = owner
            handle._rp_spec = spec
            return handle
        if kind in containers or kind in bound_containers:
            # A plain container (set with =, or a default), or one bound to another model (a
            # shallow copy of a model shares its containers): this model gets its own.
            return contain(owner, spec, value)
        maker = makers.get(kind)
        if maker is not None:
            cls, make = maker
            obj = make(cls, value)
            object.__setattr__(obj, "_rp_owner", owner)  # UUID refuses plain attribute setting
            object.__setattr__(obj, "_rp_spec", spec)
            return obj
        claim = getattr(value, "_rp_claim", None)
        if claim is not None:
            return claim(owner, spec)
        if spec.kind == MODEL and isinstance(value, BaseModel):
            # A plain instance of the user's class (assigned with ``=`` or unpickled): the field
            # holds its Redis-enabled copy, as validation would have made.
            value = owner.__dict__[spec.name] = spec.item_type.model_validate(value)
            return value._rp_claim(owner, spec)
        to_plain = getattr(kind, "_rp_plain", None)
        if to_plain is not None:
            # A value read from a model and put in this one's __dict__ directly (a default of a
            # Redis type, model_construct, model_copy(update=...)): keep its plain value.
            value = owner.__dict__[spec.name] = to_plain(value)
            bound_cls = scalars.get(type(value))
            if bound_cls is None:
                return wrap_other(owner, spec, value)
            obj = bound_cls(value)
            obj._rp_owner = owner
            obj._rp_spec = spec
            return obj
        return value

    class BoundFieldDescriptor(FieldDescriptor):
        __slots__ = ()

        def __get__(self, instance: Any, owner: type | None = None) -> Any:
            if instance is None:
                return self.class_get(owner)
            try:
                value = instance.__dict__[self.name]
            except KeyError:
                return unloaded_cls(instance, self.spec)
            # The common cases first, in this one call: every field operation starts here.
            kind = type(value)
            cls = scalars.get(kind)
            if cls is not None:  # str, int, float, bytes, Decimal, tuple, frozenset
                obj = cls(value)
                obj._rp_owner = instance
                obj._rp_spec = self.spec
                return obj
            if kind in bound_containers and value._rp_owner is instance:
                return value
            # A nested model already attached at this field of this stored model (NestedCore.
            # _rp_claim would return it as it is).
            if getattr(value, "_rp_root", False) is instance and value._rp_path is self.spec.parts:
                return value
            return wrap_other(instance, self.spec, value)

    return BoundFieldDescriptor
