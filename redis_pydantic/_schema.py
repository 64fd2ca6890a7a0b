"""Schema walking shared by both faces: field specs, nested-model classes and descriptors.

Nothing here does I/O. Each face (``_async`` and ``_sync``) passes in the classes that carry
its own I/O methods.
"""

from __future__ import annotations

import base64
import collections.abc
import contextlib
import contextvars
import copy
import dataclasses
import datetime
import decimal
import enum
import json
import math
import pathlib
import types
import typing
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Annotated, Any, Literal, Union

import typing_extensions
from pydantic import (
    BaseModel,
    ConfigDict,
    PlainSerializer,
    TypeAdapter,
    ValidationError,
    WrapSerializer,
)
from pydantic.errors import PydanticInvalidForJsonSchema, PydanticSchemaGenerationError, PydanticUserError
from pydantic.fields import FieldInfo
from pydantic_core import PydanticSerializationError, SchemaSerializer, SchemaValidator

from redis_pydantic._paths import json_path_for
from redis_pydantic.errors import (
    FieldValidationError,
    ReservedFieldNameError,
    UnsupportedFieldTypeError,
    ValueNotSerializableError,
    not_serializable,
)

#: The pydantic settings every stored model gets: bytes travel as base64 text in JSON.
JSON_BYTES_CONFIG = ConfigDict(ser_json_bytes="base64", val_json_bytes="base64", ser_json_inf_nan="constants")

#: Extra settings for nested models: accept instances of the user's original class (and dicts)
#: and always copy on validation, so two parents never share one mutable nested object.
NESTED_CONFIG = ConfigDict(
    ser_json_bytes="base64",
    ser_json_inf_nan="constants",
    val_json_bytes="base64",
    from_attributes=True,
    revalidate_instances="always",
    validate_by_name=True,
    validate_by_alias=True,
)

LIST = "list"
DICT = "dict"
MODEL = "model"
INT = "int"
FLOAT = "float"
DECIMAL = "decimal"
OTHER = "other"

#: The numeric kinds: fields of these have ``aincrease``.
NUMBERS = frozenset({INT, FLOAT, DECIMAL})

_NONE_TYPES = (type(None), None)


def annotation_layers(annotation: Any) -> Iterator[Any]:
    """``annotation``, then each type inside the ``Annotated`` and ``Optional`` around it, as long
    as dropping them leaves one type."""
    while True:
        yield annotation
        origin = typing.get_origin(annotation)
        if origin is Annotated:
            annotation = typing.get_args(annotation)[0]
            continue
        if origin in (Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a not in _NONE_TYPES]
            if len(args) == 1:
                annotation = args[0]
                continue
        return


def strip_annotation(annotation: Any) -> Any:
    """Drop ``Annotated`` and ``Optional`` from an annotation when that leaves one type."""
    *_, core = annotation_layers(annotation)
    return core


def _classify(annotation: Any) -> tuple[str, Any]:
    """The kind of a field for atomic operations, and its item type for lists and dicts."""
    core = strip_annotation(annotation)
    origin = typing.get_origin(core) or core
    args = typing.get_args(core)
    if origin in (Union, types.UnionType):
        # ``list[str] | str``: the list and dict operations use the one list (or dict) arm.
        arms = [_classify(arm) for arm in args if arm not in _NONE_TYPES]
        for kind in (LIST, DICT):
            matching = [item for k, item in arms if k == kind]
            if len(matching) == 1:
                return kind, matching[0]
        return OTHER, Any
    if origin in (list, collections.abc.MutableSequence, collections.abc.Sequence, typing.List):  # noqa: UP006
        return LIST, (args[0] if args else Any)
    if origin in (dict, collections.abc.MutableMapping, collections.abc.Mapping, typing.Dict):  # noqa: UP006
        return DICT, (args[1] if len(args) == 2 else Any)
    if isinstance(core, type) and issubclass(core, BaseModel):
        return MODEL, core
    if core is int:
        return INT, int
    if core is float:
        return FLOAT, float
    if core is decimal.Decimal:
        return DECIMAL, decimal.Decimal
    return OTHER, Any


def _dict_key_type(annotation: Any) -> Any:
    """The key type of the dict arm of a field's annotation (``str`` when not given)."""
    core = strip_annotation(annotation)
    origin = typing.get_origin(core) or core
    args = typing.get_args(core)
    if origin in (Union, types.UnionType):
        for arm in args:
            if _classify(arm)[0] == DICT:
                return _dict_key_type(arm)
    if len(args) != 2:
        return str
    key = strip_annotation(args[0])  # Annotated[str, ...] keys are str keys (their schema checks them)
    return key if key is str else args[0]


def _field_annotations(cls: type) -> list[Any] | None:
    """The annotations of the fields of a model, dataclass, TypedDict or NamedTuple class
    (``None`` for other classes). One that cannot be resolved counts as ``Any``."""
    if issubclass(cls, BaseModel):
        return [f.annotation for f in cls.__pydantic_fields__.values()]
    if (
        dataclasses.is_dataclass(cls)
        or typing_extensions.is_typeddict(cls)  # (typing's misses typing_extensions' before 3.12)
        or (issubclass(cls, tuple) and hasattr(cls, "_fields"))
    ):
        try:
            return list(typing.get_type_hints(cls, include_extras=True).values())
        except Exception:  # noqa: BLE001 - a name that does not resolve: assume the worst
            return [Any]
    return None


def contains_any(annotation: Any, seen: frozenset[type] = frozenset()) -> bool:
    """Whether values of ``annotation`` can hold anything (``Any``, ``object``, bare ``list``...),
    also in the fields of a model they hold.

    Such values are stored as whatever JSON makes of them (bytes and datetimes as text), so the
    local value after a write is read back from that JSON, to stay equal to what get() returns.
    """
    if annotation is Any or annotation is object:
        return True
    if isinstance(annotation, type) and typing.get_origin(annotation) is None:
        fields = _field_annotations(annotation)
        if fields is not None:
            if annotation in seen:  # a model that holds itself: its fields are being looked at
                return False
            inner = seen | {annotation}
            return any(contains_any(a, inner) for a in fields)
        return annotation in (list, dict, set, frozenset, tuple)
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is Literal:
        return False
    if origin is Annotated:
        return contains_any(args[0], seen)
    if origin is not None and not args:
        return True
    return any(contains_any(a, seen) for a in args if a is not Ellipsis)


#: Types whose values JSON writes as strings: in a union with another of them (or with ``str``)
#: the JSON cannot tell which one was written.
_WRITTEN_AS_TEXT: tuple[type, ...] = (
    str,
    bytes,
    datetime.datetime,
    datetime.date,
    datetime.time,
    datetime.timedelta,
    uuid.UUID,
    decimal.Decimal,
    enum.Enum,
    pathlib.PurePath,
)


