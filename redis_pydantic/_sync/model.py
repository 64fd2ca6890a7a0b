# This file is generated from redis_pydantic/_async/model.py by setup_unasync.py. Do not edit it by hand.
"""``BaseRedisModel``: a pydantic model stored as one RedisJSON document."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError
from typing_extensions import Self

from redis_pydantic import _ops, _paths, _schema
from redis_pydantic._sync import connection
from redis_pydantic._sync.executor import Batch, current_batch, read, run
from redis_pydantic._sync.fields import unloaded_value, wrap_value
from redis_pydantic._sync.lock import DEFAULT_BLOCKING_TIMEOUT, DEFAULT_TIMEOUT, model_lock
from redis_pydantic.errors import KeyNotFoundError, WrongModelKeyError

_NEW = 0  # never saved or loaded by this instance: the first field op creates the document
_STORED = 1  # saved or loaded: field ops require the document to exist

_nested_classes: dict[type, type[BaseModel]] = {}


def _nested_class(original: type[BaseModel]) -> type[BaseModel]:
    return _schema.make_nested_class(original, RedisModelMixin, _nested_classes, _prepare)


def _prepare(cls: type[BaseModel]) -> None:
    _schema.prepare_model_class(cls, _nested_class, wrap_value, unloaded_value)


def _init_state(model: Any) -> None:
    object.__setattr__(model, "_rp_pk", None)
    object.__setattr__(model, "_rp_root", None)
    object.__setattr__(model, "_rp_path", ())
    object.__setattr__(model, "_rp_state", _NEW)
    object.__setattr__(model, "_rp_key", None)


def _with_state_init(post_init: Any) -> Any:
    """Wrap a subclass's own model_post_init so the library's set-up always runs first."""

    def model_post_init(self: Any, context: Any, /) -> None:
        _init_state(self)
        post_init(self, context)

    model_post_init.__doc__ = post_init.__doc__
    model_post_init.__rp_wrapped__ = True  # type: ignore[attr-defined]
    return model_post_init


class RedisModelMixin:
    """Operations shared by stored models and by the models nested inside them."""

    __slots__ = ()
    _rp_root: Any
    _rp_path: tuple[str, ...]

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)  # type: ignore[misc]
        if cls.__dict__.get("__rp_prepare__", True):
            _prepare(cls)  # type: ignore[arg-type]

    def _rp_bind(self, parent: Any, name: str) -> None:
        """Attach this nested model to the document of ``parent`` under the field ``name``."""
        root, path = _ops.locate(parent)
        object.__setattr__(self, "_rp_root", root)
        object.__setattr__(self, "_rp_path", (*path, name))

    def _rp_location(self) -> tuple[Any, tuple[str, ...]]:
        root, path = _ops.locate(self)
        if root is self and not isinstance(self, BaseRedisModel):
            raise RuntimeError(
                f"this {type(self).__name__} is not attached to a stored model; reach it through "
                "the model's attribute (user.profile), not from a list, dict or copy"
            )
        return root, path

    def load(self) -> Self:
        """Read this model (or nested model) from Redis into this instance, in one round trip."""
        root, path = self._rp_location()
        json_path = _paths.json_path_for(path)
        raw = _ops.unwrap_json(read(type(root), root.key, ("JSON.GET", root.key, json_path)), root.key)
        if raw is None:
            raise KeyNotFoundError(root.key, f"the document at {root.key!r} has no {json_path}")
        _ops.validate_into(self, raw)
        root._rp_mark_stored()
        return self

    def aupdate(self, **fields: Any) -> None:
        """Set several fields in one atomic round trip (JSON.MSET), then locally."""
        run(_ops.set_fields(self, fields))

    def set(self, value: Any) -> None:
        """Replace this nested model, in Redis (one JSON.SET at its path) and then in place.

        ``value`` is a model of the same class or a dict, validated strictly. A stored top-level
        model is written with :meth:`save` instead.
        """
        root, path = self._rp_location()
        if not path:
            raise TypeError(f"set() replaces a nested model; write a {type(self).__name__} with save()")
        run(_ops.replace_model(self, root, path, value))

    def duplicate(self) -> Self:
        """Only top-level models can be duplicated: a nested model raises RuntimeError."""
        raise RuntimeError("Can only duplicate from top level model")

    def duplicate_many(self, n: int) -> list[Self]:
        """Only top-level models can be duplicated: a nested model raises RuntimeError."""
        raise RuntimeError("Can only duplicate from top level model")


class BaseRedisModel(RedisModelMixin, BaseModel):
    """A pydantic model stored in Redis as a JSON document at ``"<prefix>:<pk>"``.

    Example::

        class User(BaseRedisModel):
            name: str
            tags: list[str] = []

        user = User(name="Ada")
        await user.save()
        await user.tags.aappend("admin")      # JSON.ARRAPPEND, then the local list
        same = await User.get(user.key)

    Options go in an inner ``Meta`` class: ``redis`` (the client), ``key_prefix`` (default: the
    class name). A subclass inherits the options its own ``Meta`` does not set, except
    ``key_prefix``.
    """

    __slots__ = ("_rp_root", "_rp_path", "_rp_pk", "_rp_state", "_rp_key")
    # Documents store field names (never aliases), so validation accepts names as well as aliases.
    model_config = ConfigDict(
        ser_json_bytes="base64",
        val_json_bytes="base64",
        revalidate_instances="always",
        validate_by_name=True,
        validate_by_alias=True,
    )

    class Meta:
        """Options of the model class: ``redis`` (its client) and ``key_prefix`` (its key prefix)."""

        redis: Any = None
        key_prefix: str | None = None

    # -- class set-up --------------------------------------------------------------------------
    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        own = cls.__dict__.get("Meta")
        parent = next(base for base in cls.__mro__[1:] if "Meta" in base.__dict__)
        inherited = {k: v for k, v in vars(parent.__dict__["Meta"]).items() if not k.startswith("__")}
        inherited.pop("key_prefix", None)
        if own is not None:
            inherited.update({k: v for k, v in vars(own).items() if not k.startswith("__")})
        inherited.setdefault("key_prefix", None)
        if not inherited["key_prefix"]:
            inherited["key_prefix"] = cls.__name__
        # Each class gets its own Meta, so changing one class's options never changes another's.
        cls.Meta = type("Meta", (), inherited)  # type: ignore[assignment, misc]
        own_post_init = cls.__dict__.get("model_post_init")
        if own_post_init is not None and not getattr(own_post_init, "__rp_wrapped__", False):
            type.__setattr__(cls, "model_post_init", _with_state_init(own_post_init))
        super().__pydantic_init_subclass__(**kwargs)

    @classmethod
    def _rp_client(cls) -> Any:
        return connection.client_for(cls)

    # -- construction --------------------------------------------------------------------------
    def __init__(self, /, **data: Any) -> None:
        pk = data.pop("pk", None)
        try:
            super().__init__(**data)
        except ValidationError as exc:
            if not all(e["type"] == "missing" and len(e["loc"]) == 1 for e in exc.errors()):
                raise
            # A partial instance: required fields that were not given stay unloaded.
            self._rp_init_partial(data)
        if pk is not None:
            self.pk = pk

    # Tells pydantic that this __init__ only adds to BaseModel's: validation (model_validate,
    # get, load) then builds instances directly instead of calling __init__ with a dict.
    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]

    def _rp_init_partial(self, data: dict[str, Any]) -> None:
        specs = _schema.field_specs(type(self))
        fields = type(self).__pydantic_fields__
        by_alias = {info.alias: name for name, info in fields.items() if info.alias}
        values: dict[str, Any] = {}
        for given, value in data.items():
            name = by_alias.get(given, given)
            if name in specs:
                values[name] = specs[name].load_python(value)
        partial = type(self).model_construct(_fields_set=set(values), **values)
        for name, info in fields.items():
            # model_construct leaves defaults unvalidated; nested models must become Redis-enabled.
            if name not in values and info.validate_default and name in partial.__dict__:
                partial.__dict__[name] = specs[name].load_python(partial.__dict__[name])
        object.__setattr__(self, "__dict__", partial.__dict__)
        object.__setattr__(self, "__pydantic_fields_set__", partial.__pydantic_fields_set__)
        object.__setattr__(self, "__pydantic_extra__", partial.__pydantic_extra__)
        object.__setattr__(self, "__pydantic_private__", partial.__pydantic_private__)
        _init_state(self)

    def model_post_init(self, context: Any, /) -> None:
        """Set up the library's per-instance state; pydantic calls it for every new instance.

        A subclass may override it; the library's set-up still runs first.
        """
        # Validated or constructed, every instance passes here, so the hot paths read plain
        # attributes instead of probing with getattr.
        _init_state(self)

    def __getstate__(self) -> dict[Any, Any]:
        state = super().__getstate__()
        state["_rp_pk"] = getattr(self, "_rp_pk", None)
        return state

    def __setstate__(self, state: dict[Any, Any]) -> None:
        pk = state.pop("_rp_pk", None)
        super().__setstate__(state)
        _init_state(self)
        object.__setattr__(self, "_rp_pk", pk)

    def __copy__(self) -> Self:
        copy = super().__copy__()
        _init_state(copy)
        for name in ("_rp_pk", "_rp_state", "_rp_key"):
            object.__setattr__(copy, name, getattr(self, name, None))
        return copy

    def __deepcopy__(self, memo: dict[int, Any] | None = None) -> Self:
        copy = super().__deepcopy__(memo)
        _init_state(copy)
        for name in ("_rp_pk", "_rp_state", "_rp_key"):
            object.__setattr__(copy, name, getattr(self, name, None))
        return copy

    # -- identity ------------------------------------------------------------------------------
    @property
    def pk(self) -> str:
        """This model's primary key: a new random hex id unless set."""
        pk = getattr(self, "_rp_pk", None)
        if pk is None:
            pk = _paths.new_pk()
            object.__setattr__(self, "_rp_pk", pk)
        return pk  # type: ignore[no-any-return]

    @pk.setter
    def pk(self, value: str) -> None:
        if not isinstance(value, str) or not value:
            raise TypeError(f"pk must be a non-empty str, not {value!r}")
        object.__setattr__(self, "_rp_pk", value)
        object.__setattr__(self, "_rp_key", None)

    @property
    def key(self) -> str:
        """The Redis key of this model: ``"<key_prefix>:<pk>"``."""
        key = getattr(self, "_rp_key", None)
        if key is None:
            key = f"{type(self).Meta.key_prefix}:{self.pk}"  # type: ignore[attr-defined]
            object.__setattr__(self, "_rp_key", key)
        return key

    @classmethod
    def _rp_pk_of(cls, key: str) -> str:
        prefix = f"{cls.Meta.key_prefix}:"
        if not isinstance(key, str) or not key.startswith(prefix) or len(key) == len(prefix):
            raise WrongModelKeyError(f"{key!r} is not a key of {cls.__name__} (expected '{prefix}<pk>')")
        return key[len(prefix) :]

    # -- state ---------------------------------------------------------------------------------
    def _rp_mark_stored(self) -> None:
        object.__setattr__(self, "_rp_state", _STORED)

    def _rp_missing_required(self) -> list[str]:
        d = self.__dict__
        return [
            name
            for name, info in type(self).__pydantic_fields__.items()
            if name not in d and info.is_required()
        ]

    def _rp_check_complete(self) -> None:
        missing = self._rp_missing_required()
        if missing:
            raise ValidationError.from_exception_data(
                type(self).__name__,
                [{"type": "missing", "loc": (name,), "input": self.__dict__} for name in missing],
            )

    def _rp_create_command(self) -> tuple[Any, ...] | None:
        """For a never-saved instance: the JSON.SET ... NX that creates its document first."""
        if getattr(self, "_rp_state", _NEW) != _NEW or getattr(self, "_rp_root", None) is not None:
            return None
        if self._rp_missing_required():
            return None
        return ("JSON.SET", self.key, "$", _ops.document_json(self), "NX")

    # -- documents -----------------------------------------------------------------------------
    def redis_dump(self) -> dict[str, Any]:
        """The JSON-compatible dict that :meth:`save` stores (bytes as base64 text)."""
        return self.model_dump(mode="json")

    def save(self) -> Self:
        """Write the whole document in one JSON.SET. Unloaded required fields raise ValidationError."""
        if getattr(self, "_rp_root", None) is not None:
            root, path = self._rp_location()
            payload = self.__pydantic_serializer__.to_json(self)
            run(_ops.Op(root, [("JSON.SET", root.key, _paths.json_path_for(path), payload)], lambda r: None))
            return self
        self._rp_check_complete()
        payload = _ops.document_json(self)

        def apply(replies: list[Any]) -> None:
            self._rp_mark_stored()

        run(_ops.Op(self, [("JSON.SET", self.key, "$", payload)], apply, what="save", creates=True))
        return self

    @classmethod
    def get(cls, key: str) -> Self:
        """Read the model stored at ``key`` in one round trip. KeyNotFoundError when it is missing."""
        pk = cls._rp_pk_of(key)
        reply = read(cls, key, ("JSON.GET", key, "$"))
        raw = _ops.unwrap_json(reply, key)
        if raw is None:
            raise KeyNotFoundError(key)
        model = cls.model_validate_json(raw)
        object.__setattr__(model, "_rp_pk", pk)
        object.__setattr__(model, "_rp_state", _STORED)
        return model

    def delete(self, key: str | None = None) -> bool:
        """Delete this model's document (or the document at ``key``, of this class). True if it existed."""
        if key is None:
            key = self.key
        else:
            type(self)._rp_pk_of(key)
        return type(self)._rp_delete(key, self)

    @classmethod
    def try_delete(cls, key: str) -> bool:
        """Delete the document at ``key``; True if it existed, False otherwise."""
        cls._rp_pk_of(key)
        return cls._rp_delete(key, None)

    @classmethod
    def _rp_delete(cls, key: str, model: Any) -> bool:
        op = _ops.Op(model, [("DEL", key)], lambda replies: bool(replies[0]), what="delete", cls=cls)
        if model is not None:
            object.__setattr__(model, "_rp_state", _STORED)
        result = run(op)
        return bool(result)

    # -- coordination ----------------------------------------------------------------------------
    def lock(
        self,
        action: str = "default",
        *,
        timeout: float | None = DEFAULT_TIMEOUT,
        blocking_timeout: float | None = DEFAULT_BLOCKING_TIMEOUT,
        extend: bool = True,
    ) -> AbstractContextManager[Self]:
        """Hold the Redis lock ``"<key>/<action>"`` while the block runs.

        On entry the model is reloaded from Redis. On normal exit the fields that changed are
        written (one JSON.MSET) and the lock released, in one atomic script that does nothing if
        the lock is no longer ours (then :class:`LockLostError` is raised). If the block raises,
        nothing is written. The lease (``timeout`` seconds) is renewed while the block runs
        unless ``extend=False``; waiting longer than ``blocking_timeout`` raises
        :class:`LockTimeoutError`.
        """
        return model_lock(self, action, timeout, blocking_timeout, extend)

    def duplicate(self) -> Self:
        """Store a copy of this model under a new pk (one round trip) and return it."""
        return (self.duplicate_many(1))[0]

    def duplicate_many(self, n: int) -> list[Self]:
        """Store ``n`` copies of this model under new pks in one round trip (JSON.MSET)."""
        if getattr(self, "_rp_root", None) is not None:
            raise RuntimeError("Can only duplicate from top level model")
        if not isinstance(n, int) or isinstance(n, bool) or n < 0:
            raise ValueError(f"n must be a non-negative int, not {n!r}")
        self._rp_check_complete()
        payload = _ops.document_json(self)
        cls = type(self)
        validate = cls.__pydantic_validator__.validate_json
        prefix = cls.Meta.key_prefix
        copies: list[Self] = []
        args: list[Any] = ["JSON.MSET"]
        for pk in _paths.new_pks(n):
            copy = validate(payload)
            key = f"{prefix}:{pk}"
            object.__setattr__(copy, "_rp_pk", pk)
            object.__setattr__(copy, "_rp_key", key)
            copies.append(copy)
            args += (key, "$", payload)

        def apply(replies: list[Any]) -> None:
            for copy in copies:
                copy._rp_mark_stored()

        run(_ops.Op(None, [tuple(args)] if copies else [], apply, what="duplicate", cls=cls))
        return copies

    @contextmanager
    def pipeline(self, *, refresh: bool = True) -> Iterator[Self]:
        """Queue every write made inside the block and send them as one MULTI/EXEC at the end.

        On entry the model is reloaded from Redis (one round trip), unless ``refresh=False`` or
        it was never saved. A pipeline opened inside another joins it. If the block raises,
        nothing is sent.
        """
        outer = current_batch.get()
        if outer is not None and not outer.closed:
            yield self
            return
        root, _ = _ops.locate(self)
        if refresh and getattr(root, "_rp_state", _NEW) == _STORED:
            self.load()
        batch = Batch(type(root)._rp_client())
        token = current_batch.set(batch)
        try:
            yield self
        finally:
            current_batch.reset(token)
            # Tasks started inside the block inherit it; their later writes must not be lost.
            batch.closed = True
        batch.execute()
