"""Queries, shared by both faces: typed field references, conditions, and the FT.SEARCH they
become, and the documents read back from its reply.

Nothing here does I/O. Each face's ``search`` module sends the commands.

Values never enter the query text: each one is sent as a query parameter (``PARAMS``) and the
text names it (``@name:{$p0}``), so no value can change the query, whatever characters it holds
(RediSearch still reads backslashes in parameters as escapes, so they are doubled).
Numbers are written by this module itself (``repr`` of a float), and field names come from the
model. The exceptions are the one-byte prefixes, which RediSearch only matches as a wildcard
pattern (its parameters need two bytes for a prefix); they are escaped here.
"""

from __future__ import annotations

import datetime
import decimal
import enum
import json
import math
import re
import uuid
from collections.abc import Iterable
from typing import Any, TypeVar, cast

from pydantic import BaseModel

from redis_pydantic import _base, _index, _schema
from redis_pydantic._index import IndexField, IndexSchema, index_schema
from redis_pydantic._paths import json_path_for
from redis_pydantic.errors import FieldNotIndexedError, QueryError

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")

DIALECT = "2"
#: Documents read per FT.SEARCH when no limit is given (pages of the async/sync iterator too).
PAGE_SIZE = 1000
#: RediSearch refuses a LIMIT above its MAXSEARCHRESULTS (1,000,000 by default).
MAX_LIMIT = 1_000_000


# --------------------------------------------------------------------------- field references


class FieldRef:
    """A field of a model in a query: what ``F(Model).name`` returns at run time.

    Type checkers see the field's own type instead (see :func:`F`), so comparisons are checked
    against it.
    """

    __slots__ = ("_rp_model", "_rp_parts")

    _rp_model: type[BaseModel]
    _rp_parts: tuple[str, ...]

    def __init__(self, model: type[BaseModel], parts: tuple[str, ...]) -> None:
        object.__setattr__(self, "_rp_model", model)
        object.__setattr__(self, "_rp_parts", parts)

    @property
    def _rp_name(self) -> str:
        return ".".join((self._rp_model.__name__, *self._rp_parts))

    def __getattr__(self, name: str) -> FieldRef:
        if name.startswith("__"):
            raise AttributeError(name)
        cls = _index.model_at(self._rp_model, self._rp_parts)
        if cls is None or name not in cls.__pydantic_fields__:
            where = self._rp_name
            raise AttributeError(
                f"{where} has no field {name!r}" if cls is not None else f"{where} has no fields"
            )
        return FieldRef(self._rp_model, (*self._rp_parts, name))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("field references are read-only")

    def __repr__(self) -> str:
        return f"F({self._rp_name})"

    def __bool__(self) -> bool:
        raise TypeError(f"{self._rp_name} is a field reference, not a value: compare it (==, <, ...)")

    __hash__ = None  # type: ignore[assignment]

    # -- comparisons ---------------------------------------------------------------------------
    def __eq__(self, other: object) -> Condition:  # type: ignore[override]
        return Compare.build(self, "eq", other)

    def __ne__(self, other: object) -> Condition:  # type: ignore[override]
        return Compare.build(self, "ne", other)

    def __lt__(self, other: object) -> Condition:
        return Compare.build(self, "lt", other)

    def __le__(self, other: object) -> Condition:
        return Compare.build(self, "le", other)

    def __gt__(self, other: object) -> Condition:
        return Compare.build(self, "gt", other)

    def __ge__(self, other: object) -> Condition:
        return Compare.build(self, "ge", other)

    def startswith(self, prefix: str) -> Condition:
        """The field's value starts with ``prefix`` (str fields indexed as TAG)."""
        return Compare.build(self, "prefix", prefix)

    def __contains__(self, item: object) -> bool:
        raise TypeError(
            "'in' cannot build a query condition (Python turns its result into a bool): "
            "use contains(field, value), or one_of(field, values) for a value among several"
        )


