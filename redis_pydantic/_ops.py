"""Redis operations as data: the commands to send and what to do with the replies.

Each builder validates its input first, so bad input raises before anything is queued, and
returns an :class:`Op`. A face's executor sends ``Op.commands`` (directly, as one atomic batch,
or queued in an ambient pipeline) and then calls ``Op.apply(replies)``, which updates local
state and returns the operation's result. Local state therefore changes only after Redis
accepted the change.
"""

from __future__ import annotations

import json
import weakref
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import PydanticSerializationError

from redis_pydantic import _paths
from redis_pydantic._schema import FieldSpec, field_specs
from redis_pydantic._scripts import DICT_OPS, LIST_INSERT, LIST_POP, ScriptCall
from redis_pydantic.errors import (
    DocumentValidationError,
    FieldValidationError,
    KeyNotFoundError,
    NotAttachedError,
    RedisCommandError,
    UnknownFieldError,
    not_serializable,
)

Command = tuple[Any, ...] | ScriptCall
Apply = Callable[[list[Any]], Any]


class Stale(Exception):
    """Raised by ``apply`` when the reply shows that the local value was out of date."""


class Recheck(Exception):
    """Raised by ``apply`` when a reply is ambiguous: the executor runs ``op`` (a read) instead."""

    def __init__(self, op: Op) -> None:
        super().__init__(op)
        self.op = op


class Op:
    """One library operation: commands for Redis and the local effect of their replies."""

    __slots__ = ("root", "cls", "commands", "apply", "returns_value", "reload", "what", "creates")

    def __init__(
        self,
        root: Any,
        commands: list[Command],
        apply: Apply,
        *,
        returns_value: bool = False,
        reload: Callable[[], Single] | None = None,
        what: str = "",
        cls: type | None = None,
        creates: bool = False,
    ) -> None:
        self.root = root
        #: The op writes the whole document itself, so no JSON.SET NX has to come first.
        self.creates = creates
        self.cls = cls if cls is not None else type(root)
        self.commands = commands
        self.apply = apply
        self.returns_value = returns_value
        self.reload = reload
        self.what = what


# --------------------------------------------------------------------------- reply helpers


def text(reply: Any) -> str:
    """A reply as str, whether the client decodes responses or not."""
    if isinstance(reply, bytes):
        return reply.decode()
    return str(reply)


def unwrap_json(reply: Any, key: str) -> str | bytes | None:
    """The JSON text of the single match of a ``$`` path in a JSON.GET reply.

    ``None`` when the path matched nothing. RedisJSON answers ``[<value>]``, so the brackets are
    cut off without decoding the value twice.
    """
    if reply is None:
        raise KeyNotFoundError(key)
    if len(reply) <= 2:  # "[]"
        return None
    return reply[1:-1]


_FAKE_CLIENTS: weakref.WeakKeyDictionary[Any, bool] = weakref.WeakKeyDictionary()


def is_fakeredis(client: Any) -> bool:
    """Whether ``client`` talks to an in-process fakeredis server (cached per client)."""
    try:
        return _FAKE_CLIENTS[client]
    except (KeyError, TypeError):
        pass
    pool = getattr(client, "connection_pool", None)
    fake = type(client).__module__.startswith("fakeredis") or (
        pool is not None and pool.connection_class.__module__.startswith("fakeredis")
    )
    try:
        _FAKE_CLIENTS[client] = fake
    except TypeError:
        pass
    return fake


def fakeredis_get(reply: Any, path: Any) -> Any:
    """Turn fakeredis's answer to ``JSON.GET key path path`` into real RedisJSON's ``[value]``.

    fakeredis drops the outer brackets when a single ``$`` path matches one array, which makes
    an empty list look like a missing path; asking for the path twice gets the unambiguous
    ``{path: [matches]}`` form.
    """
    if reply is None:
        return None
    matches = json.loads(reply)[path if isinstance(path, str) else path.decode()]
    out = json.dumps(matches, separators=(",", ":"), ensure_ascii=False)
    return out.encode() if isinstance(reply, bytes) else out