def ambiguous_in_json(annotation: Any, seen: frozenset[type] = frozenset()) -> bool:
    """Whether ``annotation`` holds a union of two types that JSON writes as strings
    (``str | bytes``, ``str | datetime``, ``date | datetime``...), also in the fields of a model
    it holds. What such a value reads back as depends on the union, not on the value written,
    so the local value after a write is read back from its JSON, as for ``Any``."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is None:
        fields = _field_annotations(annotation) if isinstance(annotation, type) else None
        if fields is not None and annotation not in seen:
            inner = seen | {annotation}
            return any(ambiguous_in_json(a, inner) for a in fields)
        return False
    if origin is Annotated:
        return ambiguous_in_json(args[0], seen)
    if origin is Literal:
        return False
    if origin is Union or origin is types.UnionType:
        as_text = 0
        for arg in args:
            while typing.get_origin(arg) is Annotated:
                arg = typing.get_args(arg)[0]
            if typing.get_origin(arg) is Literal:
                as_text += any(isinstance(v, str) for v in typing.get_args(arg))
            elif isinstance(arg, type) and issubclass(arg, _WRITTEN_AS_TEXT):
                as_text += 1
        if as_text > 1:
            return True
    return any(ambiguous_in_json(a, seen) for a in args if a is not Ellipsis)


def holds_mutable_items(annotation: Any, inside: bool = False, seen: frozenset[type] = frozenset()) -> bool:
    """Whether values of ``annotation`` may hold a container or a model inside a container (a
    ``list[Profile]``, a ``dict[str, list[str]]``, an ``Any``), also in the fields of a model
    they hold: such an item may be an object of another model, put there in place."""
    if annotation is Any or annotation is object:
        return True
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if isinstance(annotation, type) and origin is None:
        if issubclass(annotation, BaseModel):
            if inside:
                return True
            if annotation in seen:
                return False
            inner = seen | {annotation}
            return any(
                holds_mutable_items(f.annotation, False, inner)
                for f in annotation.__pydantic_fields__.values()
            )
        return annotation in (list, dict, set, frozenset, tuple) or (
            inside and issubclass(annotation, list | dict | set | frozenset | tuple)
        )
    if origin is Literal:
        return False
    if origin is Annotated:
        return holds_mutable_items(args[0], inside, seen)
    if origin is typing.Union or origin is types.UnionType:
        return any(holds_mutable_items(a, inside, seen) for a in args)
    if origin is not None and not args:
        return True
    # A generic container (list[...], dict[...], Sequence[...], RedisList[...]): its items.
    return inside or any(holds_mutable_items(a, True, seen) for a in args if a is not Ellipsis)


def type_name(annotation: Any) -> str:
    """How a type reads in messages: ``int``, ``list[str]``, ``int | None``."""
    if isinstance(annotation, type) and typing.get_origin(annotation) is None:
        return annotation.__name__
    if typing.get_origin(annotation) is Annotated:
        return type_name(typing.get_args(annotation)[0])
    return repr(annotation).replace("typing.", "")


def item_adapter(item_type: Any) -> TypeAdapter[Any]:
    """A TypeAdapter for list items / dict values that stores bytes as base64, like models do."""
    try:
        return TypeAdapter(item_type, config=JSON_BYTES_CONFIG)
    except PydanticUserError:  # types with their own config (models) refuse a config
        return TypeAdapter(item_type)


def _model_fields_schema(cls: type[BaseModel]) -> tuple[Any, list[Any], Any]:
    """The ``model-fields`` core schema of a model class, the definitions it may use, and the
    model's core config."""
    schema: Any = cls.__pydantic_core_schema__
    definitions: list[Any] = []
    config = None
    for _ in range(64):
        kind = schema["type"]
        if kind == "definitions":
            definitions.extend(schema["definitions"])
            schema = schema["schema"]
        elif kind == "definition-ref":
            ref = schema["schema_ref"]
            schema = next(d for d in definitions if d.get("ref") == ref)
        elif kind == "model-fields":
            return schema, definitions, config
        else:
            if kind == "model":
                config = schema.get("config")
            schema = schema["schema"]
    raise LookupError(cls.__name__)


def _with_definitions(schema: Any, definitions: list[Any]) -> Any:
    return {"type": "definitions", "schema": schema, "definitions": definitions} if definitions else schema


def _field_core_schema(cls: type[BaseModel], name: str) -> tuple[Any, Any]:
    """Cut the core schema of one field out of a model's core schema.

    The field schema keeps the field's constraints and ``@field_validator`` functions, so a
    value given to ``set()`` is validated exactly as pydantic validates it in the model.
    """
    fields, definitions, config = _model_fields_schema(cls)
    return _with_definitions(fields["fields"][name]["schema"], definitions), config


#: The values of the model whose field is being validated, for validators that read the
#: model's other fields (see :class:`_WithModelValues`); set by :func:`values_of`.
_model_values: contextvars.ContextVar[Mapping[str, Any] | None] = contextvars.ContextVar(
    "redis_pydantic.model_values", default=None
)


@contextlib.contextmanager
def values_of(model: Any) -> Iterator[None]:
    """Validate fields with ``model``'s values as the other fields (``ValidationInfo.data``)."""
    token = _model_values.set(model.__dict__)
    try:
        yield
    finally:
        _model_values.reset(token)


def _may_read_data(function: Any) -> bool:
    """Whether a validator that takes ``ValidationInfo`` may read ``info.data``: its code names
    ``data`` (a validator that only reads ``info.field_name`` or ``info.context`` does not), or
    it has no code to look at."""
    code = getattr(getattr(function, "__func__", function), "__code__", None)
    if code is None:
        return True
    return "data" in code.co_names or any(
        isinstance(const, types.CodeType) and "data" in const.co_names for const in code.co_consts
    )


def _reads_other_fields(schema: Any) -> bool:
    """Whether a field's core schema has a validator that takes ``ValidationInfo`` (and may read
    the model's other fields from ``info.data``); nested models' own validators do not count."""
    if isinstance(schema, dict):
        kind = schema.get("type")
        if kind in ("model", "definition-ref"):
            return False
        if isinstance(kind, str) and kind.startswith("function-"):
            function = schema.get("function")
            if (
                isinstance(function, dict)
                and function.get("type") == "with-info"
                and _may_read_data(function.get("function"))
            ):
                return True
        return any(_reads_other_fields(v) for k, v in schema.items() if k != "serialization")
    if isinstance(schema, list | tuple):
        return any(_reads_other_fields(v) for v in schema)
    return False


def reads_other_fields(cls: type[BaseModel]) -> bool:
    """Whether a validator of one of the model's fields takes ``ValidationInfo``, and so may
    check the field with the model's other values (worked out once per class)."""
    found = cls.__dict__.get("__rp_reads_other_fields__")
    if found is None:
        fields = _model_fields_schema(cls)[0]["fields"]
        found = any(_reads_other_fields(field["schema"]) for field in fields.values())
        type.__setattr__(cls, "__rp_reads_other_fields__", found)
    return found  # type: ignore[no-any-return]