def F(model: type[M]) -> M:  # noqa: N802 - named like the field references of Django and others
    """The fields of ``model`` for queries: ``F(User).age >= 18``, ``F(User).profile.city == "Paris"``.

    Type checkers see an instance of ``model``, so each field has its declared type and a
    comparison with a value of another type is reported. At run time each field is a reference
    that builds a query condition. Combine conditions with ``&``, ``|`` and :func:`not_` (not
    ``and``, ``or``, ``not``, which Python turns into plain booleans), and use :func:`one_of`,
    :func:`contains` and :func:`match` where Python has no operator.
    """
    if not isinstance(model, type) or not issubclass(model, BaseModel):
        raise TypeError(f"F() takes a model class, not {model!r}")
    return cast(M, FieldRef(model, ()))


def field(model: type[BaseModel], path: str) -> Any:
    """The field of ``model`` at the dotted ``path`` (``"profile.city"``), for names known at run time."""
    ref: Any = F(model)
    for part in path.split("."):
        ref = getattr(ref, part)
    return ref


def _field_ref(value: Any, what: str, model: type[BaseModel] | None = None) -> FieldRef:
    if isinstance(value, str) and model is not None:
        value = field(model, value)
    if not isinstance(value, FieldRef):
        raise QueryError(f"{what} takes a field of F(Model), not {value!r}")
    return value


# --------------------------------------------------------------------------- conditions


class Condition:
    """A query condition. Combine with ``&`` (and), ``|`` (or) and ``~`` or :func:`not_`."""

    __slots__ = ("model",)

    model: type[BaseModel]

    def __and__(self, other: Condition | bool) -> Condition:
        return _combine(And, self, other)

    def __rand__(self, other: Condition | bool) -> Condition:
        return _combine(And, other, self)

    def __or__(self, other: Condition | bool) -> Condition:
        return _combine(Or, self, other)

    def __ror__(self, other: Condition | bool) -> Condition:
        return _combine(Or, other, self)

    def __invert__(self) -> Condition:
        return Not(self)

    def __bool__(self) -> bool:
        raise TypeError(
            "a query condition has no truth value: combine conditions with & and | (not 'and' / "
            "'or'), negate with ~ or not_(), and pass them to find()"
        )

    def render(self, params: list[str]) -> str:
        raise NotImplementedError


def as_condition(value: Any) -> Condition:
    """Check that ``value`` is a condition built from ``F(Model)`` fields."""
    if isinstance(value, Condition):
        return value
    if isinstance(value, bool):
        raise QueryError(
            "a query condition is a plain bool: it was computed by Python instead of built from "
            "F(Model) fields. Use ==, !=, <, <=, >, >= on F(Model).field, & | instead of 'and' / "
            "'or', not_() instead of 'not', one_of() / contains() instead of 'in', and == None "
            "instead of 'is None'"
        )
    raise QueryError(f"expected a query condition, not {value!r}")


def _combine(kind: type[And] | type[Or], left: Any, right: Any) -> Condition:
    a, b = as_condition(left), as_condition(right)
    if a.model is not b.model:
        raise QueryError(
            f"a condition on {a.model.__name__} cannot be combined with one on {b.model.__name__}"
        )
    parts: list[Condition] = []
    for c in (a, b):
        parts.extend(c.parts if type(c) is kind else (c,))
    return kind(a.model, tuple(parts))


class And(Condition):
    __slots__ = ("parts",)

    def __init__(self, model: type[BaseModel], parts: tuple[Condition, ...]) -> None:
        self.model = model
        self.parts = parts

    def render(self, params: list[str]) -> str:
        return " ".join(f"({part.render(params)})" for part in self.parts)

    def __repr__(self) -> str:
        return " & ".join(f"({part!r})" for part in self.parts)


class Or(Condition):
    __slots__ = ("parts",)

    def __init__(self, model: type[BaseModel], parts: tuple[Condition, ...]) -> None:
        self.model = model
        self.parts = parts

    def render(self, params: list[str]) -> str:
        return " | ".join(f"({part.render(params)})" for part in self.parts)

    def __repr__(self) -> str:
        return " | ".join(f"({part!r})" for part in self.parts)


class Not(Condition):
    __slots__ = ("inner",)

    def __init__(self, inner: Condition) -> None:
        self.model = inner.model
        self.inner = inner

    def render(self, params: list[str]) -> str:
        return f"-({self.inner.render(params)})"

    def __repr__(self) -> str:
        return f"not_({self.inner!r})"