def first(reply: Any) -> Any:
    """The first element of a ``$``-path reply list."""
    if isinstance(reply, list):
        return reply[0] if reply else None
    return reply


def locate(model: Any) -> tuple[Any, tuple[str, ...]]:
    """The top-level stored model and the path of ``model`` inside its document."""
    root = getattr(model, "_rp_root", None)
    if root is None:
        return model, ()
    return root, model._rp_path


# --------------------------------------------------------------------------- whole documents


def document_json(model: Any) -> bytes:
    try:
        return model.__pydantic_serializer__.to_json(model)
    except PydanticSerializationError as exc:
        raise not_serializable(type(model).__name__, exc) from exc


def validate_into(model: Any, raw: str | bytes) -> None:
    """Validate the JSON document ``raw`` straight into ``model``, keeping its identity and binding.

    pydantic fills the existing instance (as ``__init__`` does), which is cheaper than building a
    second model and copying it over; the library's own per-instance state is kept.
    """
    state = {name: getattr(model, name, None) for name in _STATE_SLOTS}
    type(model).__pydantic_validator__.validate_json(raw, self_instance=model)
    for name, value in state.items():
        if value is not None:
            object.__setattr__(model, name, value)


#: Library state that a re-validation of an existing instance must not reset.
_STATE_SLOTS = ("_rp_pk", "_rp_key", "_rp_state", "_rp_root", "_rp_path", "_rp_json")


def replace_fields(target: BaseModel, loaded: BaseModel) -> None:
    """Make ``target`` hold the field values of ``loaded``, in place."""
    target.__dict__.clear()
    target.__dict__.update(loaded.__dict__)
    object.__setattr__(target, "__pydantic_fields_set__", set(loaded.__pydantic_fields_set__))
    object.__setattr__(target, "__pydantic_extra__", loaded.__pydantic_extra__)


# --------------------------------------------------------------------------- field ops


def not_attached(model: Any) -> NotAttachedError:
    """The error for an operation on a nested model that belongs to no stored document."""
    return NotAttachedError(
        f"this {type(model).__name__} is not attached to a stored model; reach it through "
        "the model's attribute (user.profile), not from a list, dict or copy"
    )


#: Values that are simply stored: no identity to keep, no model to fill in place.
_PLAIN_VALUES = frozenset({str, int, float, bool, bytes, type(None)})


def store_local(owner: Any, spec: FieldSpec, value: Any) -> None:
    """Put a value into the owner, keeping list/dict identity so held references stay live."""
    d = owner.__dict__
    name = spec.name
    if type(value) in _PLAIN_VALUES:  # the common case, without the checks below
        d[name] = value
        owner.__pydantic_fields_set__.add(name)
        return
    current = d.get(name)
    if type(current) is type(value) and not isinstance(value, BaseModel):
        d[name] = value
    elif isinstance(current, BaseModel) and type(current) is type(value):
        replace_fields(current, value)
    elif type(current) is not type(value) and isinstance(current, list) and isinstance(value, list):
        list.__setitem__(current, slice(None), value)
    elif type(current) is not type(value) and isinstance(current, dict) and isinstance(value, dict):
        dict.clear(current)
        dict.update(current, value)
    else:
        d[name] = value
    owner.__pydantic_fields_set__.add(name)


def target(owner: Any, spec: FieldSpec) -> tuple[Any, str, str]:
    """The stored model, its key and the JSON path of the field ``spec`` of ``owner``."""
    root: Any = getattr(owner, "_rp_root", False)
    if root is None:  # a top-level stored model: the common case (its key is usually cached)
        return owner, owner._rp_key or owner.key, spec.path
    if root is not False:  # a nested model bound to its document
        return root, root._rp_key or root.key, owner._rp_json + spec.path[1:]
    # A nested model that is not bound to a stored model (an item of a list or dict, or a copy)
    # has no document to write to.
    raise not_attached(owner)


#: One command and what its reply does locally: ``(root, command, on_reply)``. The executor
#: sends it directly, or wraps it in an :class:`Op` inside a pipeline or a first write.
Single = tuple[Any, Command, Callable[[Any], Any]]