class _WithModelValues:
    """The validator of a field whose validators read the model's other fields
    (``ValidationInfo.data``): the field is validated as pydantic validates it in the model,
    after the fields before it, which hold the model's values (:func:`values_of`), or their
    defaults."""

    __slots__ = ("name", "before", "validator", "specs")

    def __init__(self, owner: type[BaseModel], name: str, strict: bool) -> None:
        fields, definitions, config = _model_fields_schema(owner)
        names = list(fields["fields"])
        self.name = name
        self.before = tuple(names[: names.index(name)])
        prefix = {**fields, "fields": {n: fields["fields"][n] for n in (*self.before, name)}}
        self.validator = SchemaValidator(
            _with_definitions(prefix, definitions), {**(config or {}), "strict": strict}
        )
        self.specs = field_specs(owner)

    def _values(self) -> dict[str, Any]:
        values = _model_values.get() or {}
        return {n: values[n] for n in self.before if n in values}

    def validate_python(self, value: Any) -> Any:
        data = self._values()
        data[self.name] = value
        return self.validator.validate_python(data)[0][self.name]

    def validate_json(self, text: str | bytes) -> Any:
        members = [
            json.dumps(n).encode() + b":" + self.specs[n].dump_json(v) for n, v in self._values().items()
        ]
        raw = text.encode() if isinstance(text, str) else text
        members.append(json.dumps(self.name).encode() + b":" + raw)
        return self.validator.validate_json(b"{" + b",".join(members) + b"}")[0][self.name]


def _container_schema(schema: Any) -> tuple[Any, Any]:
    """The list, set or dict schema inside a field's schema, and the definitions it may use."""
    definitions = None
    while True:
        kind = schema.get("type")
        if kind == "definitions":
            definitions = schema["definitions"]
            schema = schema["schema"]
        elif kind in ("default", "nullable", "function-after", "function-before", "function-wrap"):
            # (A validator of the whole value is not one of an item: see whole_checks.)
            schema = schema["schema"]
        else:
            break
    return schema, definitions


def _item_schema(schema: Any) -> Any:
    """The core schema of the items of a list or set field's schema, or of the values of a dict
    field's, with the definitions it may use (``None`` when there is no such schema)."""
    schema, definitions = _container_schema(schema)
    kind = schema.get("type")
    if kind in ("list", "set", "frozenset"):
        item = schema.get("items_schema", {"type": "any"})
    elif kind == "dict":
        item = schema.get("values_schema", {"type": "any"})
    else:
        return None
    return _with_definitions(item, definitions)


def _dict_schemas(schema: Any) -> tuple[Any, Any, Any] | None:
    """For a dict field's schema: the core schema of its keys, that of a dict of its keys and
    values without the checks of the whole dict (its length, its validators), and that of a dict
    of its keys and any values, each with the definitions it may use. ``None`` for other fields."""
    schema, definitions = _container_schema(schema)
    if schema.get("type") != "dict":
        return None
    keys = schema.get("keys_schema", {"type": "any"})
    values = schema.get("values_schema", {"type": "any"})
    items = {"type": "dict", "keys_schema": keys, "values_schema": values}
    any_values = {"type": "dict", "keys_schema": keys, "values_schema": {"type": "any"}}
    return (
        _with_definitions(keys, definitions),
        _with_definitions(items, definitions),
        _with_definitions(any_values, definitions),
    )


#: Core-schema wrappers that do not validate anything themselves.
_TRANSPARENT = ("default", "nullable", "definitions")
_CONTAINERS = ("list", "dict", "set", "frozenset", "tuple")
_NUMBERS = ("int", "float", "decimal")


def needs_whole_value(schema: Any) -> bool:
    """Whether a field's core schema checks more than each item (or the type) on its own.

    Unknown shapes count as yes: a check-and-set is always correct, only slower.
    """
    kind = schema.get("type")
    if kind in _TRANSPARENT:
        return needs_whole_value(schema["schema"])
    if kind in _CONTAINERS:
        return "min_length" in schema or "max_length" in schema
    if kind in _NUMBERS:
        return any(bound in schema for bound in ("gt", "ge", "lt", "le", "multiple_of"))
    if kind in ("str", "bytes", "bool", "datetime", "date", "time", "timedelta", "uuid", "any", "none"):
        return False
    if kind in ("model", "enum", "literal", "json-or-python"):
        return False
    return True


def plain(value: Any) -> Any:
    """The plain value of a field value: ``plain(user.active)`` is a real ``bool``,
    ``plain(user.tags)`` a plain ``list``, ``plain(user.address)`` an instance of your own
    ``Address`` class. A value read from a model is converted all the way down, into a copy that
    shares no list, dict or model with it (private attributes of models are copied shallowly).
    Any other value is returned as it is.

    Use it where a value leaves the model and its consumer wants the exact type: ``json.dumps``
    of a bool, another pydantic model's strict ``bool`` field, a template engine.
    """
    kind = type(value)
    to_plain = getattr(kind, "_rp_plain", None)
    if to_plain is not None:  # a str, bool, list... read from a model
        value = to_plain(value)
        return value if type(value) in _PLAIN_LEAVES else _detached(value)
    if hasattr(kind, "__rp_original__") or _attached_stored(value, kind):
        return _detached(value)
    return value


#: Types whose values cannot hold a value read from a model, nor be changed in place.
_PLAIN_LEAVES = frozenset(
    {
        str,
        int,
        float,
        bool,
        type(None),
        bytes,
        decimal.Decimal,
        uuid.UUID,
        datetime.datetime,
        datetime.date,
        datetime.time,
        datetime.timedelta,
    }
)


def _attached_stored(value: Any, kind: type) -> bool:
    """Whether ``value`` is a model of a stored class used as a field, attached to a document."""
    if not hasattr(kind, "_rp_claim"):
        return False
    root = getattr(value, "_rp_root", None)
    return root is not None and root is not False


def _detached(value: Any) -> Any:
    """``value`` as plain values all the way down, sharing no list, dict or model with the model
    it was read from."""
    kind = type(value)
    if kind in _PLAIN_LEAVES:
        return value
    original = getattr(kind, "__rp_original__", None)
    if original is not None:  # a nested model: an instance of the user's own class
        return _plain_model(value, original)
    to_plain = getattr(kind, "_rp_plain", None)
    if to_plain is not None:
        value = to_plain(value)
        kind = type(value)
    if kind is list or kind is set or kind is tuple or kind is frozenset:
        if _PLAIN_LEAVES.issuperset(map(type, value)):  # the common case, checked at C speed
            return value if kind is tuple or kind is frozenset else kind(value)
        return kind(map(_detached, value))
    if kind is dict:
        if _PLAIN_LEAVES.issuperset(map(type, value.values())) and _PLAIN_LEAVES.issuperset(map(type, value)):
            return dict(value)
        return {_detached(key): _detached(item) for key, item in value.items()}
    # Anything else: a copy (a stored class's model, detached and not validated again; a plain
    # model in an Any field).
    return copy.deepcopy(value)


def _plain_model(model: Any, original: type[BaseModel]) -> BaseModel:
    """A nested model as an instance of the user's class, its fields detached (as pickle gives
    it, without the class's own ``__getstate__``, which may keep other state)."""
    copied = original.__new__(original)
    object.__setattr__(copied, "__dict__", {name: _detached(item) for name, item in model.__dict__.items()})
    extra, private = model.__pydantic_extra__, model.__pydantic_private__
    object.__setattr__(copied, "__pydantic_extra__", None if extra is None else _detached(extra))
    object.__setattr__(copied, "__pydantic_fields_set__", set(model.__pydantic_fields_set__))
    # Private attributes as pydantic's own copy() keeps them (a lock or a client cannot be copied).
    object.__setattr__(copied, "__pydantic_private__", None if private is None else dict(private))
    return copied