def not_(condition: Condition | bool) -> Condition:
    """The negation of ``condition`` (``~condition`` does the same)."""
    return Not(as_condition(condition))


def all_of(*conditions: Condition | bool) -> Condition:
    """All of ``conditions`` hold (like ``a & b & ...``)."""
    if not conditions:
        raise QueryError("all_of() needs at least one condition")
    result = as_condition(conditions[0])
    for condition in conditions[1:]:
        result = _combine(And, result, condition)
    return result


def any_of(*conditions: Condition | bool) -> Condition:
    """At least one of ``conditions`` holds (like ``a | b | ...``)."""
    if not conditions:
        raise QueryError("any_of() needs at least one condition")
    result = as_condition(conditions[0])
    for condition in conditions[1:]:
        result = _combine(Or, result, condition)
    return result


_OPS = {"eq": "==", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">=", "prefix": "startswith"}


def _number(value: int | float) -> str:
    if isinstance(value, float):
        if math.isinf(value):
            return "+inf" if value > 0 else "-inf"
        return repr(value)
    return str(value)


def _param(params: list[str], value: str) -> str:
    # RediSearch reads a backslash in a parameter as an escape ("\\x" is "\x"): doubled, every
    # backslash stands for itself.
    params.append(value.replace("\\", "\\\\"))
    return f"$p{len(params) - 1}"


#: RediSearch's default separators of TEXT words (and whitespace).
_TEXT_SEPARATORS = re.compile(r"[\s,.<>{}\[\]\"':;!@#$%^&*()\-+=~]+")
#: The characters a one-byte wildcard pattern (w'...') cannot hold, even escaped.
_NO_PATTERN = frozenset("*?\\")


class Compare(Condition):
    """One comparison of an indexed field with a value (or values)."""

    __slots__ = ("leaf", "op", "value", "name")

    def __init__(self, model: type[BaseModel], leaf: IndexField, op: str, value: Any, name: str) -> None:
        self.model = model
        self.leaf = leaf
        self.op = op
        self.value = value
        self.name = name

    def __repr__(self) -> str:
        return f"{self.name} {_OPS.get(self.op, self.op)} {self.value!r}"

    @classmethod
    def build(cls, ref: Any, op: str, value: Any) -> Compare:
        ref = _field_ref(ref, _OPS.get(op, op))
        leaf = indexed_leaf(ref)
        name = ref._rp_name
        if value is None:
            if op not in ("eq", "ne"):
                raise QueryError(
                    f"{name} {_OPS.get(op, op)} None: only == None and != None compare with None"
                )
            if leaf.multi or leaf.type == _index.TEXT:
                raise QueryError(
                    f"{name} == None: only single TAG and NUMERIC fields can be compared with None"
                )
            return cls(ref._rp_model, leaf, op, None, name)
        if op == "prefix":
            if leaf.multi:
                raise QueryError(f"{name}.startswith(): {name} is a list; startswith() is for str fields")
            if leaf.type == _index.NUMERIC:
                raise QueryError(f"{name}.startswith(): {name} is NUMERIC; startswith() is for str fields")
            if leaf.type == _index.TEXT:
                raise QueryError(
                    f"{name}.startswith(): {name} is indexed as TEXT, which matches words; use "
                    "match(field, words, prefix=True), or index it as a TAG (Indexed()) to match "
                    "the start of the whole value"
                )
            if not isinstance(value, str):
                raise QueryError(f"{name}.startswith() takes a str, not {value!r}")
            if not value:
                raise QueryError(f"{name}.startswith(''): an empty prefix matches every value; leave it out")
            _check_text(name, value)
            if value in _NO_PATTERN:
                raise QueryError(
                    f"{name}.startswith({value!r}): RediSearch cannot match this one-byte prefix "
                    "(a prefix needs two bytes, and a one-byte one goes as a wildcard pattern, "
                    "which cannot hold * ? or \\); give a longer prefix"
                )
            return cls(ref._rp_model, leaf, op, value, name)
        if leaf.type == _index.TEXT:
            raise QueryError(
                f"{name} is indexed as TEXT (words): use match(F(...).field, words); "
                "== and ranges need Indexed() (TAG) or a number"
            )
        if leaf.multi:
            raise QueryError(
                f"{name} {_OPS[op]} ...: {name} is a list; use contains({name}, item) or "
                f"one_of({name}, items)"
            )
        if op in ("lt", "le", "gt", "ge") and leaf.type != _index.NUMERIC:
            raise QueryError(f"{name} {_OPS[op]} ...: ranges need a NUMERIC field, and {name} is {leaf.type}")
        return cls(ref._rp_model, leaf, op, query_value(leaf, name, value), name)

    def render(self, params: list[str]) -> str:
        leaf, op, value = self.leaf, self.op, self.value
        at = f"@{leaf.attribute}"
        if value is None:
            if leaf.type == _index.NUMERIC:
                missing = f"-{at}:[-inf +inf]"
            else:  # w'*' matches every non-empty value, {""} the empty one
                missing = f"-({at}:{{w'*'}} | {at}:{{{_param(params, '')}}})"
            return missing if op == "eq" else f"-({missing})"
        if leaf.type == _index.NUMERIC:
            if op == "in":
                if not value:
                    return f"{at}:[0 0] -{at}:[0 0]"  # nothing
                return " | ".join(f"{at}:[{v} {v}]" for v in value)
            if op == "between":
                low, high = value
                return f"{at}:[{low} {high}]"
            return {
                "eq": f"{at}:[{value} {value}]",
                "ne": f"-{at}:[{value} {value}]",
                "lt": f"{at}:[-inf ({value}]",
                "le": f"{at}:[-inf {value}]",
                "gt": f"{at}:[({value} +inf]",
                "ge": f"{at}:[{value} +inf]",
            }[op]
        if leaf.type == _index.TAG:
            if op == "in":
                if not value:
                    p = _param(params, "")
                    return f"{at}:{{{p}}} -{at}:{{{p}}}"  # nothing
                return f"{at}:{{{' | '.join(_param(params, v) for v in value)}}}"
            if op == "prefix":
                if len(value.encode()) >= 2:
                    return f"{at}:{{{_param(params, value)}*}}"
                # RediSearch matches a prefix given as a parameter from two bytes on; a one-byte
                # prefix goes as a wildcard pattern, escaped.
                escaped = value if value.isalnum() else "\\" + value
                return f"{at}:{{w'{escaped}*'}}"
            tag = f"{at}:{{{_param(params, value)}}}"
            return tag if op == "eq" else f"-{tag}"
        # TEXT: every word must be there (as a prefix with prefix=True)
        words, prefix = value
        star = "*" if prefix else ""
        return f"{at}:({' '.join(_param(params, w) + star for w in words)})"


