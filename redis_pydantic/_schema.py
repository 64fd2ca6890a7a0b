"""Schema walking shared by both faces: field specs, nested-model classes and descriptors.

Nothing here does I/O. Each face (``_async`` and ``_sync``) passes in the classes that carry
its own I/O methods.
"""

from __future__ import annotations

import collections.abc
import types
import typing
from collections.abc import Callable
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError
from pydantic.errors import PydanticInvalidForJsonSchema, PydanticSchemaGenerationError, PydanticUserError
from pydantic.fields import FieldInfo
from pydantic_core import SchemaSerializer, SchemaValidator

from redis_pydantic._paths import json_path_for
from redis_pydantic.errors import FieldValidationError, UnsupportedFieldTypeError

#: The pydantic settings every stored model gets: bytes travel as base64 text in JSON.
JSON_BYTES_CONFIG = ConfigDict(ser_json_bytes="base64", val_json_bytes="base64")

#: Extra settings for nested models: accept instances of the user's original class (and dicts)
#: and always copy on validation, so two parents never share one mutable nested object.
NESTED_CONFIG = ConfigDict(
    ser_json_bytes="base64",
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
OTHER = "other"

_NONE_TYPES = (type(None), None)


def _strip(annotation: Any) -> Any:
    """Drop ``Annotated`` and ``Optional`` from an annotation when that leaves one type."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is Annotated:
            annotation = typing.get_args(annotation)[0]
            continue
        if origin in (Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a not in _NONE_TYPES]
            if len(args) == 1:
                annotation = args[0]
                continue
        return annotation


def _classify(annotation: Any) -> tuple[str, Any]:
    """The kind of a field for atomic operations, and its item type for lists and dicts."""
    core = _strip(annotation)
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
    return OTHER, Any


def item_adapter(item_type: Any) -> TypeAdapter[Any]:
    """A TypeAdapter for list items / dict values that stores bytes as base64, like models do."""
    try:
        return TypeAdapter(item_type, config=JSON_BYTES_CONFIG)
    except PydanticUserError:  # types with their own config (models) refuse a config
        return TypeAdapter(item_type)


def _field_core_schema(cls: type[BaseModel], name: str) -> tuple[Any, Any]:
    """Cut the core schema of one field out of a model's core schema.

    The field schema keeps the field's constraints and ``@field_validator`` functions, so a
    value given to ``set()`` is validated exactly as pydantic validates it in the model.
    """
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
            field_schema = schema["fields"][name]["schema"]
            if definitions:
                field_schema = {"type": "definitions", "schema": field_schema, "definitions": definitions}
            return field_schema, config
        else:
            if kind == "model":
                config = schema.get("config")
            schema = schema["schema"]
    raise LookupError(name)


class FieldSpec:
    """What one model field needs for Redis operations: its kind, validators and serializers."""

    __slots__ = (
        "name",
        "owner",
        "annotation",
        "kind",
        "item_type",
        "parts",
        "path",
        "_validator",
        "_strict",
        "_serializer",
        "_item",
        "_item_validator",
        "_item_serializer",
    )

    def __init__(self, owner: type[BaseModel], name: str, info: FieldInfo) -> None:
        self.owner = owner
        self.name = name
        #: Path parts and JSON path of the field in a top-level model's document.
        self.parts: tuple[str, ...] = (name,)
        self.path = json_path_for(self.parts)
        self.annotation = info.annotation
        self.kind, self.item_type = _classify(info.annotation)
        self._validator: SchemaValidator | None = None
        self._strict: SchemaValidator | None = None
        self._serializer: SchemaSerializer | None = None
        self._item: TypeAdapter[Any] | None = None
        self._item_validator: Any = None
        self._item_serializer: Any = None

    @property
    def qualname(self) -> str:
        """``Model.field``, for messages."""
        return f"{self.owner.__name__}.{self.name}"

    def _build(self) -> None:
        try:
            schema, config = _field_core_schema(self.owner, self.name)
        except (LookupError, KeyError, TypeError):  # unusual schema shapes: fall back to the type
            info = self.owner.model_fields[self.name]
            adapter = item_adapter(Annotated[info.annotation, info])
            schema, config = adapter.core_schema, {"ser_json_bytes": "base64", "val_json_bytes": "base64"}
        self._validator = SchemaValidator(schema, config)
        # Values given by the caller are checked strictly; a separate validator avoids passing
        # strict=True on every call.
        self._strict = SchemaValidator(schema, {**(config or {}), "strict": True})
        self._serializer = SchemaSerializer(schema, config)

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
    def item(self) -> TypeAdapter[Any]:
        if self._item is None:
            self._item = item_adapter(self.item_type)
            # The adapter's core validator and serializer, called directly on the hot path.
            self._item_validator = self._item.validator
            self._item_serializer = self._item.serializer
        return self._item

    # -- values given by the caller: strict validation, then JSON for Redis --------------------
    def validate(self, value: Any) -> Any:
        try:
            return (self._strict or self.strict_validator).validate_python(value)
        except ValidationError as exc:
            raise FieldValidationError(self.qualname, exc) from None

    def validate_item(self, value: Any) -> Any:
        if self._item_validator is None:
            self.item  # noqa: B018 - builds the item validator
        try:
            return self._item_validator.validate_python(value, strict=True)
        except ValidationError as exc:
            raise FieldValidationError(f"{self.qualname}[item]", exc) from None

    def dump_json(self, value: Any) -> bytes:
        return (self._serializer or self.serializer).to_json(value)

    def dump_item_json(self, value: Any) -> bytes:
        if self._item_serializer is None:
            self.item  # noqa: B018 - builds the item serializer
        return self._item_serializer.to_json(value)  # type: ignore[no-any-return]

    # -- values read from Redis: lax validation of JSON text -----------------------------------
    def load_json(self, text: str | bytes) -> Any:
        return self.validator.validate_json(text)

    def load_python(self, value: Any) -> Any:
        return self.validator.validate_python(value)

    def load_item_json(self, text: str | bytes) -> Any:
        if self._item_validator is None:
            self.item  # noqa: B018 - builds the item validator
        return self._item_validator.validate_json(text)


def field_specs(cls: type[BaseModel]) -> dict[str, FieldSpec]:
    """The specs of a model class's fields, built once per class."""
    specs = cls.__dict__.get("__rp_specs__")
    if specs is None:
        specs = {name: FieldSpec(cls, name, info) for name, info in cls.__pydantic_fields__.items()}
        type.__setattr__(cls, "__rp_specs__", specs)
    return specs


# --------------------------------------------------------------------------- nested models


def rewrite_annotation(annotation: Any, convert: Callable[[type[BaseModel]], type[BaseModel]]) -> Any:
    """Replace every plain pydantic model class inside ``annotation`` by ``convert(cls)``."""
    # On Python 3.10 ``isinstance(list[X], type)`` is True: a generic alias is not a class here.
    if isinstance(annotation, type) and not isinstance(annotation, types.GenericAlias):
        if issubclass(annotation, BaseModel):
            return convert(annotation)
        return annotation
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is None or not args or origin is Literal:
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


def check_storable(cls: type[BaseModel]) -> None:
    """Refuse fields whose type cannot be written as JSON, naming the field."""
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

    __slots__ = ("name", "spec")

    def __init__(self, spec: FieldSpec) -> None:
        self.name = spec.name
        self.spec = spec

    def class_access(self) -> AttributeError:
        # Like pydantic, which keeps no field attributes on the class: a subclass's field
        # collection (getattr(cls, name)) must not take this descriptor for a default value.
        return AttributeError(f"{self.spec.qualname} is a field of instances, not of the class")

    def __set__(self, instance: Any, value: Any) -> None:
        # Reached only through object.__setattr__: pydantic's own __setattr__ writes __dict__.
        instance.__dict__[self.name] = value
        instance.__pydantic_fields_set__.add(self.name)


def install_descriptors(cls: type[BaseModel], descriptor: type[FieldDescriptor]) -> None:
    for name, spec in field_specs(cls).items():
        type.__setattr__(cls, name, descriptor(spec))


def prepare_model_class(
    cls: type[BaseModel],
    convert: Callable[[type[BaseModel]], type[BaseModel]],
    descriptor: type[FieldDescriptor],
) -> None:
    """Make a freshly defined model class storable: nested classes, checks, descriptors."""
    changed = False
    for info in cls.__pydantic_fields__.values():
        new = rewrite_annotation(info.annotation, convert)
        if new is not info.annotation:
            info.annotation = new
            # Defaults (``default_factory=Profile``) must become the Redis-enabled class too.
            info.validate_default = True
            changed = True
    if changed:
        cls.model_rebuild(force=True)
    check_storable(cls)
    install_descriptors(cls, descriptor)


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
        "__slots__": ("_rp_root", "_rp_path", "_rp_json"),
        "model_config": {**original.model_config, **NESTED_CONFIG},
        "__rp_prepare__": False,
    }
    namespace["__rp_original__"] = original
    namespace["__eq__"] = _nested_eq
    namespace["__reduce_ex__"] = _nested_reduce
    namespace["__hash__"] = original.__hash__
    cls = typing.cast(type[BaseModel], type(original.__name__, (original, mixin), namespace))
    cache[original] = cls
    prepare(cls)
    return cls
