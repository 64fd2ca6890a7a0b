"""Search indexes, shared by both faces: the ``Indexed`` marker, the schema a model's markers
declare, the FT.CREATE command built from it, and what FT.INFO says about the server's index.

Nothing here does I/O. Each face's ``search`` module sends the commands.

How the server's query engine sees our documents decides several choices here:

- A NUMERIC attribute over a JSON string makes RediSearch skip the *whole* document (an
  "indexing failure"), so the values an index reads as numbers must be stored as JSON numbers.
  ``Indexed()`` therefore stores ``datetime``, ``date`` and ``Decimal`` fields as numbers (seconds
  since the epoch, and a double), through pydantic's own serializer, and checks when a value is
  set that reading it back gives the same value.
- A TAG attribute over a JSON number fails the same way: enums with int values are NUMERIC.
- TAG attributes are CASESENSITIVE (equality is exact) and INDEXEMPTY (``""`` can be found);
  sortable strings are UNF (sorted as Python sorts them, not lower-cased). The index has no stop
  words, so every word of a TEXT field can be searched.
"""

from __future__ import annotations

import collections.abc
import datetime
import decimal
import enum
import hashlib
import typing
import uuid
from collections.abc import Mapping
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, GetCoreSchemaHandler
from pydantic_core import CoreSchema, core_schema

from redis_pydantic._paths import json_path_for
from redis_pydantic._schema import annotation_layers, strip_annotation
from redis_pydantic.errors import (
    ClusterNotSupportedError,
    IndexDefinitionError,
    IndexNotFoundError,
    SearchNotAvailableError,
    translate,
)

TAG = "TAG"
TEXT = "TEXT"
NUMERIC = "NUMERIC"

#: How a query value is turned into what the index holds (see ``_query.query_value``).
STR = "str"
BOOL = "bool"
NUMBER = "number"
DECIMAL = "decimal"
DATETIME = "datetime"
DATE = "date"
ENUM = "enum"
LITERAL = "literal"
UUID = "uuid"

_UTC = datetime.timezone.utc
_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=_UTC)
_EPOCH_DATE = datetime.date(1970, 1, 1)
_DAY = 86400
_MICROSECOND = datetime.timedelta(microseconds=1)


# --------------------------------------------------------------------------- stored numbers


