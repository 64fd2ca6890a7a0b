"""``BaseRedisModel``: a pydantic model stored as one RedisJSON document."""

from __future__ import annotations

import datetime
from collections.abc import AsyncIterator, Iterable
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict
from typing_extensions import Self

from redis_pydantic import _base, _bulk, _cluster, _ops, _schema
from redis_pydantic._base import AsyncModelMeta
from redis_pydantic._ops import Access, Op
from redis_pydantic._query import Condition
from redis_pydantic.errors import InvalidArgumentError, NotAttachedError

from . import bulk, connection, search
from .executor import PipelineScope, run
from .fields import FieldDescriptor
from .lock import DEFAULT_BLOCKING_TIMEOUT, DEFAULT_TIMEOUT, model_lock
from .search import Query

_nested_classes: dict[type, type[BaseModel]] = {}


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
        await run(_base.load_model(self))
        return self

    async def aupdate(self, **fields: Any) -> None:
        """Set several fields in one atomic round trip (JSON.MSET), then locally."""
        await run(_ops.set_fields(self, fields))

    async def set(self, value: Any) -> None:
        """Replace this nested model, in Redis (one JSON.SET at its path) and then in place.

        ``value`` is a model of the same class or a dict, validated strictly. A stored top-level
        model is written with :meth:`save` instead.
        """
        if self._rp_location()[1] == ():
            raise InvalidArgumentError(
                f"set() replaces a nested model; write a {type(self).__name__} with save()"
            )
        await run(_ops.replace_model(self, value))

    async def duplicate(self, *, colocate: bool = False) -> Self:
        """Only top-level models can be duplicated: a nested model raises NotAttachedError."""
        raise NotAttachedError("Can only duplicate from top level model")

    async def duplicate_many(self, n: int, *, colocate: bool = False) -> list[Self]:
        """Only top-level models can be duplicated: a nested model raises NotAttachedError."""
        raise NotAttachedError("Can only duplicate from top level model")


async def _count(cls: Any, *, batch: int = _bulk.DEFAULT_BATCH) -> int:
    """Count the documents of this class: SCAN ``MATCH "<prefix>:*"`` ``TYPE ReJSON-RL``, each key
    counted once (``batch`` is SCAN's COUNT hint). Keys that come and go meanwhile may or may not
    be counted.

    A class may have a field named ``count``: ``await Model.count()`` still counts, and
    ``model.count`` is the field.
    """
    return await bulk.count(cls, batch)