def set_field(owner: Any, spec: FieldSpec, value: Any) -> Single:
    root, key, path = target(owner, spec)
    validated = spec.validate(value)

    def on_reply(reply: Any) -> None:
        if reply is None:
            raise RedisCommandError(f"{path} cannot be written in the document at {key!r}")
        store_local(owner, spec, validated)

    return root, ("JSON.SET", key, path, spec.dump_json(validated)), on_reply


def load_field(owner: Any, spec: FieldSpec) -> Single:
    root, key, path = target(owner, spec)

    def on_reply(reply: Any) -> Any:
        raw = unwrap_json(reply, key)
        if raw is None:
            info = type(owner).__pydantic_fields__[spec.name]
            if info.is_required():
                raise KeyNotFoundError(key, f"the document at {key!r} has no field {path}")
            value = info.get_default(call_default_factory=True)
        else:
            try:
                value = spec.load_json(raw)
            except ValidationError as exc:
                raise DocumentValidationError(key, exc, f"field {path}") from None
        store_local(owner, spec, value)
        return value

    return root, ("JSON.GET", key, path), on_reply


def increase(owner: Any, spec: FieldSpec, amount: Any) -> Single:
    if spec.kind == "int":
        if type(amount) is not int:
            raise FieldValidationError(spec.qualname, _type_error("int", amount))
    elif not isinstance(amount, int | float) or isinstance(amount, bool):
        raise FieldValidationError(spec.qualname, _type_error("float", amount))
    root, key, path = target(owner, spec)

    def on_reply(reply: Any) -> Any:
        if isinstance(reply, bytes | str):  # RESP2 (and scripts) answer the JSON text "[n]"
            reply = json.loads(reply)
        new = first(reply)
        if new is None:
            raise RedisCommandError(f"{path} is not a number in the document at {key!r}")
        value = spec.load_python(new)
        store_local(owner, spec, value)
        return value

    return root, ("JSON.NUMINCRBY", key, path, amount), on_reply


def _type_error(expected: str, value: Any) -> ValidationError:
    return ValidationError.from_exception_data(
        "aincrease",
        [{"type": f"{expected}_type", "loc": ("amount",), "input": value}],
    )


# -- lists ---------------------------------------------------------------------------------


def _check_length(path: str, key: str, expected: int, reply: Any) -> None:
    new_len = first(reply)
    if new_len is None:
        raise RedisCommandError(f"{path} is not a list in the document at {key!r}")
    if new_len != expected:
        raise Stale


def list_append(owner: Any, spec: FieldSpec, lst: list[Any], item: Any) -> Single:
    validated = spec.validate_item(item)
    root, key, path = target(owner, spec)

    def on_reply(reply: Any) -> None:
        _check_length(path, key, len(lst) + 1, reply)
        list.append(lst, validated)

    return root, ("JSON.ARRAPPEND", key, path, spec.dump_item_json(validated)), on_reply


def list_extend(owner: Any, spec: FieldSpec, lst: list[Any], items: Iterable[Any]) -> Single | None:
    """``None`` for no items: appending nothing is a no-op, as for ``list.extend([])``."""
    validated = [spec.validate_item(x) for x in items]
    if not validated:
        return None
    root, key, path = target(owner, spec)
    payloads = [spec.dump_item_json(x) for x in validated]

    def on_reply(reply: Any) -> None:
        _check_length(path, key, len(lst) + len(validated), reply)
        list.extend(lst, validated)

    return root, ("JSON.ARRAPPEND", key, path, *payloads), on_reply


def _check_index(index: Any) -> None:
    if not isinstance(index, int) or isinstance(index, bool):
        raise TypeError(f"list indices must be integers, not {type(index).__name__}")


def list_insert(owner: Any, spec: FieldSpec, lst: list[Any], index: int, item: Any) -> Single:
    _check_index(index)
    validated = spec.validate_item(item)
    root, key, path = target(owner, spec)
    payload = spec.dump_item_json(validated)
    command: Command
    if index == 0:
        command = ("JSON.ARRINSERT", key, path, 0, payload)
    else:
        command = ScriptCall(LIST_INSERT, (key,), (path, index, payload))

    def on_reply(reply: Any) -> None:
        _check_length(path, key, len(lst) + 1, reply)
        list.insert(lst, index, validated)

    return root, command, on_reply