def datetime_to_timestamp(value: datetime.datetime) -> float:
    """Seconds since the epoch; a naive datetime is taken as UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=_UTC)
    return ((value - _EPOCH) // _MICROSECOND) / 1_000_000


def timestamp_to_datetime(value: float | int) -> datetime.datetime:
    """The UTC datetime of a timestamp, to the microsecond (no millisecond guessing)."""
    micro = Decimal(repr(value) if isinstance(value, float) else value) * 1_000_000
    return _EPOCH + datetime.timedelta(microseconds=int(micro.to_integral_value(decimal.ROUND_HALF_EVEN)))


def date_to_timestamp(value: datetime.date) -> int:
    return (value - _EPOCH_DATE).days * _DAY


def timestamp_to_date(value: float | int) -> datetime.date:
    days, rest = divmod(value, _DAY)
    if rest:
        raise ValueError(f"{value!r} is not the timestamp of a midnight (UTC): it holds a time of day")
    return _EPOCH_DATE + datetime.timedelta(days=int(days))


def _number_input(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _datetime_in(value: Any) -> Any:
    return timestamp_to_datetime(value) if _number_input(value) else value


def _datetime_checked(value: Any) -> Any:
    if not isinstance(value, datetime.datetime):
        return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=_UTC)
    if timestamp_to_datetime(datetime_to_timestamp(value)) != value:
        raise ValueError(
            "an indexed datetime is stored as a timestamp (a double), which cannot keep the "
            "microseconds of this date; round it to the millisecond or the second"
        )
    return value


def _date_in(value: Any) -> Any:
    return timestamp_to_date(value) if _number_input(value) else value


def _decimal_checked(value: Any) -> Any:
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError("an indexed Decimal must be finite")
        if Decimal(repr(float(value))) != value:
            raise ValueError(
                f"an indexed Decimal is stored as a double, which cannot hold {value} exactly; "
                "use fewer significant digits (at most 15)"
            )
    return value


def _as_float(value: Any) -> float:
    return float(value)


class Indexed:
    """Marks a model field for the model's search index: ``Annotated[str, Indexed()]``.

    How the field is indexed follows its type:

    - ``str``, ``bool``, ``UUID``, enums and literals of strings: TAG (exact, case-sensitive
      matching). ``Indexed(text=True)`` makes a ``str`` field TEXT instead (word search).
    - ``int``, ``float``, ``Decimal``, ``datetime``, ``date``, enums and literals of ints: NUMERIC.
      ``datetime`` and ``date`` fields are stored as seconds since the epoch (UTC), and
      ``Decimal`` fields as JSON numbers, so that the index can read them.
    - ``list[str]`` (and sets and tuples of the types above): one TAG or NUMERIC value per item.

    ``sortable=True`` lets queries sort by the field. ``case_sensitive=False`` makes a TAG field
    match without regard to case.
    """

    __slots__ = ("text", "sortable", "case_sensitive")

    def __init__(self, *, text: bool = False, sortable: bool = False, case_sensitive: bool = True) -> None:
        self.text = text
        self.sortable = sortable
        self.case_sensitive = case_sensitive

    def __repr__(self) -> str:
        options = [f"{name}=True" for name in ("text", "sortable") if getattr(self, name)]
        if not self.case_sensitive:
            options.append("case_sensitive=False")
        return f"Indexed({', '.join(options)})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Indexed):
            return NotImplemented
        return (self.text, self.sortable, self.case_sensitive) == (
            other.text,
            other.sortable,
            other.case_sensitive,
        )

    def __hash__(self) -> int:
        return hash((Indexed, self.text, self.sortable, self.case_sensitive))

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        """Store datetimes, dates and Decimals as JSON numbers, which the index can read."""
        schema = handler(source)
        core = strip_annotation(source)
        if core is datetime.datetime:
            return core_schema.no_info_after_validator_function(
                _datetime_checked,
                core_schema.no_info_before_validator_function(_datetime_in, schema),
                serialization=core_schema.plain_serializer_function_ser_schema(
                    datetime_to_timestamp, when_used="json-unless-none"
                ),
            )
        if core is datetime.date:
            return core_schema.no_info_before_validator_function(
                _date_in,
                schema,
                serialization=core_schema.plain_serializer_function_ser_schema(
                    date_to_timestamp, when_used="json-unless-none"
                ),
            )
        if core is Decimal:
            return core_schema.no_info_after_validator_function(
                _decimal_checked,
                schema,
                serialization=core_schema.plain_serializer_function_ser_schema(
                    _as_float, when_used="json-unless-none"
                ),
            )
        return schema


# --------------------------------------------------------------------------- schema


def _markers(annotation: Any, metadata: list[Any]) -> list[Indexed]:
    """The ``Indexed`` markers of a field: in its metadata, or inside ``Optional[Annotated[...]]``."""
    found = [m for m in metadata if isinstance(m, Indexed)]
    for layer in annotation_layers(annotation):
        if typing.get_origin(layer) is Annotated:
            found += [m for m in layer.__metadata__ if isinstance(m, Indexed)]
    return found


def _model_class(annotation: Any) -> type[BaseModel] | None:
    core = strip_annotation(annotation)
    if _is_class(core) and issubclass(core, BaseModel):
        return core
    return None


def _is_class(annotation: Any) -> bool:
    """Whether ``annotation`` is a plain class (on Python 3.10 ``dict[str, int]`` passes
    ``isinstance(..., type)`` too, and then fails ``issubclass``)."""
    return isinstance(annotation, type) and typing.get_origin(annotation) is None


_SEQUENCES = (list, set, frozenset, tuple, collections.abc.Sequence, collections.abc.Set)


def _item_type(core: Any) -> Any:
    """The item type of a list/set/tuple annotation, or ``None`` when it is not one."""
    origin = typing.get_origin(core) or core
    if not isinstance(origin, type) or not issubclass(origin, _SEQUENCES) or issubclass(origin, str | bytes):
        return None
    args = [a for a in typing.get_args(core) if a is not Ellipsis]
    if not args:
        return Any
    if len(set(args)) != 1:  # tuple[str, int]: mixed items cannot share one attribute
        return Any
    return args[0]


def _scalar(core: Any) -> tuple[str, str] | None:
    """(index type, value kind) of a scalar type, or ``None`` when it cannot be indexed."""
    if typing.get_origin(core) is Literal:
        values = typing.get_args(core)
        if values and all(isinstance(v, str) for v in values):
            return TAG, LITERAL
        if values and all(_number_input(v) for v in values):
            return NUMERIC, LITERAL
        return None
    if not _is_class(core):
        return None
    if issubclass(core, enum.Enum):
        member_values = [member.value for member in core]
        if member_values and all(isinstance(v, str) for v in member_values):
            return TAG, ENUM
        if member_values and all(_number_input(v) for v in member_values):
            return NUMERIC, ENUM
        return None
    if issubclass(core, bool):
        return TAG, BOOL
    if issubclass(core, str):
        return TAG, STR
    if issubclass(core, int | float):
        return NUMERIC, NUMBER
    if issubclass(core, Decimal):
        return NUMERIC, DECIMAL
    if issubclass(core, datetime.datetime):
        return NUMERIC, DATETIME
    if issubclass(core, datetime.date):
        return NUMERIC, DATE
    if issubclass(core, uuid.UUID):
        return TAG, UUID
    return None


class IndexField:
    """One attribute of a model's index: a field at ``path`` (dotted, e.g. ``profile.city``)."""

    __slots__ = ("path", "parts", "json_path", "type", "kind", "multi", "sortable", "case_sensitive", "core")

    def __init__(
        self,
        parts: tuple[str, ...],
        index_type: str,
        kind: str,
        core: Any,
        *,
        multi: bool,
        sortable: bool,
        case_sensitive: bool,
    ) -> None:
        self.parts = parts
        self.path = ".".join(parts)
        self.json_path = json_path_for(parts) + ("[*]" if multi else "")
        self.type = index_type
        self.kind = kind
        self.core = core  # the value type (the item type for lists)
        self.multi = multi
        self.sortable = sortable
        self.case_sensitive = case_sensitive

    @property
    def attribute(self) -> str:
        """The attribute name as written in a query: dots escaped."""
        return self.path.replace(".", "\\.")

    def schema_args(self) -> list[str]:
        args = [self.json_path, "AS", self.path, self.type]
        if self.type == TAG and self.case_sensitive:
            args.append("CASESENSITIVE")
        if self.type in (TAG, TEXT):
            args.append("INDEXEMPTY")
        if self.sortable:
            args.append("SORTABLE")
            if self.type in (TAG, TEXT):
                args.append("UNF")
        return args

    def describe(self) -> str:
        flags = " SORTABLE" if self.sortable else ""
        return f"{self.path} ({self.json_path} {self.type}{flags})"

    def __repr__(self) -> str:
        return f"<IndexField {self.describe()}>"