class BaseRedisModel(RedisModelMixin, _base.StoredModelCore, _base.StateSlots, metaclass=AsyncModelMeta):
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
    ``"<key_prefix>:idx"``), ``ttl`` (the expiry of saved documents, in seconds or a
    ``timedelta``) and ``refresh_ttl`` (reads and writes extend it). A subclass inherits the
    options its own ``Meta`` does not set, except ``key_prefix`` and ``index_name``.
    """

    __slots__ = ()  # the library's per-instance state: _base.StateSlots
    # Documents store field names (never aliases), so validation accepts names as well as aliases.
    model_config = ConfigDict(
        ser_json_bytes="base64",
        val_json_bytes="base64",
        ser_json_inf_nan="constants",
        revalidate_instances="always",
        validate_by_name=True,
        validate_by_alias=True,
        # ``count`` below: a class operation, not a field.
        ignored_types=(_base.ClassOperation,),
    )

    if not TYPE_CHECKING:  # type checkers see ``Meta: ClassVar[Any]``, so a user's Meta fits

        class Meta:
            """Options of the model class: ``redis`` (its client), ``key_prefix`` (its key prefix),
            ``ttl`` (seconds or a ``timedelta`` before a saved document expires; ``None``: never),
            ``refresh_ttl`` (reads and writes extend a document's expiry to ``ttl``) and
            ``autopipeline`` (``False``: its operations never share a round trip with other
            tasks' operations, see docs/performance.md)."""

            redis: Any = None
            key_prefix: str | None = None
            ttl: Any = None
            refresh_ttl: bool = False
            autopipeline: bool = True

    count = _base.ClassOperation(_count)

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
        await run(_base.save_model(self))
        return self

    @classmethod
    async def get(cls, key: str) -> Self:
        """Read the model stored at ``key`` in one round trip. KeyNotFoundError when it is missing."""
        model: Self = await run(_base.get_model(cls, key, cls.Meta))
        return model

    # -- expiry --------------------------------------------------------------------------------
    async def expire(self, ttl: float | datetime.timedelta) -> None:
        """Make the document expire in ``ttl`` (seconds or a ``timedelta``), whatever its expiry
        was (PEXPIRE). KeyNotFoundError when there is no document."""
        await run(_base.expire_model(self, ttl))

    async def ttl(self) -> float | None:
        """The seconds left before the document expires (PTTL), or ``None`` when it does not
        expire. KeyNotFoundError when there is no document."""
        seconds: float | None = await run(_base.ttl_model(self))
        return seconds

    async def persist(self) -> None:
        """Remove the document's expiry (PERSIST): it stays until deleted, even with
        ``Meta.refresh_ttl``. KeyNotFoundError when there is no document."""
        await run(_base.persist_model(self))

    # -- many documents --------------------------------------------------------------------------
    @classmethod
    async def get_many(
        cls,
        keys_or_pks: Iterable[str],
        *,
        missing: Literal["raise", "none"] = "raise",
        batch: int = _bulk.DEFAULT_BATCH,
        max_command_bytes: int = _bulk.DEFAULT_MAX_COMMAND_BYTES,
        progress: _bulk.Progress | None = None,
    ) -> list[Self | None]:
        """Read the documents at ``keys_or_pks`` (full keys ``"<prefix>:<pk>"`` or pks), in the
        order given: one JSON.MGET per ``batch`` keys (a single round trip up to ``batch``).

        A missing document raises KeyNotFoundError, or gives ``None`` with ``missing="none"``.
        ``progress(n)`` is called after each batch with its number of keys.
        """
        return await bulk.get_many(cls, keys_or_pks, missing, batch, max_command_bytes, progress)

    @classmethod
    async def save_many(
        cls,
        models: Iterable[Self],
        *,
        batch: int = _bulk.DEFAULT_BATCH,
        max_command_bytes: int = _bulk.DEFAULT_MAX_COMMAND_BYTES,
        progress: _bulk.Progress | None = None,
    ) -> list[Self]:
        """Write whole documents: one JSON.MSET per ``batch`` models, each batch one atomic step
        with the documents' ``Meta.ttl``. Returns the models.

        Every model is checked first (complete, values valid): a bad one raises and nothing is
        written. ``progress(n)`` is called after each batch with its number of models.
        """
        return await bulk.save_many(cls, models, batch, max_command_bytes, progress)

    @classmethod
    async def delete_many(
        cls,
        keys_or_pks: Iterable[str],
        *,
        batch: int = _bulk.DEFAULT_BATCH,
        max_command_bytes: int = _bulk.DEFAULT_MAX_COMMAND_BYTES,
        progress: _bulk.Progress | None = None,
    ) -> int:
        """Delete the documents at ``keys_or_pks`` (one DEL per ``batch`` keys); returns how many
        existed."""
        return await bulk.delete_many(cls, keys_or_pks, batch, max_command_bytes, progress)

    @classmethod
    def scan(
        cls,
        batch: int = _bulk.DEFAULT_BATCH,
        *,
        unique: bool = True,
        progress: _bulk.Progress | None = None,
    ) -> AsyncIterator[Self]:
        """Iterate over the documents of this class: ``async for user in User.scan(batch=500)``.

        SCAN ``MATCH "<prefix>:*"`` ``TYPE ReJSON-RL`` ``COUNT <batch>``, then one JSON.MGET per
        ``batch`` keys. A document deleted (or expired) between the two is skipped; one present
        during the whole iteration is returned; ``unique`` (the default) returns each key once,
        remembering the keys seen so far. ``progress(n)`` is called after each JSON.MGET with its
        number of documents.
        """
        _bulk.check_batch(batch)
        _bulk.check_progress(progress)
        return bulk.scan(cls, batch, unique, progress)

    @classmethod
    def scan_keys(
        cls,
        batch: int = _bulk.DEFAULT_BATCH,
        *,
        unique: bool = True,
        progress: _bulk.Progress | None = None,
    ) -> AsyncIterator[str]:
        """Iterate over the keys of the documents of this class, as :meth:`scan` finds them,
        without reading the documents. ``progress(n)`` is called after each SCAN call that found
        keys."""
        _bulk.check_batch(batch)
        _bulk.check_progress(progress)
        return bulk.scan_keys(cls, batch, unique, progress)

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
        op = Op(
            model, [("DEL", key)], lambda replies: bool(replies[0]), access=Access.WRITE, what="delete"
        ).having(cls=cls)
        if model is not None:
            model._rp_mark_stored()  # later writes must not create the document again
        return bool(await run(op))

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
        """Hold the Redis lock ``"{<key>}/<action>"`` while the block runs.

        ``action`` is a non-empty str without ``/``; different actions on one model do not block
        each other.

        On entry the model is reloaded from Redis. On normal exit the fields that changed are
        written (one JSON.MSET) and the lock released, in one atomic script that does nothing if
        the lock is no longer ours (then :class:`LockLostError` is raised). If the block raises,
        nothing is written. The lease (``timeout`` seconds) is renewed while the block runs
        unless ``extend=False``; waiting longer than ``blocking_timeout`` raises
        :class:`LockTimeoutError`.
        """
        return model_lock(self, action, timeout, blocking_timeout, extend)

    async def duplicate(self, *, colocate: bool = False) -> Self:
        """Store a copy of this model under a new pk (one round trip) and return it.

        ``colocate=True`` puts the copy in this model's Redis Cluster hash slot (see
        :meth:`duplicate_many`).
        """
        return (await self.duplicate_many(1, colocate=colocate))[0]

    async def duplicate_many(self, n: int, *, colocate: bool = False) -> list[Self]:
        """Store ``n`` copies of this model under new pks in one round trip (JSON.MSET).

        On Redis Cluster the copies' random keys fall in many hash slots: they are written with
        one JSON.MSET per slot and one round trip per node, and when some slots fail,
        :class:`PartialWriteError` names the copies stored and the others. ``colocate=True``
        gives each copy a pk ``{<tag>}<hex>`` whose hash tag puts it in this model's slot, so
        one atomic JSON.MSET stores them all (on every deployment).
        """
        client = type(self)._rp_client()
        op, copies = _base.duplicates(self, n, per_slot=_cluster.is_cluster(client), colocate=colocate)
        await run(op)
        return copies

    def pipeline(self, *, refresh: bool = True, atomic: bool = False) -> AbstractAsyncContextManager[Self]:
        """Queue every write made inside the block and send them as one atomic step at the end.

        On entry the model is reloaded from Redis (one round trip), unless ``refresh=False``, it
        was never saved, or a ``lock()`` block on it is open (the block's local changes are
        kept). A pipeline opened inside another joins it. If the block raises, nothing is sent.

        On Redis Cluster a batch whose keys are in several hash slots is sent as one atomic step
        per slot (one round trip per node). ``atomic=True`` demands one atomic step: a write
        outside the hash slot of the first one raises :class:`CrossSlotError` where it is made,
        on every deployment.
        """
        return PipelineScope(self, refresh, atomic)
