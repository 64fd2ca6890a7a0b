"""A mypy plugin: plain field annotations of stored models read as their typed values.

With it, ``name: str`` on a ``BaseRedisModel`` reads as ``RedisStr`` (``list[str]`` as
``RedisList[str]``, ``int | None`` as ``RedisInt | None``...), so ``await user.name.set("x")``
type-checks without the typed annotations. Only reads change: the model's ``__init__``,
assignments and defaults keep the plain types. Enable it in the mypy configuration::

    [tool.mypy]
    plugins = ["redis_pydantic.mypy"]

It works beside pydantic's own plugin (``pydantic.mypy``). pyright has no plugins: there, use the
typed annotations (``name: RedisStr``).
"""

from __future__ import annotations

from collections.abc import Callable

from mypy.nodes import TypeInfo, Var
from mypy.plugin import AttributeContext, Plugin
from mypy.types import Instance, Type, UnionType, get_proper_type

#: The model base class of each face, and the module of that face's value classes.
FACES = {
    "redis_pydantic._async.model.BaseRedisModel": "redis_pydantic._async.fields",
    "redis_pydantic._sync.model.BaseRedisModel": "redis_pydantic._sync.fields",
}
#: Plain types and the value class they read as.
VALUE_CLASSES = {
    "builtins.str": "RedisStr",
    "builtins.int": "RedisInt",
    "builtins.float": "RedisFloat",
    "builtins.bool": "RedisBool",
    "builtins.bytes": "RedisBytes",
    "decimal.Decimal": "RedisDecimal",
    "datetime.datetime": "RedisDatetime",
    "datetime.date": "RedisDate",
    "datetime.time": "RedisTime",
    "datetime.timedelta": "RedisTimedelta",
    "uuid.UUID": "RedisUUID",
    "builtins.frozenset": "RedisFrozenset",
    "builtins.list": "RedisList",
    "builtins.dict": "RedisDict",
    "builtins.set": "RedisSet",
}


def _face_of(info: TypeInfo) -> str | None:
    for base in info.mro:
        if base.fullname in FACES:
            return FACES[base.fullname]
    return None


def _as_value(classes: dict[str, TypeInfo], declared: Type) -> Type:
    proper = get_proper_type(declared)
    if isinstance(proper, UnionType):  # ``X | None`` reads as ``RedisX | None``
        return UnionType.make_union([_as_value(classes, item) for item in proper.items])
    if isinstance(proper, Instance):
        name = VALUE_CLASSES.get(proper.type.fullname)
        if name is not None and name in classes:
            return Instance(classes[name], list(proper.args))
    return declared  # nested models, enums, None, the typed annotations: as declared


class RedisPydanticPlugin(Plugin):
    """Types reads of plain-annotated fields of stored models as their value classes."""

    def get_attribute_hook(self, fullname: str) -> Callable[[AttributeContext], Type] | None:
        class_name, _, attribute = fullname.rpartition(".")
        symbol = self.lookup_fully_qualified(class_name)
        if symbol is None or not isinstance(symbol.node, TypeInfo):
            return None
        info = symbol.node
        module = _face_of(info)
        if module is None or attribute.startswith("_") or attribute in ("pk", "key"):
            return None
        node = info.get(attribute)
        if node is None or not isinstance(node.node, Var) or node.node.is_classvar or node.node.is_property:
            return None
        classes: dict[str, TypeInfo] = {}
        for name in VALUE_CLASSES.values():
            found = self.lookup_fully_qualified(f"{module}.{name}")
            if found is not None and isinstance(found.node, TypeInfo):
                classes[name] = found.node

        def hook(ctx: AttributeContext) -> Type:
            if ctx.is_lvalue:  # ``model.name = "x"`` keeps the plain type
                return ctx.default_attr_type
            return _as_value(classes, ctx.default_attr_type)

        return hook


def plugin(version: str) -> type[Plugin]:
    """The entry point mypy calls."""
    return RedisPydanticPlugin