def list_pop(owner: Any, spec: FieldSpec, lst: list[Any], index: int) -> Single:
    _check_index(index)
    root, key, path = target(owner, spec)
    command: Command
    if index in (-1, 0):  # always in range unless the list is empty: JSON.ARRPOP itself
        command = ("JSON.ARRPOP", key, path, index)
    else:  # Python's IndexError for an index out of range (ARRPOP would clamp it)
        command = ScriptCall(LIST_POP, (key,), (path, index))

    def on_reply(reply: Any) -> Any:
        if type(command) is tuple:
            raw = first(reply)
            if raw is None:
                # [nil] is both "empty list" and "not a list"; nothing was written, so a read
                # tells them apart.
                raise Recheck(_pop_failure(root, key, path))
        else:
            if reply[0] == 0:
                raise IndexError(text(reply[1]))
            raw = reply[1]
        item = spec.load_item_json(raw)
        try:
            local_ok = lst[index] == item
        except IndexError:
            local_ok = False
        if not local_ok:
            raise Stale(item)
        list.pop(lst, index)
        return item

    return root, command, on_reply


def _pop_failure(root: Any, key: str, path: str) -> Op:
    """A read that raises the right error for a JSON.ARRPOP that popped nothing."""

    def apply(replies: list[Any]) -> None:
        kind = first(first(replies[0]))
        if kind in (b"array", "array"):
            raise IndexError("pop from empty list")
        raise RedisCommandError(f"{path} is not a list in the document at {key!r}")

    return Op(root, [("JSON.TYPE", key, path)], apply, returns_value=True, what="apop")


def clear_container(owner: Any, spec: FieldSpec, container: list[Any] | dict[Any, Any]) -> Single:
    root, key, path = target(owner, spec)
    empty = b"[]" if isinstance(container, list) else b"{}"

    def on_reply(reply: Any) -> None:
        if reply is None:
            raise RedisCommandError(f"{path} cannot be written in the document at {key!r}")
        container.clear()
        owner.__pydantic_fields_set__.add(spec.name)

    return root, ("JSON.SET", key, path, empty), on_reply


# -- dicts ---------------------------------------------------------------------------------


def _check_key(spec: FieldSpec, key: Any) -> str:
    if not isinstance(key, str):
        raise FieldValidationError(
            f"{spec.qualname}[key]",
            ValidationError.from_exception_data(
                "dict key", [{"type": "string_type", "loc": ("key",), "input": key}]
            ),
        )
    return key


def dict_set_item(owner: Any, spec: FieldSpec, d: dict[str, Any], item_key: Any, value: Any) -> Single:
    item_key = _check_key(spec, item_key)
    validated = spec.validate_item(value)
    root, key, path = target(owner, spec)
    payload = spec.dump_item_json(validated)
    command: Command
    if _paths.is_path_safe_key(item_key):
        command = ("JSON.SET", key, path + _paths.key_segment(item_key), payload)
    else:
        command = ScriptCall(DICT_OPS, (key,), ("set", path, item_key, payload))

    def on_reply(reply: Any) -> None:
        if reply is None:
            raise RedisCommandError(f"{path} is not a dict in the document at {key!r}")
        dict.__setitem__(d, item_key, validated)
        owner.__pydantic_fields_set__.add(spec.name)

    return root, command, on_reply


def dict_update(owner: Any, spec: FieldSpec, d: dict[str, Any], items: Mapping[str, Any]) -> Single | None:
    """``None`` for no items."""
    if len(items) == 1:
        ((item_key, value),) = items.items()
        return dict_set_item(owner, spec, d, item_key, value)
    validated = {_check_key(spec, k): spec.validate_item(v) for k, v in items.items()}
    if not validated:
        return None
    root, key, path = target(owner, spec)
    # Not JSON.MSET: it answers OK and writes nothing when the path no longer holds an object,
    # which would leave the local dict ahead of Redis. The script checks and refuses.
    flat: list[Any] = ["set", path]
    for k, v in validated.items():
        flat += (k, spec.dump_item_json(v))
    command = ScriptCall(DICT_OPS, (key,), tuple(flat))

    def on_reply(reply: Any) -> None:
        if reply is None:
            raise RedisCommandError(f"{path} is not a dict in the document at {key!r}")
        dict.update(d, validated)
        owner.__pydantic_fields_set__.add(spec.name)

    return root, command, on_reply