def plain_once(value: Any) -> Any:
    """``value`` with the library's wrapper taken off (a bool handle, a bound str or list), one
    level only: what validation needs (values read from another model are taken as the plain
    values they hold), as the validator converts what they contain itself."""
    to_plain = getattr(type(value), "_rp_plain", None)
    return value if to_plain is None else to_plain(value)


#: A str as JSON text, non-ASCII characters as they are (the text pydantic writes for a str).
_json_string = json.encoder.encode_basestring


#: Core schema types whose strict validation returns a value of exactly this Python type as it
#: is, when nothing else changes or constrains it.
_BARE_TYPES: dict[str, type] = {"str": str, "int": int, "float": float, "bool": bool}
#: Config settings that change or constrain str values.
_STR_SETTINGS = ("str_strip_whitespace", "str_to_lower", "str_to_upper", "str_min_length", "str_max_length")


def bare_type(schema: Mapping[str, Any], config: Mapping[str, Any] | None) -> type | None:
    """The type whose exact instances the strict validator of ``schema`` returns unchanged: a
    ``str``, ``int``, ``float`` or ``bool`` schema with no constraint, validator, serializer or
    config setting that changes or refuses such a value; else ``None``.

    Validating such a value would only check its type, so a caller may skip the validator's call.
    """
    if schema.get("type") == "default":  # a value that is given never takes the default
        schema = schema["schema"]
    if len(schema) != 1:  # constraints, validator functions, serializers, strict=False, ...
        return None
    exact = _BARE_TYPES.get(schema["type"])
    config = config or {}
    if exact is str and any(config.get(name) for name in _STR_SETTINGS):
        return None
    if exact is float and config.get("allow_inf_nan") is False:
        return None
    return exact


