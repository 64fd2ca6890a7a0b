# This file is generated from redis_pydantic/_async/search.py by setup_unasync.py. Do not edit it by hand.
"""Queries and search indexes: sending FT.* commands for ``find()`` and the index methods.

What the commands say and how their replies are read is in ``_query`` and ``_index``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any, Generic, TypeVar

from redis_pydantic import _index, _query
from redis_pydantic._compat import sync_sleep
from redis_pydantic._index import IndexSchema
from redis_pydantic._sync.connection import client_for
from redis_pydantic.errors import (
    TRANSPORT_ERRORS,
    IndexBuildTimeoutError,
    IndexNotFoundError,
    IndexSchemaMismatchError,
)

M = TypeVar("M")

#: How often the index build is polled while waiting for it (seconds).
_POLL = 0.05


def send(schema: IndexSchema, command: tuple[Any, ...]) -> Any:
    """Send one FT.* command for ``schema``'s model and return its reply."""
    client = client_for(schema.model)
    _index.refuse_cluster(client)
    try:
        return client.execute_command(*command)
    except TRANSPORT_ERRORS as exc:
        raise _index.translate_search_error(exc, client, schema) from exc


def _send_tolerant(schema: IndexSchema, command: tuple[Any, ...]) -> Any:
    """Like :func:`send`, but ``None`` when the index or alias is missing or already there."""
    client = client_for(schema.model)
    _index.refuse_cluster(client)
    try:
        return client.execute_command(*command)
    except TRANSPORT_ERRORS as exc:
        if _index.is_missing_index(exc) or _index.is_already_there(exc):
            return None
        raise _index.translate_search_error(exc, client, schema) from exc


def _info(schema: IndexSchema, name: str) -> dict[str, Any] | None:
    """FT.INFO of the index (or alias) ``name``, or ``None`` when there is none."""
    reply = _send_tolerant(schema, ("FT.INFO", name))
    return None if reply is None else _index.info_map(reply)


def _wait_indexed(schema: IndexSchema, name: str, timeout: float | None) -> None:
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        info = _info(schema, name)
        if info is None or _index.indexing_done(info):
            return
        if deadline is not None and time.monotonic() >= deadline:
            percent = float(info.get("percent_indexed", 0)) * 100
            raise IndexBuildTimeoutError(
                f"the search index {name!r} of {schema.model.__name__} was still indexing existing "
                f"documents after {timeout:g} s ({percent:.0f}% done); it goes on in the background"
            )
        sync_sleep(_POLL)


def _mismatch(schema: IndexSchema, info: dict[str, Any]) -> IndexSchemaMismatchError:
    differences = _index.schema_differences(schema, info)
    listed = "".join(f"\n  - {d}" for d in differences)
    model = schema.model.__name__
    return IndexSchemaMismatchError(
        f"the search index {schema.name!r} of {model} exists with another schema than {model} "
        f"declares:{listed}\nBuild the declared index and switch queries to it without downtime "
        f"with 'await {model}.migrate_index()' ('{model}.migrate_index()' in the blocking face).",
        differences,
    )


def create_index(model: type[Any], *, wait: bool = True, timeout: float | None = 60.0) -> bool:
    """Create the model's index unless it exists; see ``BaseRedisModel.create_index``."""
    schema = _index.index_schema(model)
    info = _info(schema, schema.name)
    created = False
    if info is None:
        created = _send_tolerant(schema, schema.create_args) is not None
        _send_tolerant(schema, ("FT.ALIASADD", schema.name, schema.physical))
        info = _info(schema, schema.name)
        if info is None:  # dropped meanwhile by another client
            raise IndexNotFoundError(schema.name, model.__name__)
    if info.get("index_name") != schema.physical:
        # The name points at another schema's index. This model's own index may still be there
        # (kept by migrate_index(drop_old=False) for the instances of a previous version).
        own = _info(schema, schema.query_name)
        if own is not None and own.get("index_name") == schema.physical:
            return False
        raise _mismatch(schema, info)
    if wait:
        _wait_indexed(schema, schema.physical, timeout)
    # Queries use this alias: with wait, it appears once every stored document is indexed.
    _send_tolerant(schema, ("FT.ALIASADD", schema.query_name, schema.physical))
    return created


def drop_index(model: type[Any], *, delete_documents: bool = False) -> bool:
    """Drop the model's index; see ``BaseRedisModel.drop_index``."""
    schema = _index.index_schema(model)
    info = _info(schema, schema.name) or _info(schema, schema.query_name)
    if info is None:
        return False
    physical = info["index_name"]
    if physical != schema.name:
        _send_tolerant(schema, ("FT.ALIASDEL", schema.name))
    # Dropping an index removes its aliases, the query alias among them.
    _send_tolerant(schema, ("FT.DROPINDEX", physical, *(("DD",) if delete_documents else ())))
    return True