_MISSING = object()


def dict_pop(
    owner: Any, spec: FieldSpec, d: dict[str, Any], item_key: Any, default: Any = _MISSING
) -> Single:
    item_key = _check_key(spec, item_key)
    root, key, path = target(owner, spec)

    def on_reply(reply: Any) -> Any:
        if reply[0] == 0:
            if default is _MISSING:
                raise KeyError(item_key)
            d.pop(item_key, None)
            return default
        value = spec.load_item_json(reply[1])
        d.pop(item_key, None)
        return value

    return root, ScriptCall(DICT_OPS, (key,), ("pop", path, item_key)), on_reply


def dict_del(owner: Any, spec: FieldSpec, d: dict[str, Any], item_key: Any) -> Single:
    item_key = _check_key(spec, item_key)
    root, key, path = target(owner, spec)

    def on_reply(reply: Any) -> None:
        if reply[0] == 0:
            raise KeyError(item_key)
        d.pop(item_key, None)

    return root, ScriptCall(DICT_OPS, (key,), ("pop", path, item_key)), on_reply


def dict_popitem(owner: Any, spec: FieldSpec, d: dict[str, Any]) -> Single:
    root, key, path = target(owner, spec)

    def on_reply(reply: Any) -> tuple[str, Any]:
        if reply[0] == 0:
            raise KeyError("popitem(): dictionary is empty")
        popped = text(reply[1])
        value = spec.load_item_json(reply[2])
        d.pop(popped, None)
        return popped, value

    return root, ScriptCall(DICT_OPS, (key,), ("popitem", path)), on_reply


# --------------------------------------------------------------------------- model-level


def field_payloads(model: Any) -> dict[str, bytes]:
    """The JSON of each loaded field of ``model``, to tell which fields a block changed."""
    specs = field_specs(type(model))
    d = model.__dict__
    return {name: spec.dump_json(d[name]) for name, spec in specs.items() if name in d}


def replace_model(model: Any, root: Any, path: tuple[str, ...], value: Any) -> Op:
    """Replace the nested ``model`` (at ``path`` in ``root``'s document) by ``value``."""
    cls = type(model)
    try:
        validated = cls.model_validate(value, strict=True)
    except ValidationError as exc:
        raise FieldValidationError(f"{cls.__name__} at {_paths.json_path_for(path)}", exc) from None
    json_path = _paths.json_path_for(path)

    def apply(replies: list[Any]) -> None:
        if replies[0] is None:
            raise RedisCommandError(f"{json_path} cannot be written in the document at {root.key!r}")
        replace_fields(model, validated)

    return Op(root, [("JSON.SET", root.key, json_path, document_json(validated))], apply, what="set")


def set_fields(model: Any, values: Mapping[str, Any], what: str = "aupdate") -> Op:
    """Set several fields of ``model`` in one JSON.MSET (atomic in RedisJSON)."""
    specs = field_specs(type(model))
    unknown = [n for n in values if n not in specs]
    if unknown:
        raise UnknownFieldError(f"{type(model).__name__} has no field(s) {', '.join(map(repr, unknown))}")
    validated = {name: specs[name].validate(v) for name, v in values.items()}
    root = locate(model)[0]
    args: list[Any] = ["JSON.MSET"]
    for name, value in validated.items():
        _, key, path = target(model, specs[name])
        args += [key, path, specs[name].dump_json(value)]

    def apply(replies: list[Any]) -> None:
        for name, value in validated.items():
            store_local(model, specs[name], value)

    return Op(root, [tuple(args)] if validated else [], apply, what=what)