class FieldSpec:
    """What one model field needs for Redis operations: its kind, validators and serializers."""

    __slots__ = (
        "name",
        "owner",
        "annotation",
        "kind",
        "item_type",
        "key_type",
        "parts",
        "path",
        "any_values",
        "_validator",
        "_strict",
        "_serializer",
        "_item_validator",
        "_item_serializer",
        "_key_validator",
        "_key_dumper",
        "_items_validator",
        "_key_exact",
        "_keys",
        "_keys_back",
        "_whole",
        "_functions",
        "below",
        "model_checks",
        "read_back",
        "_exact",
        "_str_out",
        "_item_exact",
    )

    def __init__(self, owner: type[BaseModel], name: str, info: FieldInfo) -> None:
        self.owner = owner
        self.name = name
        #: Path parts and JSON path of the field in a top-level model's document.
        self.parts: tuple[str, ...] = (name,)
        self.path = json_path_for(self.parts)
        self.annotation = info.annotation
        self.kind, self.item_type = _classify(info.annotation)
        self.key_type = _dict_key_type(info.annotation) if self.kind == DICT else str
        #: Values may hold anything: the local value is what its JSON reads back as.
        self.any_values = contains_any(info.annotation) or ambiguous_in_json(info.annotation)
        self._validator: SchemaValidator | None = None
        self._strict: SchemaValidator | None = None
        self._serializer: SchemaSerializer | None = None
        self._item_validator: Any = None
        self._item_serializer: Any = None
        self._key_validator: TypeAdapter[Any] | None = None
        self._key_dumper: TypeAdapter[Any] | None = None
        self._items_validator: Any = None
        #: For dict fields: the type of keys that need no check (see bare_type), the validator of
        #: the others (the field's key schema, in the model's config, strict), and the validator
        #: that reads the keys of a JSON object as get() reads them.
        self._key_exact: type | None = None
        self._keys: SchemaValidator | None = None
        self._keys_back: SchemaValidator | None = None
        self._whole: bool | None = None
        #: The type whose exact instances the strict validator returns as they are (see
        #: bare_type), for the field and for one item: those skip pydantic's call.
        self._exact: type | None = None
        #: Whether a plain str is written as JSON as it is (no serializer of the field).
        self._str_out = False
        self._item_exact: type | None = None
        #: The field's schema has validator functions, which may change a value they validate.
        self._functions = False
        #: The JSON path and path parts of this field in a model nested at a JSON path (see
        #: :meth:`nested_paths`), by that path.
        self.below: dict[str, tuple[str, tuple[str, ...]]] = {}
        #: The model that holds the field has model validators: a write of the field is
        #: validated with the whole document.
        self.model_checks = has_model_validators(owner)
        #: After save() the local value is replaced by what get() reads back (see
        #: _ops.adopt_read_back): values that may hold another model's objects, or Any values.
        self.read_back = self.any_values or holds_mutable_items(info.annotation)

    def nested_paths(self, json_prefix: str, parts_prefix: tuple[str, ...]) -> tuple[str, tuple[str, ...]]:
        """The JSON path and the path parts of this field in a model nested at ``json_prefix``
        (``parts_prefix``), kept in :attr:`below`: a schema has few nested places, and every
        operation on a nested field needs them."""
        paths = self.below.get(json_prefix)
        if paths is None:
            paths = self.below[json_prefix] = (json_prefix + self.path[1:], (*parts_prefix, self.name))
        return paths

    @property
    def qualname(self) -> str:
        """``Model.field``, for messages."""
        return f"{self.owner.__name__}.{self.name}"

    def _build(self) -> None:
        try:
            schema, config = _field_core_schema(self.owner, self.name)
        except (LookupError, KeyError, TypeError) as exc:
            # Validating from the bare type would drop the field's validators: refuse instead.
            raise UnsupportedFieldTypeError(
                f"{self.qualname}: its validation schema has a shape redis-pydantic does not know "
                f"({type(exc).__name__}: {exc}); please report it"
            ) from None
        self._whole = needs_whole_value(schema)
        self._functions = _has_functions(schema) or _changes_values(config)
        self._serializer = SchemaSerializer(schema, config)
        self._exact = None if self.any_values else bare_type(schema, config)
        # bare_type() looks through the default's wrapper, which is where a field's
        # @field_serializer sits when the field has a default.
        self._str_out = self._exact is str and "serialization" not in schema
        if _reads_other_fields(schema):
            self._validator = _WithModelValues(self.owner, self.name, strict=False)  # type: ignore[assignment]
            self._strict = _WithModelValues(self.owner, self.name, strict=True)  # type: ignore[assignment]
            return
        self._validator = SchemaValidator(schema, config)
        # Values given by the caller are checked strictly; a separate validator avoids passing
        # strict=True on every call.
        self._strict = SchemaValidator(schema, {**(config or {}), "strict": True})

    @property
    def whole_checks(self) -> bool:
        """Whether the field's value must be validated whole after a list, dict or number
        operation: a length or bound constraint, a validator of the field, a union of list types.

        Operations on such fields are check-and-set: read, change, validate, write if unchanged.
        """
        if self._whole is None:
            self._build()
        return self._whole  # type: ignore[return-value]

    @property
    def strict_validator(self) -> SchemaValidator:
        if self._strict is None:
            self._build()
        return self._strict  # type: ignore[return-value]

    @property
    def validator(self) -> SchemaValidator:
        if self._validator is None:
            self._build()
        return self._validator  # type: ignore[return-value]

    @property
    def serializer(self) -> SchemaSerializer:
        if self._serializer is None:
            self._build()
        return self._serializer  # type: ignore[return-value]

    @property
    def item(self) -> Any:
        """The validator of one item of the field's list or set, or value of its dict: built
        from the field's own schema and config, so an item is validated and written as the model
        writes it in the field (a dataclass's bytes included)."""
        if self._item_validator is None:
            schema, config = _field_core_schema(self.owner, self.name)
            item = _item_schema(schema)
            if item is None:  # (a shape with no item schema of its own: the item type's)
                adapter = item_adapter(self.item_type)
                self._item_validator, self._item_serializer = adapter.validator, adapter.serializer
            else:
                self._item_validator = SchemaValidator(item, config)
                self._item_serializer = SchemaSerializer(item, config)
                self._item_exact = None if self.any_values else bare_type(item, config)
            dict_schemas = _dict_schemas(schema)
            if dict_schemas is not None:
                keys, items, any_values = dict_schemas
                self._keys = SchemaValidator(keys, {**(config or {}), "strict": True})
                self._keys_back = SchemaValidator(any_values, config)
                self._key_exact = bare_type(keys, config)
                if self.key_type is str and not self.any_values:
                    # aupdate's validator of the given items, with the field's own key and item
                    # schemas and the model's config (str settings apply to keys and values).
                    self._items_validator = SchemaValidator(items, config)
        return self._item_validator

    # -- values given by the caller: strict validation, then JSON for Redis --------------------
    def validate(self, value: Any) -> Any:
        if type(value) is self._exact:  # a plain str, int, float or bool that needs no check
            return value
        value = plain_once(value)
        try:
            validated = (self._strict or self.strict_validator).validate_python(value)
        except ValidationError as exc:
            raise FieldValidationError(self.qualname, exc, type_name(self.annotation)) from None
        if self.any_values:
            return self.load_json(self.dump_json(validated))
        return validated

    def validate_item(self, value: Any) -> Any:
        if type(value) is self._item_exact:  # a plain str, int, float or bool that needs no check
            return value
        if self._item_validator is None:
            self.item  # noqa: B018 - builds the item validator
        value = plain_once(value)
        try:
            validated = self._item_validator.validate_python(value, strict=True)
        except ValidationError as exc:
            raise FieldValidationError(f"{self.qualname}[item]", exc, type_name(self.item_type)) from None
        if self.any_values:
            return self.load_item_json(self.dump_item_json(validated))
        return validated

    def validate_items(self, values: Iterable[Any]) -> list[Any]:
        """:meth:`validate_item` of each value (the same checks and errors), cheaper per value."""
        if self._item_validator is None:
            self.item  # noqa: B018 - builds the item validator
        validate = self._item_validator.validate_python
        try:
            validated = [validate(value, strict=True) for value in values]
        except ValidationError as exc:
            raise FieldValidationError(f"{self.qualname}[item]", exc, type_name(self.item_type)) from None
        if self.any_values:
            return [self.load_item_json(payload) for payload in self.dump_items_json(validated)]
        return validated

    def validate_dict_items(self, items: Mapping[Any, Any]) -> tuple[dict[Any, Any], list[str]]:
        """The items given to a dict field's ``aupdate``, keys and values checked as
        :meth:`validate_key` and :meth:`validate_item` check them, and the member name of each
        key in the JSON object, in the same order."""
        if self.key_type is str and not self.any_values:
            # The common case in one call of a validator of the whole mapping.
            if self._item_validator is None:
                self.item  # noqa: B018 - builds the items validator
            if self._items_validator is None:  # (no item schema of its own: the item type's)
                self._items_validator = item_adapter(dict[str, self.item_type]).validator  # type: ignore[name-defined]
            try:
                validated: dict[Any, Any] = self._items_validator.validate_python(items, strict=True)
            except ValidationError:
                pass  # checked again one by one below, for the error that names the key or item
            else:
                if not all(map(str.isascii, validated)):
                    for key in validated:
                        self._check_utf8(key)
                return validated, list(validated)
        keys = [self.validate_key(key) for key in items]
        values = self.validate_items(items.values())
        validated, members = {}, {}
        for (key, member), value in zip(keys, values, strict=True):
            validated[key] = value
            members[key] = member
        return validated, list(members.values())

    def validate_amount(self, amount: Any) -> Any:
        """Check the amount given to ``aincrease``: an int for int fields, a number otherwise."""
        kind = self.kind
        if type(amount) is int and kind == INT and INT64_MIN <= amount <= INT64_MAX:
            return amount  # the common case
        if kind == INT:
            ok = type(amount) is int or (isinstance(amount, int) and not isinstance(amount, bool))
            expected = "int"
        elif kind == FLOAT:
            ok = isinstance(amount, int | float) and not isinstance(amount, bool)
            expected = "int | float"
        elif kind == DECIMAL:
            ok = isinstance(amount, int | decimal.Decimal) and not isinstance(amount, bool)
            expected = "Decimal | int"
        else:
            raise TypeError(f"{self.qualname} is not a number field: it has no aincrease()")
        if not ok:
            error = ValidationError.from_exception_data(
                "aincrease",
                [{"type": f"{expected.split(' ')[0].lower()}_type", "loc": ("amount",), "input": amount}],
            )
            raise FieldValidationError(f"{self.qualname} amount", error, expected)
        if kind == INT:
            amount = int(amount)
            if not INT64_MIN <= amount <= INT64_MAX:
                error = ValidationError.from_exception_data(
                    "aincrease", [{"type": "int_parsing_size", "loc": ("amount",), "input": amount}]
                )
                raise FieldValidationError(f"{self.qualname} amount", error, "a 64-bit integer")
        elif (isinstance(amount, float) and not math.isfinite(amount)) or (
            isinstance(amount, decimal.Decimal) and not amount.is_finite()
        ):
            error = ValidationError.from_exception_data(
                "aincrease", [{"type": "finite_number", "loc": ("amount",), "input": amount}]
            )
            raise FieldValidationError(f"{self.qualname} amount", error, "a finite number")
        return amount

    def validate_key(self, key: Any) -> tuple[Any, str]:
        """The dict key as the field holds it, and its member name in the JSON object."""
        if self._key_exact is str and type(key) is str and key.isascii():  # the common case
            return key, key
        if self._item_validator is None:
            self.item  # noqa: B018 - builds the key validators
        if self.key_type is str:
            if type(key) is not str:
                if not isinstance(key, str):
                    error = ValidationError.from_exception_data(
                        "dict key", [{"type": "string_type", "loc": ("key",), "input": key}]
                    )
                    raise FieldValidationError(f"{self.qualname}[key]", error, "str")
                key = str.__str__(key)  # the text itself, as pydantic keeps it (str() of a str
                # enum member would be "Color.RED")
            if self._key_exact is str or self._keys is None:  # a plain str key: no check
                self._check_utf8(key)
                return key, key
            try:
                text: str = self._keys.validate_python(key)
            except ValidationError as exc:
                raise FieldValidationError(f"{self.qualname}[key]", exc, "str") from None
            self._check_utf8(text)
            return text, text
        validator, dumper = self._key_adapters()
        try:
            validated = (self._keys or validator).validate_python(key, strict=True)
        except ValidationError as exc:
            raise FieldValidationError(f"{self.qualname}[key]", exc, type_name(self.key_type)) from None
        # The member name exactly as pydantic writes this key in the document's JSON object.
        try:
            (member,) = json.loads(dumper.dump_json({validated: 0}))
        except PydanticSerializationError as exc:
            raise not_serializable(f"{self.qualname}[key]", exc) from exc
        if self._keys_back is not None:
            validated = self._read_back_key(key, validated, member)
        return validated, member

    def _check_utf8(self, key: str) -> None:
        """Refuse a str key that UTF-8 cannot encode (a lone surrogate), as such values are."""
        if not key.isascii():
            try:
                key.encode()
            except UnicodeEncodeError as exc:
                raise ValueNotSerializableError(
                    f"{self.qualname}[key] cannot be written as JSON: {exc}"
                ) from exc

    def _read_back_key(self, key: Any, validated: Any, member: str) -> Any:
        """The key as get() reads it back from its member name (so the local dict holds what
        get() returns); a key that would read back as another, or not at all, is refused (the
        member "2" of an int-valued Enum member or of Literal[2], "None" of a None key)."""
        assert self._keys_back is not None
        try:
            (back,) = self._keys_back.validate_json(json.dumps({member: None}))
        except ValidationError as exc:
            raise FieldValidationError(
                f"{self.qualname}[key] (JSON cannot hold this key: get() would refuse it)",
                exc,
                type_name(self.key_type),
            ) from None
        if back != validated:
            error = ValidationError.from_exception_data(
                "dict key",
                [
                    {
                        "type": "value_error",
                        "loc": ("key",),
                        "input": key,
                        "ctx": {"error": ValueError(f"get() would read it back from JSON as {back!r}")},
                    }
                ],
            )
            raise FieldValidationError(f"{self.qualname}[key]", error, type_name(self.key_type))
        return back

    def _key_adapters(self) -> tuple[TypeAdapter[Any], TypeAdapter[Any]]:
        if self._key_validator is None or self._key_dumper is None:
            self._key_validator = item_adapter(self.key_type)
            self._key_dumper = item_adapter(dict[self.key_type, int])  # type: ignore[name-defined]
        return self._key_validator, self._key_dumper

    def load_key(self, member: str) -> Any:
        """A member name of the stored JSON object as the field's key type."""
        if self.key_type is str:
            return member
        return self._key_adapters()[0].validate_strings(member)

    def dump_json(self, value: Any) -> bytes:
        if type(value) is str and self._str_out:  # a plain str the schema writes as it is
            try:
                return _json_string(value).encode()
            except UnicodeEncodeError:  # (a lone surrogate: pydantic's error below names it)
                pass
        try:
            payload: bytes = (self._serializer or self.serializer).to_json(value)
        except PydanticSerializationError as exc:
            raise not_serializable(self.qualname, exc) from exc
        if payload[:1] == b'"' or check_json_numbers_fast(payload):  # a JSON string: no number
            return payload
        return check_json_numbers(payload, self.qualname)

    def dump_item_json(self, value: Any) -> bytes:
        if type(value) is str and self._item_exact is str:  # a plain str written as it is
            try:
                return _json_string(value).encode()
            except UnicodeEncodeError:  # (a lone surrogate: pydantic's error below names it)
                pass
        if self._item_serializer is None:
            self.item  # noqa: B018 - builds the item serializer
        try:
            payload: bytes = self._item_serializer.to_json(value)
        except PydanticSerializationError as exc:
            raise not_serializable(f"{self.qualname}[item]", exc) from exc
        if payload[:1] == b'"' or check_json_numbers_fast(payload):  # a JSON string: no number
            return payload
        return check_json_numbers(payload, f"{self.qualname}[item]")

    def dump_items_json(self, values: Iterable[Any]) -> list[bytes]:
        """:meth:`dump_item_json` of each value (the same checks and errors), cheaper per value:
        the number check runs once over all of them."""
        if self._item_serializer is None:
            self.item  # noqa: B018 - builds the item serializer
        dump = self._item_serializer.to_json
        try:
            payloads: list[bytes] = list(map(dump, values))
        except PydanticSerializationError as exc:
            raise not_serializable(f"{self.qualname}[item]", exc) from exc
        if self.item_type is str:  # JSON strings: no number to check
            return payloads
        # Joined with commas: no number spans two payloads.
        if not check_json_numbers_fast(b",".join(payloads)):
            for payload in payloads:
                check_json_numbers(payload, f"{self.qualname}[item]")
        return payloads

    def checked_json(self, value: Any) -> bytes:
        """The JSON of a value assigned with ``=``, as the field validates it, refused unless the
        field reads it back.

        pydantic does not validate assignment (it only warns when serializing): a value of the
        wrong type, or one that breaks the field's constraints, raises here, before anything
        is written.
        """
        try:
            payload = self.dump_json_strict(value)
            validated = self.validator.validate_json(payload)
        except ValidationError as exc:
            raise FieldValidationError(self.qualname, exc, type_name(self.annotation)) from None
        if self._functions:  # a validator may have changed it: write what get() reads
            return self.dump_json(validated)
        return payload

    def dump_json_strict(self, value: Any) -> bytes:
        """``dump_json``, but a value the serializer does not expect raises FieldValidationError."""
        try:
            payload = self.serializer.to_json(value, warnings="error")
        except PydanticSerializationError as exc:
            self.validate(value)  # names what is wrong, in pydantic's words
            raise not_serializable(self.qualname, exc) from exc
        return check_json_numbers(payload, self.qualname)

    # -- values read from Redis: lax validation of JSON text -----------------------------------
    def load_json(self, text: str | bytes) -> Any:
        return self.validator.validate_json(text)

    def load_python(self, value: Any) -> Any:
        return self.validator.validate_python(value)

    def load_item_json(self, text: str | bytes) -> Any:
        if self._item_validator is None:
            self.item  # noqa: B018 - builds the item validator
        return self._item_validator.validate_json(text)