def migrate_index(model: type[Any], *, drop_old: bool = True, timeout: float | None = 600.0) -> bool:
    """Build the declared index, then switch to it; see ``BaseRedisModel.migrate_index``."""
    schema = _index.index_schema(model)
    info = _info(schema, schema.name)
    old = None if info is None else info["index_name"]
    if old == schema.physical:
        _send_tolerant(schema, ("FT.ALIASADD", schema.query_name, schema.physical))
        return False
    _send_tolerant(schema, schema.create_args)
    # Until the new index holds every document, nothing queries it: the old schema's queries
    # keep their index, the new schema's queries find no index (IndexNotFoundError) rather than
    # part of the results.
    _wait_indexed(schema, schema.physical, timeout)
    _send_tolerant(schema, ("FT.ALIASADD", schema.query_name, schema.physical))
    if old == schema.name:
        # An index (not an alias) bears the name, made by hand or by another library: RediSearch
        # refuses an alias of the same name, so it is dropped first.
        _send_tolerant(schema, ("FT.DROPINDEX", old))
        old = None
    send(schema, ("FT.ALIASUPDATE", schema.name, schema.physical))
    if old is not None and drop_old:
        _send_tolerant(schema, ("FT.DROPINDEX", old))
    return True


class Query(Generic[M]):
    """The models that match a query, read with :meth:`all`, :meth:`first`, :meth:`count`, or
    ``async for``. Made by ``Model.find(...)``; each method below returns a new query.

    Example::

        u = F(User)
        adults = await User.find(u.age >= 18).sort_by(u.age, descending=True).limit(10).all()
        async for user in User.find(contains(u.tags, "admin")):
            ...
    """

    __slots__ = ("_spec",)

    def __init__(self, model: type[M], conditions: tuple[Any, ...] = (), *, spec: Any = None) -> None:
        self._spec: _query.QuerySpec = spec if spec is not None else _query.QuerySpec(model, conditions)  # type: ignore[arg-type]

    def _with(self, spec: _query.QuerySpec) -> Query[M]:
        return Query(spec.model, spec=spec)  # type: ignore[arg-type]

    def __repr__(self) -> str:
        spec = self._spec
        return f"<Query {spec.model.__name__}: {spec.command(spec.start, spec.limit or _query.PAGE_SIZE)!r}>"

    # -- shaping -------------------------------------------------------------------------------
    def sort_by(self, field: Any, *, descending: bool = False) -> Query[M]:
        """Order the results by ``field`` (``F(Model).field`` or its dotted name), which must be
        ``Indexed(sortable=True)``. Strings sort as Python sorts them."""
        return self._with(self._spec.sorted_by(field, descending))

    def offset(self, n: int) -> Query[M]:
        """Skip the first ``n`` results."""
        return self._with(self._spec.paged(start=n))

    def limit(self, n: int) -> Query[M]:
        """Return at most ``n`` results."""
        return self._with(self._spec.paged(limit=n))

    def only(self, *fields: Any) -> Query[M]:
        """Read only these top-level fields: the results are partial instances, whose other fields
        are unloaded (reading one raises ``FieldNotLoadedError``; ``load()`` reads it)."""
        return self._with(self._spec.projected(fields))

    # -- reading -------------------------------------------------------------------------------
    def all(self) -> list[M]:
        """Every matching model (within ``offset``/``limit``), read from the search replies.

        Without a limit, results are read in pages of 1000: documents written between two
        pages may be missed or returned twice.
        """
        spec = self._spec
        out: list[M] = []
        offset, remaining = spec.start, spec.limit
        num = _query.PAGE_SIZE if remaining is None else min(remaining, _query.MAX_LIMIT)
        if num == 0:  # limit(0): still asked of the server, so a missing index or module shows
            self.count()
        while num > 0:
            total, page = spec.parse(send(spec.schema, spec.command(offset, num)))
            out += page
            offset += len(page)
            if remaining is not None:
                remaining -= len(page)
            if len(page) < num or offset >= total:
                break
            left = total - offset if remaining is None else min(total - offset, remaining)
            num = min(left, _query.MAX_LIMIT)
        return out

    def first(self) -> M | None:
        """The first matching model, or ``None`` when nothing matches."""
        spec = self._spec
        if spec.limit == 0:
            self.count()
            return None
        _, page = spec.parse(send(spec.schema, spec.command(spec.start, 1)))
        return page[0] if page else None

    def count(self) -> int:
        """How many models match the conditions (``offset`` and ``limit`` do not change it)."""
        spec = self._spec
        return _query.count_of(send(spec.schema, spec.count_command()))

    def __iter__(self) -> Iterator[M]:
        return self.iterate()

    def iterate(self, page_size: int = _query.PAGE_SIZE) -> Iterator[M]:
        """Yield the matching models, reading ``page_size`` of them per round trip."""
        if not isinstance(page_size, int) or isinstance(page_size, bool) or page_size < 1:
            raise ValueError(f"page_size must be a positive int, not {page_size!r}")
        spec = self._spec
        offset, remaining = spec.start, spec.limit
        while True:
            num = page_size if remaining is None else min(page_size, remaining)
            if num <= 0:
                if offset == spec.start:  # limit(0): still asked of the server
                    self.count()
                return
            total, page = spec.parse(send(spec.schema, spec.command(offset, min(num, _query.MAX_LIMIT))))
            for model in page:  # noqa: UP028 - the sync twin of an async generator
                yield model
            offset += len(page)
            if remaining is not None:
                remaining -= len(page)
            if len(page) < num or offset >= total:
                return