def _leaf(model: type, parts: tuple[str, ...], annotation: Any, marker: Indexed) -> IndexField:
    where = f"{model.__name__}.{'.'.join(parts)}"
    if any(not part.isascii() for part in parts):
        raise IndexDefinitionError(f"{where}: indexed fields need ASCII names")
    core = strip_annotation(annotation)
    multi = False
    item = _item_type(core)
    if item is not None:
        multi, core = True, strip_annotation(item)
    found = _scalar(core)
    if found is None or (multi and found[1] in (DATETIME, DATE, DECIMAL)):
        raise IndexDefinitionError(
            f"{where}: a field of type {annotation!r} cannot be indexed; Indexed() takes str, bool, "
            "int, float, Decimal, datetime, date, UUID, enums, literals, and lists of str, bool, "
            "int, float, UUID, enums and literals"
        )
    index_type, kind = found
    if marker.text:
        if kind != STR:
            raise IndexDefinitionError(f"{where}: Indexed(text=True) is for str fields, not {annotation!r}")
        index_type = TEXT
    if marker.sortable and multi:
        raise IndexDefinitionError(f"{where}: a list cannot be sortable")
    return IndexField(
        parts,
        index_type,
        kind,
        core,
        multi=multi,
        sortable=marker.sortable,
        case_sensitive=marker.case_sensitive,
    )


def _collect(
    model: type[BaseModel],
    cls: type[BaseModel],
    prefix: tuple[str, ...],
    seen: tuple[type, ...],
    out: list[Any],
) -> None:
    for name, info in cls.__pydantic_fields__.items():
        parts = (*prefix, name)
        markers = _markers(info.annotation, list(info.metadata))
        nested = _model_class(info.annotation)
        if markers:
            if nested is not None:
                raise IndexDefinitionError(
                    f"{model.__name__}.{'.'.join(parts)} is a nested model: mark its fields with "
                    "Indexed() instead"
                )
            out.append(_leaf(model, parts, info.annotation, markers[-1]))
        elif nested is not None:
            original = getattr(nested, "__rp_original__", nested)
            if original not in seen:  # a model that contains itself is walked once per path
                _collect(model, nested, parts, (*seen, original), out)