#: 19 digits: an integer that may not fit RedisJSON's 64-bit integers.
#: Every digit becomes "0": a run of 19 digits (a number beyond 64 bits, maybe) is then found
#: with a plain substring search, several times faster than a regex on short documents.
_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
_NINETEEN_DIGITS = b"0" * 19
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def _refuse_constant(name: str) -> Any:
    raise ValueError(name)


def _check_int(text: str) -> int:
    number = int(text)
    if not INT64_MIN <= number <= INT64_MAX:
        raise OverflowError(number)
    return number


def check_json_numbers_fast(payload: bytes) -> bool:
    """True when ``payload`` surely holds no NaN, no infinity and no integer beyond 64 bits (a
    cheap test on the text: False may be a false alarm, inside a string)."""
    if payload[:1] == b'"':  # one JSON string: no number at all
        return True
    return (
        b"NaN" not in payload
        and b"Infinity" not in payload
        and (len(payload) < 19 or _NINETEEN_DIGITS not in payload.translate(_DIGITS_AS_ZERO))
    )


def check_json_numbers(payload: bytes, where: str) -> bytes:
    """Refuse JSON that Redis cannot hold as it is: NaN and infinities (JSON has no such numbers;
    pydantic would write null) and integers outside 64 bits (RedisJSON would round them)."""
    if check_json_numbers_fast(payload):
        return payload
    try:  # the cheap test above may have matched inside a string: decide on the parsed JSON
        json.loads(payload, parse_constant=_refuse_constant, parse_int=_check_int)
    except OverflowError as exc:
        (number,) = exc.args
        bound = {"le": INT64_MAX} if number > 0 else {"ge": INT64_MIN}
        kind = "less_than_equal" if number > 0 else "greater_than_equal"
        error = ValidationError.from_exception_data(
            where, [{"type": kind, "loc": (), "input": number, "ctx": bound}]
        )
        raise FieldValidationError(where, error, "a 64-bit integer") from None
    except ValueError as exc:
        error = ValidationError.from_exception_data(
            where, [{"type": "finite_number", "loc": (), "input": str(exc)}]
        )
        raise FieldValidationError(where, error, "a finite number") from None
    return payload