def indexed_leaf(ref: FieldRef) -> IndexField:
    """The index attribute of a field reference; FieldNotIndexedError when it has none."""
    schema = index_schema(ref._rp_model)
    path = ".".join(ref._rp_parts)
    leaf = schema.fields.get(path)
    if leaf is not None:
        return leaf
    name = ref._rp_name
    if not ref._rp_parts:
        raise QueryError(f"F({name}) is the model itself: compare one of its fields")
    if _index.model_at(ref._rp_model, ref._rp_parts) is not None:
        raise FieldNotIndexedError(
            name, f"{name} is a nested model: compare its indexed fields ({name}.<field>) instead"
        )
    raise FieldNotIndexedError(name)


def _check_text(name: str, value: str) -> None:
    if "\x00" in value:
        raise QueryError(f"{name}: a value holding a NUL character (\\x00) cannot be searched")


def query_value(leaf: IndexField, name: str, value: Any) -> Any:
    """``value`` as the index holds it: a str for TAG fields, a number text for NUMERIC ones."""
    kind, core = leaf.kind, leaf.core
    try:
        if kind == _index.STR:
            if isinstance(value, enum.Enum) and isinstance(value.value, str):
                value = value.value
            if not isinstance(value, str):
                raise TypeError
            _check_text(name, value)
            return value
        if kind == _index.BOOL:
            if not isinstance(value, bool):
                raise TypeError
            return "true" if value else "false"
        if kind == _index.UUID:
            return str(value if isinstance(value, uuid.UUID) else uuid.UUID(value))
        if kind == _index.ENUM:
            member = value if isinstance(value, core) else core(value)
            stored = member.value
            if leaf.type == _index.TAG:
                _check_text(name, stored)
                return stored
            return _number(stored)
        if kind == _index.LITERAL:
            if value not in core.__args__ or isinstance(value, bool):
                raise ValueError(f"{value!r} is none of {core.__args__!r}")
            if leaf.type == _index.TAG:
                _check_text(name, value)
                return value
            return _number(value)
        if kind in (_index.NUMBER, _index.DECIMAL):
            if isinstance(value, bool) or not isinstance(value, int | float | decimal.Decimal):
                raise TypeError
            number = value if isinstance(value, int) else float(value)
            if isinstance(number, float) and math.isnan(number):
                raise ValueError("NaN is not comparable")
            return _number(number)
        if kind == _index.DATETIME:
            if not isinstance(value, datetime.datetime):
                raise TypeError
            return _number(_index.datetime_to_timestamp(value))
        if kind == _index.DATE:
            if not isinstance(value, datetime.date) or isinstance(value, datetime.datetime):
                raise TypeError
            return _number(_index.date_to_timestamp(value))
    except (TypeError, ValueError) as exc:
        detail = f": {exc}" if str(exc) else ""
        raise QueryError(f"{name} cannot be compared with {value!r}{detail}") from None
    raise QueryError(f"{name}: unsupported value kind {kind}")  # pragma: no cover - every kind is above