class IndexSchema:
    """What a model's ``Indexed`` markers declare, and the names of its index on the server."""

    __slots__ = (
        "model",
        "fields",
        "key_prefix",
        "name",
        "fingerprint",
        "query_name",
        "physical",
        "create_args",
    )

    def __init__(self, model: type[BaseModel]) -> None:
        self.model = model
        leaves: list[IndexField] = []
        original = getattr(model, "__rp_original__", model)
        _collect(model, model, (), (original,), leaves)
        self.fields: dict[str, IndexField] = {leaf.path: leaf for leaf in leaves}
        meta = model.Meta  # type: ignore[attr-defined]
        self.key_prefix: str = meta.key_prefix
        #: The model's index name: an alias of the index of the current schema, which
        #: migrate_index() moves to a new index in one step.
        self.name: str = getattr(meta, "index_name", None) or f"{meta.key_prefix}:idx"
        definition: list[str] = [
            "ON",
            "JSON",
            "PREFIX",
            "1",
            f"{meta.key_prefix}:",
            "STOPWORDS",
            "0",
            "SCHEMA",
        ]
        for leaf in leaves:
            definition += leaf.schema_args()
        self.fingerprint = hashlib.sha1("\x00".join(definition).encode()).hexdigest()[:12]
        #: The name queries use: an alias of this schema's index, added once the index holds every
        #: document. A model queries only an index of the schema it declares (RediSearch answers
        #: a query on an attribute it does not have with no results, not an error), and never
        #: one that is still being built (that answers with the documents indexed so far).
        self.query_name = f"{self.name}:{self.fingerprint}"
        #: The index itself: one per schema, so a new schema gets a new index beside the old one.
        self.physical = f"{self.query_name}:index"
        self.create_args: tuple[str, ...] = ("FT.CREATE", self.physical, *definition)

    def describe(self) -> list[str]:
        return [leaf.describe() for leaf in self.fields.values()]


def index_schema(model: type[BaseModel]) -> IndexSchema:
    """The index schema of a model class, built once per class (and per ``Meta`` change)."""
    schema: IndexSchema | None = model.__dict__.get("__rp_index__")
    meta = model.Meta  # type: ignore[attr-defined]
    if (
        schema is None
        or schema.key_prefix != meta.key_prefix
        or (getattr(meta, "index_name", None) or f"{meta.key_prefix}:idx") != schema.name
    ):
        schema = IndexSchema(model)
        type.__setattr__(model, "__rp_index__", schema)
    return schema


def model_at(model: type[BaseModel], parts: tuple[str, ...]) -> type[BaseModel] | None:
    """The model class reached by following ``parts`` from ``model`` (``None`` at a plain field)."""
    cls: type[BaseModel] | None = model
    for part in parts:
        if cls is None:
            return None
        info = cls.__pydantic_fields__.get(part)
        if info is None:
            return None
        cls = _model_class(info.annotation)
    return cls


# --------------------------------------------------------------------------- server replies


def text(value: Any) -> Any:
    """A reply value with bytes decoded, through lists and maps."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, list | tuple):
        return [text(v) for v in value]
    if isinstance(value, Mapping):
        return {text(k): text(v) for k, v in value.items()}
    return value


def info_map(reply: Any) -> dict[str, Any]:
    """FT.INFO's reply as a dict (RESP3 sends a map, RESP2 a flat list of pairs)."""
    reply = text(reply)
    if isinstance(reply, dict):
        return reply
    return dict(zip(reply[::2], reply[1::2], strict=False))


def _attribute_map(entry: Any) -> dict[str, Any]:
    """One FT.INFO attribute as a dict; RESP2 lists flags (SORTABLE...) as bare words."""
    if isinstance(entry, dict):
        flags = entry.get("flags", [])
        return {**entry, "flags": {str(f).upper() for f in flags}}
    out: dict[str, Any] = {"flags": set()}
    i = 0
    while i < len(entry):
        word = entry[i]
        if word in ("identifier", "attribute", "type", "SEPARATOR", "WEIGHT") and i + 1 < len(entry):
            out[word] = entry[i + 1]
            i += 2
        else:
            out["flags"].add(str(word).upper())
            i += 1
    return out