def has_model_validators(cls: type[BaseModel]) -> bool:
    """Whether the model class checks its values together (``@model_validator``, its own or
    inherited, or a field validator that takes ``ValidationInfo`` and may read the others), so
    that a write of one field must be validated with the whole model."""
    decorators = getattr(cls, "__pydantic_decorators__", None)
    if decorators is None:
        return False
    return bool(decorators.model_validators) or reads_other_fields(cls)


def validators_may_change(cls: type[BaseModel]) -> bool:
    """Whether validating a document as ``cls`` may change its values: the schema has validator
    functions (``@model_validator``, ``@field_validator``, ``BeforeValidator``...) or settings
    that change values (``str_to_lower``, ``StringConstraints(strip_whitespace=True)``,
    ``use_enum_values``...) anywhere, its nested models' included. Worked out once per class."""
    found = cls.__dict__.get("__rp_validator_functions__")
    if found is None:
        found = _has_functions(cls.__pydantic_core_schema__)
        type.__setattr__(cls, "__rp_validator_functions__", found)
    return found  # type: ignore[no-any-return]


#: Config settings and str schema settings that change the values they validate.
_CHANGING_SETTINGS = (
    "str_strip_whitespace",
    "str_to_lower",
    "str_to_upper",
    "use_enum_values",
    "strip_whitespace",
    "to_lower",
    "to_upper",
)


def _changes_values(settings: Mapping[str, Any] | None) -> bool:
    """Whether a config, or a str schema, has a setting that changes the values it validates."""
    return bool(settings) and any(settings.get(name) for name in _CHANGING_SETTINGS)  # type: ignore[union-attr]


def _has_functions(schema: Any) -> bool:
    """Whether ``schema`` has validator functions, or settings that change values (see
    :data:`_CHANGING_SETTINGS`: in a str schema, or in the config of a model it holds)."""
    if isinstance(schema, dict):
        kind = schema.get("type")
        if isinstance(kind, str) and kind.startswith("function-"):
            return True
        if _changes_values(schema):
            return True
        # (Serialization functions change nothing that is read.)
        return any(_has_functions(v) for k, v in schema.items() if k != "serialization")
    if isinstance(schema, list | tuple):
        return any(_has_functions(v) for v in schema)
    return False


def field_specs(cls: type[BaseModel]) -> dict[str, FieldSpec]:
    """The specs of a model class's fields, built once per class."""
    specs = cls.__dict__.get("__rp_specs__")
    if specs is None:
        specs = {name: FieldSpec(cls, name, info) for name, info in cls.__pydantic_fields__.items()}
        type.__setattr__(cls, "__rp_specs__", specs)
        type.__setattr__(cls, "__rp_read_back__", tuple(spec for spec in specs.values() if spec.read_back))
    return specs


def read_back_specs(cls: type[BaseModel]) -> tuple[FieldSpec, ...]:
    """The specs of the fields whose local value save() replaces by what get() reads back."""
    specs = cls.__dict__.get("__rp_read_back__")
    if specs is None:
        field_specs(cls)
        specs = cls.__dict__["__rp_read_back__"]
    return specs  # type: ignore[no-any-return]


# --------------------------------------------------------------------------- nested models