def one_of(field: T, values: Iterable[T]) -> Condition:
    """The field's value is one of ``values`` (for a list field: one of its items is)."""
    ref = _field_ref(field, "one_of()")
    leaf = indexed_leaf(ref)
    name = ref._rp_name
    if leaf.type == _index.TEXT:
        raise QueryError(
            f"one_of(): {name} is indexed as TEXT (words); one_of() needs a TAG or NUMERIC field"
        )
    if isinstance(values, str | bytes):
        raise QueryError(f"one_of({name}, ...) takes a collection of values, not one {type(values).__name__}")
    converted = list(dict.fromkeys(query_value(leaf, name, v) for v in values))
    return Compare(ref._rp_model, leaf, "in", converted, name)


def contains(field: Iterable[T], value: T) -> Condition:
    """The list field holds ``value`` among its items."""
    ref = _field_ref(field, "contains()")
    leaf = indexed_leaf(ref)
    name = ref._rp_name
    if not leaf.multi:
        raise QueryError(f"contains(): {name} is not a list; compare it with == instead")
    if value is None:
        raise QueryError(f"contains({name}, None): list items cannot be compared with None")
    return Compare(ref._rp_model, leaf, "eq", query_value(leaf, name, value), name)


def between(field: T, low: T, high: T) -> Condition:
    """``low <= field <= high`` for a NUMERIC field."""
    ref = _field_ref(field, "between()")
    leaf = indexed_leaf(ref)
    name = ref._rp_name
    if leaf.type != _index.NUMERIC:
        raise QueryError(f"between(): {name} is {leaf.type}; ranges need a NUMERIC field")
    bounds = (query_value(leaf, name, low), query_value(leaf, name, high))
    return Compare(ref._rp_model, leaf, "between", bounds, name)


def match(field: str | None, words: str, *, prefix: bool = False) -> Condition:
    """Every word of ``words`` is in the TEXT field (as the start of a word with ``prefix=True``).

    Words are split as RediSearch splits text (spaces and punctuation), and compared without
    regard to case, after stemming (``engines`` finds ``engine``), as RediSearch does.
    """
    ref = _field_ref(field, "match()")
    leaf = indexed_leaf(ref)
    name = ref._rp_name
    if leaf.type != _index.TEXT:
        raise QueryError(f"match(): {name} is {leaf.type}; match() needs Indexed(text=True)")
    if not isinstance(words, str):
        raise QueryError(f"match({name}, ...) takes a str, not {words!r}")
    _check_text(name, words)
    split = [w for w in _TEXT_SEPARATORS.split(words) if w]
    if not split:
        raise QueryError(f"match({name}, {words!r}): no word to search for")
    if prefix:
        short = [w for w in split if len(w.encode()) < 2]
        if short:
            raise QueryError(
                f"match({name}, ..., prefix=True): RediSearch needs prefixes of 2 bytes or more ({short})"
            )
    return Compare(ref._rp_model, leaf, "match", (split, prefix), name)