def schema_differences(schema: IndexSchema, info: dict[str, Any]) -> list[str]:
    """What differs between the model's declared index and the server's (from FT.INFO)."""
    found = {a.get("attribute"): a for a in map(_attribute_map, info.get("attributes", []))}
    out: list[str] = []
    for path, leaf in schema.fields.items():
        have = found.pop(path, None)
        if have is None:
            out.append(f"{leaf.describe()} is declared by the model but not indexed on the server")
            continue
        if have.get("identifier") != leaf.json_path or have.get("type") != leaf.type:
            out.append(
                f"{path}: the model declares {leaf.json_path} {leaf.type}, the server indexes "
                f"{have.get('identifier')} {have.get('type')}"
            )
        elif ("SORTABLE" in have["flags"]) != leaf.sortable:
            out.append(f"{path}: sortable is {leaf.sortable} in the model, not on the server")
        elif leaf.type == TAG and ("CASESENSITIVE" in have["flags"]) != leaf.case_sensitive:
            out.append(f"{path}: case_sensitive is {leaf.case_sensitive} in the model, not on the server")
    for extra, attribute in found.items():
        out.append(
            f"{extra} ({attribute.get('identifier')} {attribute.get('type')}) is indexed on the server only"
        )
    prefixes = info.get("index_definition", {})
    if isinstance(prefixes, list):
        prefixes = dict(zip(prefixes[::2], prefixes[1::2], strict=False))
    expected = [f"{schema.key_prefix}:"]
    if prefixes.get("prefixes") not in (None, expected):
        out.append(f"the server indexes keys starting with {prefixes.get('prefixes')}, the model {expected}")
    if not out:
        out.append("the index options differ (the server's index was not created from this model)")
    return out


def indexing_done(info: dict[str, Any]) -> bool:
    """Whether the server has finished indexing the documents that existed when it was created."""
    return str(info.get("indexing", 0)) in ("0", "0.0") and float(info.get("percent_indexed", 1)) >= 1.0


# --------------------------------------------------------------------------- errors


def refuse_cluster(client: Any) -> None:
    """Raise before anything is sent when ``client`` is a Redis Cluster client."""
    import redis.asyncio.cluster
    import redis.cluster

    if isinstance(client, redis.cluster.RedisCluster | redis.asyncio.cluster.RedisCluster):
        raise ClusterNotSupportedError(
            "queries and indexes are not available on a Redis Cluster client: open-source Redis "
            "Cluster has no search across shards (each shard indexes only its own keys, and a "
            "query over all of them needs the search coordinator, which open-source Redis does "
            "not ship). Give the model a client of a single Redis server (Meta.redis)."
        )


def _is_missing_index(text_: str) -> bool:
    lowered = text_.lower()
    return "no such index" in lowered or "unknown index name" in lowered


def translate_search_error(exc: BaseException, client: Any, schema: IndexSchema) -> BaseException:
    """The library's exception for an error raised by an FT.* command."""
    import redis.exceptions as rex

    if isinstance(exc, rex.ResponseError):
        message = str(exc)
        lowered = message.lower()
        if "unknown command" in lowered and "ft." in lowered:
            return SearchNotAvailableError(message)
        if _is_missing_index(message):
            model = schema.model.__name__
            return IndexNotFoundError(
                schema.query_name,
                model,
                f"the search index of {model}'s schema ({schema.query_name!r}) does not exist, or "
                f"is still being built: create it with 'await {model}.create_index()', or, when "
                f"{schema.name!r} holds an older schema, switch to it with 'await "
                f"{model}.migrate_index()' (without 'await' in the blocking face)",
            )
    return translate(exc, client)


def is_missing_index(exc: BaseException) -> bool:
    """Whether a redis-py error says that the index (or alias) does not exist."""
    import redis.exceptions as rex

    return isinstance(exc, rex.ResponseError) and _is_missing_index(str(exc))


def is_already_there(exc: BaseException) -> bool:
    """Whether a redis-py error says that the index or alias already exists."""
    import redis.exceptions as rex

    return isinstance(exc, rex.ResponseError) and "already exists" in str(exc).lower()
