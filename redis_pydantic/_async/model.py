"""``BaseRedisModel``: a pydantic model stored as one RedisJSON document."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Any

from pydantic import BaseModel, ConfigDict
from typing_extensions import Self

from redis_pydantic import _base, _ops, _paths, _schema
from redis_pydantic._async import connection, search
from redis_pydantic._async.executor import PipelineScope, in_pipeline, read, run, send_during
from redis_pydantic._async.fields import FieldDescriptor
from redis_pydantic._async.lock import DEFAULT_BLOCKING_TIMEOUT, DEFAULT_TIMEOUT, model_lock
from redis_pydantic._async.search import Query
from redis_pydantic._query import Condition
from redis_pydantic.errors import KeyNotFoundError

_nested_classes: dict[type, type[BaseModel]] = {}

#: From this many copies on, duplicate_many builds them while Redis stores the documents: below
#: it, starting the overlap costs more than the validations it hides (about 2 µs each).
_OVERLAP_FROM = 16


def _nested_class(original: type[BaseModel]) -> type[BaseModel]:
    return _schema.make_nested_class(original, RedisModelMixin, _nested_classes, _prepare)


def _prepare(cls: type[BaseModel]) -> None:
    _schema.prepare_model_class(cls, _nested_class, FieldDescriptor)


class RedisModelMixin(_base.NestedCore):
    """Operations shared by stored models and by the models nested inside them."""

    __slots__ = ()

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)  # type: ignore[misc]
        if cls.__dict__.get("__rp_prepare__", True):
            _prepare(cls)  # type: ignore[arg-type]

    async def load(self) -> Self:
        """Read this model (or nested model) from Redis into this instance, in one round trip."""
        root, path = self._rp_location()
        json_path = _paths.json_path_for(path)
        raw = _ops.unwrap_json(await read(type(root), root.key, ("JSON.GET", root.key, json_path)), root.key)
        if raw is None:
            raise KeyNotFoundError(root.key, f"the document at {root.key!r} has no {json_path}")
        _ops.validate_into(self, raw)
        root._rp_mark_stored()
        return self

    async def aupdate(self, **fields: Any) -> None:
        """Set several fields in one atomic round trip (JSON.MSET), then locally."""
        await run(_ops.set_fields(self, fields))

    async def set(self, value: Any) -> None:
        """Replace this nested model, in Redis (one JSON.SET at its path) and then in place.

        ``value`` is a model of the same class or a dict, validated strictly. A stored top-level
        model is written with :meth:`save` instead.
        """
        root, path = self._rp_location()
        if not path:
            raise TypeError(f"set() replaces a nested model; write a {type(self).__name__} with save()")
        await run(_ops.replace_model(self, root, path, value))

    async def duplicate(self) -> Self:
        """Only top-level models can be duplicated: a nested model raises RuntimeError."""
        raise RuntimeError("Can only duplicate from top level model")

    async def duplicate_many(self, n: int) -> list[Self]:
        """Only top-level models can be duplicated: a nested model raises RuntimeError."""
        raise RuntimeError("Can only duplicate from top level model")


class BaseRedisModel(RedisModelMixin, _base.StoredModelCore, BaseModel):
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
    class name), ``index_name`` (the name queries use for the search index, default
    ``"<key_prefix>:idx"``). A subclass inherits the options its own ``Meta`` does not set, except
    ``key_prefix`` and ``index_name``.
    """

    __slots__ = ("_rp_root", "_rp_path", "_rp_json", "_rp_pk", "_rp_state", "_rp_key")
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
        _base.set_up_class(cls)
        super().__pydantic_init_subclass__(**kwargs)

    @classmethod
    def _rp_client(cls) -> Any:
        return connection.client_for(cls)

    async def save(self) -> Self:
        """Write the whole document in one JSON.SET. Unloaded required fields raise ValidationError."""
        if getattr(self, "_rp_root", None) is not None:
            root, path = self._rp_location()
            payload = self.__pydantic_serializer__.to_json(self)
            await run(
                _ops.Op(root, [("JSON.SET", root.key, _paths.json_path_for(path), payload)], lambda r: None)
            )
            return self
        self._rp_check_complete()
        payload = _ops.document_json(self)

        def apply(replies: list[Any]) -> None:
            self._rp_mark_stored()

        await run(_ops.Op(self, [("JSON.SET", self.key, "$", payload)], apply, what="save", creates=True))
        return self

    @classmethod
    async def get(cls, key: str) -> Self:
        """Read the model stored at ``key`` in one round trip. KeyNotFoundError when it is missing."""
        pk = cls._rp_pk_of(key)
        reply = await read(cls, key, ("JSON.GET", key, "$"))
        raw = _ops.unwrap_json(reply, key)
        if raw is None:
            raise KeyNotFoundError(key)
        model = cls.model_validate_json(raw)
        object.__setattr__(model, "_rp_pk", pk)
        object.__setattr__(model, "_rp_state", _base.STORED)
        return model

    async def delete(self, key: str | None = None) -> bool:
        """Delete this model's document (or the document at ``key``, of this class). True if it existed."""
        if key is None:
            key = self.key
        else:
            type(self)._rp_pk_of(key)
        return await type(self)._rp_delete(key, self)

    @classmethod
    async def try_delete(cls, key: str) -> bool:
        """Delete the document at ``key``; True if it existed, False otherwise."""
        cls._rp_pk_of(key)
        return await cls._rp_delete(key, None)

    @classmethod
    async def _rp_delete(cls, key: str, model: Any) -> bool:
        op = _ops.Op(model, [("DEL", key)], lambda replies: bool(replies[0]), what="delete", cls=cls)
        if model is not None:
            object.__setattr__(model, "_rp_state", _base.STORED)
        result = await run(op)
        return bool(result)

    # -- queries -----------------------------------------------------------------------------------
    @classmethod
    def find(cls, *conditions: Condition | bool) -> Query[Self]:
        """The stored models that match every condition (all of them when none is given).

        Conditions are built from the model's indexed fields: ``F(User).age >= 18``. Nothing is
        sent until the query is read: ``await User.find(...).all()``, ``.first()``, ``.count()``
        or ``async for``. Needs the index (:meth:`create_index`) and a server with the search
        commands (Redis 8, or Redis Stack).
        """
        return Query(cls, conditions)

    @classmethod
    async def create_index(cls, *, wait: bool = True, timeout: float | None = 60.0) -> bool:
        """Create the search index that the model's ``Indexed()`` fields declare; True if created.

        Idempotent: when the index exists with this schema, nothing changes. When it exists with
        another schema (and this schema's index is not kept beside it), it raises
        :class:`IndexSchemaMismatchError`, which lists the differences (see :meth:`migrate_index`).
        With ``wait``, it returns once the documents already stored are indexed
        (:class:`IndexBuildTimeoutError` after ``timeout`` seconds); without, queries may find
        part of them until the server has indexed them all.
        """
        return await search.create_index(cls, wait=wait, timeout=timeout)

    @classmethod
    async def drop_index(cls, *, delete_documents: bool = False) -> bool:
        """Drop the model's search index; True if there was one. Documents stay unless
        ``delete_documents=True``, which deletes every document the index holds."""
        return await search.drop_index(cls, delete_documents=delete_documents)

    @classmethod
    async def migrate_index(cls, *, drop_old: bool = True, timeout: float | None = 600.0) -> bool:
        """Switch the model's index to the schema it declares now, without downtime.

        Builds a new index beside the current one and waits until it holds every document;
        then the model's queries can use it, and the index name (an alias) points at it, in one
        step. The old index is dropped unless ``drop_old=False``: instances running the
        previous model query the old index until it is dropped. False when the index already
        has the declared schema.
        """
        return await search.migrate_index(cls, drop_old=drop_old, timeout=timeout)

    # -- coordination ----------------------------------------------------------------------------
    def lock(
        self,
        action: str = "default",
        *,
        timeout: float | None = DEFAULT_TIMEOUT,
        blocking_timeout: float | None = DEFAULT_BLOCKING_TIMEOUT,
        extend: bool = True,
    ) -> AbstractAsyncContextManager[Self]:
        """Hold the Redis lock ``"<key>/<action>"`` while the block runs.

        On entry the model is reloaded from Redis. On normal exit the fields that changed are
        written (one JSON.MSET) and the lock released, in one atomic script that does nothing if
        the lock is no longer ours (then :class:`LockLostError` is raised). If the block raises,
        nothing is written. The lease (``timeout`` seconds) is renewed while the block runs
        unless ``extend=False``; waiting longer than ``blocking_timeout`` raises
        :class:`LockTimeoutError`.
        """
        return model_lock(self, action, timeout, blocking_timeout, extend)

    async def duplicate(self) -> Self:
        """Store a copy of this model under a new pk (one round trip) and return it."""
        return (await self.duplicate_many(1))[0]

    async def duplicate_many(self, n: int) -> list[Self]:
        """Store ``n`` copies of this model under new pks in one round trip (JSON.MSET)."""
        queued = in_pipeline()
        # Queued copies are marked stored when the pipeline has sent them.
        plan = _base.plan_duplicates(self, n, _base.NEW if queued else _base.STORED)
        if plan is None:
            return []
        command, build = plan
        cls = type(self)
        if queued:
            copies: list[Self] = build()

            def apply(replies: list[Any]) -> None:
                for copy in copies:
                    copy._rp_mark_stored()

            await run(_ops.Op(None, [command], apply, what="duplicate", cls=cls))
            return copies
        # Many copies are built while Redis stores the documents.
        built: list[Self]
        _, built = await send_during(cls, command, build, overlap=n >= _OVERLAP_FROM)
        return built

    def pipeline(self, *, refresh: bool = True) -> AbstractAsyncContextManager[Self]:
        """Queue every write made inside the block and send them as one atomic step at the end.

        On entry the model is reloaded from Redis (one round trip), unless ``refresh=False`` or
        it was never saved. A pipeline opened inside another joins it. If the block raises,
        nothing is sent.
        """
        return PipelineScope(self, refresh)