# --------------------------------------------------------------------------- FT.SEARCH


class QuerySpec:
    """Everything a query says, without I/O: conditions, order, paging and projected fields."""

    __slots__ = ("model", "schema", "condition", "sort", "start", "limit", "fields", "_text", "_params")

    def __init__(
        self,
        model: type[BaseModel],
        conditions: tuple[Any, ...],
        sort: tuple[IndexField, bool] | None = None,
        start: int = 0,
        limit: int | None = None,
        fields: tuple[str, ...] | None = None,
    ) -> None:
        self.model = model
        self.schema: IndexSchema = index_schema(model)
        condition: Condition | None = None
        for given in conditions:
            c = as_condition(given)
            if c.model is not model:
                raise QueryError(f"{model.__name__}.find() got a condition on {c.model.__name__}")
            condition = c if condition is None else _combine(And, condition, c)
        self.condition = condition
        self.sort = sort
        self.start = start
        self.limit = limit
        self.fields = fields
        params: list[str] = []
        self._text = "*" if condition is None else condition.render(params)
        self._params = params

    def but(self, **changes: Any) -> QuerySpec:
        """A copy with some settings changed (conditions stay)."""
        copy = object.__new__(QuerySpec)
        for name in QuerySpec.__slots__:
            object.__setattr__(copy, name, changes.get(name, getattr(self, name)))
        return copy

    def sorted_by(self, by: Any, descending: bool) -> QuerySpec:
        ref = _field_ref(by, "sort_by()", self.model)
        if ref._rp_model is not self.model:
            raise QueryError(f"sort_by(): {ref._rp_name} is not a field of {self.model.__name__}")
        leaf = indexed_leaf(ref)
        if not leaf.sortable:
            raise QueryError(f"sort_by(): {ref._rp_name} is not sortable: declare it Indexed(sortable=True)")
        return self.but(sort=(leaf, bool(descending)))

    def paged(self, start: int | None = None, limit: int | None = None) -> QuerySpec:
        for name, value in (("offset", start), ("limit", limit)):
            if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
                raise QueryError(f"{name} must be a non-negative int, not {value!r}")
        return self.but(
            start=self.start if start is None else start,
            limit=self.limit if limit is None else limit,
        )

    def projected(self, fields: tuple[Any, ...]) -> QuerySpec:
        names: list[str] = []
        for given in fields:
            ref = _field_ref(given, "only()", self.model)
            if ref._rp_model is not self.model:
                raise QueryError(f"only(): {ref._rp_name} is not a field of {self.model.__name__}")
            if len(ref._rp_parts) != 1:
                raise QueryError(f"only(): {ref._rp_name}: only top-level fields can be projected")
            names.append(ref._rp_parts[0])
        if not names:
            raise QueryError("only() needs at least one field")
        return self.but(fields=tuple(dict.fromkeys(names)))

    def command(self, offset: int, num: int) -> tuple[Any, ...]:
        """The FT.SEARCH of ``num`` results from ``offset``."""
        args: list[Any] = ["FT.SEARCH", self.schema.query_name, self._text]
        dialect = DIALECT
        if num == 0:
            args.append("NOCONTENT")
        elif self.fields is not None:
            paths = [json_path_for((name,)) for name in self.fields]
            args += ["RETURN", len(paths), *paths]
            dialect = "3"  # values come as JSON arrays: a str and a number stay apart
        if self.sort is not None:
            leaf, descending = self.sort
            args += ["SORTBY", leaf.path, "DESC" if descending else "ASC"]
        args += ["LIMIT", offset, num]
        if self._params:
            args.append("PARAMS")
            args.append(2 * len(self._params))
            for i, value in enumerate(self._params):
                args += (f"p{i}", value)
        args += ["DIALECT", dialect]
        return tuple(args)

    def count_command(self) -> tuple[Any, ...]:
        return self.command(0, 0)

    # -- replies -------------------------------------------------------------------------------
    def parse(self, reply: Any) -> tuple[int, list[Any]]:
        """The total number of matches and the models of one FT.SEARCH reply."""
        with _base.paused_collector():  # without it, find() costs about a quarter more
            return self._parse(reply)

    def _parse(self, reply: Any) -> tuple[int, list[Any]]:
        if isinstance(reply, dict):  # RESP3
            return _parse_resp3(self, reply)
        total = int(reply[0])
        if self.fields is not None:
            return total, [self._load_projected(reply[i], reply[i + 1]) for i in range(1, len(reply), 2)]
        # The hot path of find(): each document straight from the reply's JSON into its model.
        validate = self.model.__pydantic_validator__.validate_json
        cut = len(self.schema.key_prefix) + 1
        set_pk, set_state, stored = _base.set_pk, _base.set_state, _base.STORED
        out = []
        for i in range(1, len(reply), 2):
            key, values = reply[i], reply[i + 1]
            if type(key) is bytes:
                key = key.decode()
            # The document is the "$" value; a SORTBY adds the sort value before it.
            model = validate(values[1] if len(values) == 2 else _pair_value(values, "$"))
            set_pk(model, key[cut:])  # what get() sets; the key is made when asked
            set_state(model, stored)
            out.append(model)
        return total, out

    def _load_projected(self, key: Any, values: Any) -> Any:
        if type(key) is bytes:
            key = key.decode()
        found: dict[str, Any] = {}
        if isinstance(values, dict):
            pairs = list(values.items())
        else:
            pairs = list(zip(values[::2], values[1::2], strict=False))
        wanted = {json_path_for((name,)): name for name in self.fields or ()}
        for path, raw in pairs:
            path = path.decode() if isinstance(path, bytes) else path
            name = wanted.get(path)
            if name is not None:
                decoded = json.loads(raw)
                if decoded:
                    found[name] = decoded[0]
        return projected_model(self.model, found, key[len(self.schema.key_prefix) + 1 :], key)