def _standard_base64(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")


def _bytes_as_standard_base64(value: Any) -> Any:
    """``value`` with every bytes inside (lists, tuples, sets, dict values, models' fields) as
    standard base64."""
    if isinstance(value, bytes):
        return _standard_base64(value)
    if isinstance(value, list | tuple | set | frozenset):
        return [_bytes_as_standard_base64(v) for v in value]
    if isinstance(value, dict):
        return {k: _bytes_as_standard_base64(v) for k, v in value.items()}
    if isinstance(value, BaseModel):
        # The model's own JSON would write its bytes as UTF-8 text (pydantic's default), and
        # fail on bytes that are not: its Python dump keeps them bytes, and the rest is written
        # as pydantic writes it.
        return _bytes_as_standard_base64(value.model_dump())
    return value


def _any_json(value: Any, handler: Any) -> Any:
    return handler(_bytes_as_standard_base64(value))


#: bytes in documents are standard padded base64 (RFC 4648 section 4); pydantic's own "base64"
#: is the URL-safe alphabet, which other programs decode wrongly. Reading accepts both.
STANDARD_BYTES = Annotated[bytes, PlainSerializer(_standard_base64, return_type=str, when_used="json")]
#: ``Any`` values holding bytes: the same alphabet.
STANDARD_ANY = Annotated[Any, WrapSerializer(_any_json, when_used="json")]


def rewrite_annotation(annotation: Any, convert: Callable[[type[BaseModel]], type[BaseModel]]) -> Any:
    """The annotation a stored model's field really gets.

    Every plain pydantic model class inside ``annotation`` becomes ``convert(cls)``, the library's
    field types (``RedisStr``, ``RedisList[T]``...) become their plain types, and ``bytes`` and
    ``Any`` store bytes as standard base64.
    """
    if typing.get_origin(annotation) is None:  # a class (on 3.10 ``list[X]`` is a class too)
        if annotation is bytes:
            return STANDARD_BYTES
        if annotation is Any:
            return STANDARD_ANY
        if isinstance(annotation, type):
            plain_type = getattr(annotation, "_rp_plain_type", None)
            if plain_type is not None:
                return rewrite_annotation(plain_type, convert)
            if issubclass(annotation, BaseModel):
                return convert(annotation)
        return annotation
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    plain_origin = getattr(origin, "_rp_plain_type", None)
    if plain_origin is not None:  # RedisList[T] -> list[T]
        return rewrite_annotation(plain_origin[args] if args else plain_origin, convert)
    if not args or origin is Literal:
        return annotation
    if origin is Annotated:
        inner = rewrite_annotation(args[0], convert)
        return annotation if inner is args[0] else Annotated[(inner, *annotation.__metadata__)]  # type: ignore[misc]
    new_args = tuple(rewrite_annotation(a, convert) if a is not Ellipsis else a for a in args)
    if all(n is o for n, o in zip(new_args, args, strict=True)):
        return annotation
    if origin in (Union, types.UnionType):
        return Union[new_args]  # noqa: UP007
    try:
        return origin[new_args if len(new_args) > 1 else new_args[0]]
    except TypeError:
        return annotation


def _needs_default_validation(annotation: Any) -> bool:
    """Whether ``annotation`` names a model class or one of the library's field types."""
    if typing.get_origin(annotation) is None:
        return isinstance(annotation, type) and (
            issubclass(annotation, BaseModel) or hasattr(annotation, "_rp_plain_type")
        )
    if hasattr(typing.get_origin(annotation), "_rp_plain_type"):
        return True
    return any(_needs_default_validation(a) for a in typing.get_args(annotation))


def check_storable(cls: type[BaseModel]) -> None:
    """Refuse fields whose type cannot be written as JSON, naming the field, and a config that
    would write bytes in another form than base64 (the form the library writes and reads)."""
    for setting in ("ser_json_bytes", "val_json_bytes"):
        if cls.model_config.get(setting, "base64") != "base64":
            raise UnsupportedFieldTypeError(
                f"{cls.__name__}: model_config {setting}={cls.model_config[setting]!r} is not supported; "  # type: ignore[literal-required]
                "stored models keep bytes as standard base64 text"
            )
    for name, info in cls.__pydantic_fields__.items():
        if info.exclude:
            raise UnsupportedFieldTypeError(
                f"{cls.__name__}.{name} is excluded from serialization, so it would never be stored; "
                "stored models cannot exclude fields"
            )
        try:
            TypeAdapter(info.annotation).json_schema(mode="serialization")  # type: ignore[arg-type]
        except (PydanticInvalidForJsonSchema, PydanticSchemaGenerationError) as exc:
            raise UnsupportedFieldTypeError(
                f"{cls.__name__}.{name}: the type {info.annotation!r} cannot be stored as JSON ({exc})"
            ) from None
        except PydanticUserError:
            # Forward references or other problems are reported by pydantic itself.
            pass


class FieldDescriptor:
    """Class attribute that gives a model field its Redis-aware value on instance access.

    The value itself stays in the instance ``__dict__`` where pydantic keeps it, so pydantic's
    serialization, copying and comparison see plain values. Each face subclasses it (see
    ``_values.field_descriptor_class``) with a ``__get__`` that turns the plain value into one
    that also has ``set``/``load`` and the atomic operations.
    """

    __slots__ = ("name", "spec", "operation")

    def __init__(self, spec: FieldSpec, operation: Any = None) -> None:
        self.name = spec.name
        self.spec = spec
        #: The class operation of the same name (``count``), which the class keeps: see
        #: ``_base.ClassOperation``.
        self.operation = operation

    def class_get(self, owner: Any) -> Any:
        """What the name gives on the class: the class operation of that name, if any."""
        if self.operation is not None:
            return self.operation.__get__(None, owner)
        # Like pydantic, which keeps no field attributes on the class: a subclass's field
        # collection (getattr(cls, name)) must not take this descriptor for a default value.
        raise AttributeError(f"{self.spec.qualname} is a field of instances, not of the class")

    def __set__(self, instance: Any, value: Any) -> None:
        # Reached only through object.__setattr__: pydantic's own __setattr__ writes __dict__.
        instance.__dict__[self.name] = value
        instance.__pydantic_fields_set__.add(self.name)


def class_operation(cls: type, name: str) -> Any:
    """The library's class operation ``name`` that ``cls`` inherits (``count``), if any."""
    for base in cls.__mro__:
        value = base.__dict__.get(name)
        if getattr(value, "__rp_class_operation__", False):
            return value
    return None


def install_descriptors(cls: type[BaseModel], descriptor: type[FieldDescriptor]) -> None:
    for name, spec in field_specs(cls).items():
        type.__setattr__(cls, name, descriptor(spec, class_operation(cls, name)))


def prepare_model_class(
    cls: type[BaseModel],
    convert: Callable[[type[BaseModel]], type[BaseModel]],
    descriptor: type[FieldDescriptor],
) -> None:
    """Make a freshly defined model class storable: nested classes, checks, descriptors."""
    changed = False
    for info in cls.__pydantic_fields__.values():
        to_plain = getattr(type(info.default), "_rp_plain", None)
        if to_plain is not None:  # ``age: RedisInt = RedisInt(0)``: the default is the plain 0
            info.default = to_plain(info.default)
            changed = True
        new = rewrite_annotation(info.annotation, convert)
        if new is not info.annotation:
            if _needs_default_validation(info.annotation):
                # Defaults (``default_factory=Profile``, ``RedisInt(0)``) must become the
                # Redis-enabled class, or the plain value.
                info.validate_default = True
            info.annotation = new
            changed = True
    if changed:
        cls.model_rebuild(force=True)
    check_field_names(cls)
    check_storable(cls)
    install_descriptors(cls, descriptor)


def check_field_names(cls: type[BaseModel]) -> None:
    """Refuse a field that would shadow the model's own API (``key``, ``save``, ``Meta``...).

    ``pk`` is refused too: it is the primary key, given as ``Model(pk=...)``, never a field.
    """
    reserved = {"Meta", "pk"}
    for base in cls.__mro__:
        if base.__module__.startswith("redis_pydantic."):
            reserved.update(
                name
                for name, value in vars(base).items()
                if not name.startswith("_") and not getattr(value, "__rp_class_operation__", False)
            )
    clashes = sorted(reserved.intersection(cls.__pydantic_fields__))
    if clashes:
        names = ", ".join(repr(name) for name in clashes)
        raise ReservedFieldNameError(
            f"{cls.__name__}: the field name(s) {names} would shadow the model's own "
            "attributes; rename the field"
        )


def _original(model: Any) -> Any:
    return getattr(type(model), "__rp_original__", type(model))


def _nested_eq(self: BaseModel, other: object) -> bool:
    """Equality of a nested model with an instance of the user's own class (or its Redis twin)."""
    if isinstance(other, BaseModel) and _original(self) is _original(other):
        return (
            self.__dict__ == other.__dict__
            and self.__pydantic_private__ == other.__pydantic_private__
            and self.__pydantic_extra__ == other.__pydantic_extra__
        )
    return NotImplemented  # type: ignore[no-any-return]


def _restore_plain(original: type[BaseModel], state: dict[Any, Any]) -> BaseModel:
    model = original.__new__(original)
    model.__setstate__(state)
    return model


def _nested_reduce(self: BaseModel, protocol: Any) -> Any:
    """Pickle a nested model as the user's own class; reading it from a stored model converts it
    back (the Redis-enabled subclass has the same name, so pickle cannot find it by name)."""
    return (_restore_plain, (_original(self), self.__getstate__()))


def make_nested_class(
    original: type[BaseModel],
    mixin: type,
    cache: dict[type, type[BaseModel]],
    prepare: Callable[[type], None],
) -> type[BaseModel]:
    """The Redis-enabled subclass of a plain pydantic model used as a field, made once."""
    if isinstance(original, mixin) or issubclass(original, mixin):
        return original
    cls = cache.get(original)
    if cls is not None:
        return cls
    namespace = {
        "__module__": original.__module__,
        "__qualname__": original.__qualname__,
        "__slots__": ("_rp_root", "_rp_path", "_rp_json", "_rp_guard"),
        "model_config": {**original.model_config, **NESTED_CONFIG},
        "__rp_prepare__": False,
    }
    namespace["__rp_original__"] = original
    if original.__eq__ is BaseModel.__eq__:  # a user's own __eq__ is kept
        namespace["__eq__"] = _nested_eq
    namespace["__reduce_ex__"] = _nested_reduce
    namespace["__setattr__"] = mixin.__setattr__
    namespace["__hash__"] = original.__hash__
    cls = typing.cast(type[BaseModel], type(original.__name__, (original, mixin), namespace))
    cache[original] = cls
    prepare(cls)
    return cls