def _pair_value(values: Any, name: str) -> Any:
    for i in range(0, len(values) - 1, 2):
        k = values[i]
        if k == name or k == name.encode():
            return values[i + 1]
    raise QueryError(f"the search reply holds no {name!r} value: {values!r}")


def _parse_resp3(spec: QuerySpec, reply: dict[Any, Any]) -> tuple[int, list[Any]]:
    raw = b"results" in reply  # bytes replies, unless the client decodes them
    for warning in reply.get(b"warning" if raw else "warning") or ():
        text = warning.decode() if isinstance(warning, bytes) else str(warning)
        raise QueryError(f"the search did not complete, so its results would be partial: {text}")
    total = int(reply[b"total_results" if raw else "total_results"])
    results = reply.get(b"results" if raw else "results") or ()
    id_, extra, doc = (b"id", b"extra_attributes", b"$") if raw else ("id", "extra_attributes", "$")
    if spec.fields is not None:
        return total, [spec._load_projected(r[id_], r.get(extra) or {}) for r in results]
    validate = spec.model.__pydantic_validator__.validate_json
    cut = len(spec.schema.key_prefix) + 1
    set_pk, set_state, stored = _base.set_pk, _base.set_state, _base.STORED
    out = []
    for result in results:
        key = result[id_]
        if type(key) is bytes:
            key = key.decode()
        model = validate(result[extra][doc])
        set_pk(model, key[cut:])  # what get() sets; the key is made when asked
        set_state(model, stored)
        out.append(model)
    return total, out


def _set_identity(model: Any, pk: str, key: str) -> None:
    """What ``get()`` gives a model it reads: its pk and key, and the stored state."""
    _base.set_pk(model, pk)
    _base.set_key(model, key)
    _base.set_state(model, _base.STORED)


def count_of(reply: Any) -> int:
    if isinstance(reply, dict):
        return int(reply[b"total_results" if b"total_results" in reply else "total_results"])
    return int(reply[0])


def projected_model(model: type[BaseModel], values: dict[str, Any], pk: str, key: str) -> Any:
    """A partial instance holding only the projected ``values``: every other field is unloaded."""
    specs = _schema.field_specs(model)
    loaded = {name: specs[name].load_python(value) for name, value in values.items()}
    instance = model.model_construct(_fields_set=set(loaded), **loaded)
    for name in list(instance.__dict__):
        if name not in loaded:
            del instance.__dict__[name]  # not projected: unloaded, not its default
    _set_identity(instance, pk, key)
    return instance
