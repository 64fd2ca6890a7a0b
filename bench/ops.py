"""The benchmarked operations: redis-pydantic's call and the raw redis-py equivalent of each.

Each :class:`Op` builds zero-argument *thunks* for document ``i``: calling one performs the
operation once (in the asyncio face it returns an awaitable). The raw side sends exactly the
Redis commands the library sends, on the same client, and does the encoding a hand-written
client must do: values are encoded with ``json.dumps``, and replies the library hands back to
the caller (documents, loaded fields, popped items, new numbers) are decoded with ``json.loads``.
"""

from __future__ import annotations

import itertools
import json
import uuid
from collections.abc import Callable
from typing import Any

from bench.models import document, ours_indexed_user_class
from redis_pydantic._scripts import DICT_OPS, LIST_INSERT, LIST_POP, ScriptCall, batch_call

Thunk = Callable[[], Any]

dumps = json.dumps
loads = json.loads

#: Budgets: how much slower than raw redis-py our side may be (ratio of medians).
SINGLE = 1.10
MULTI = 1.20


def raw_thunk(env: Any, args: tuple[Any, ...] | Callable[[], tuple[Any, ...]], post: Any = None) -> Thunk:
    """One ``execute_command``; ``args`` is a tuple or a function building it per call."""
    ex = env.ex
    if callable(args):
        make = args
        if post is None:
            return lambda: ex(*make())
        if env.is_async:

            async def amake_post() -> Any:
                return post(await ex(*make()))

            return amake_post
        return lambda: post(ex(*make()))
    if post is None:
        return lambda: ex(*args)
    if env.is_async:

        async def aconst_post() -> Any:
            return post(await ex(*args))

        return aconst_post
    return lambda: post(ex(*args))


class Op:
    """One benchmarked operation."""

    name = ""
    #: What the operation does on both sides, for the report.
    what = ""
    budget = SINGLE
    #: Relative batch size (heavy operations run fewer times per batch).
    weight = 1.0
    #: Whether the operation needs the server's search commands (RediSearch).
    needs_search = False
    #: Documents each side gets before a round (bulk operations read or write them all).
    docs = 1
    #: Whether the op is also timed with 100 asyncio tasks in flight (one document each).
    concurrent = True

    def doc(self, n: int) -> dict[str, Any]:
        """The document every contender starts a round with (``n``: operations per document)."""
        return document()

    def ours(self, env: Any, i: int) -> Thunk:
        raise NotImplementedError

    def raw(self, env: Any, i: int) -> Thunk:
        raise NotImplementedError

    def native(self, env: Any, i: int) -> Thunk | None:
        """When the library sends a script: the plain RedisJSON command a hand-written client uses."""
        if env.ours_sent(self, "evalsha"):
            return self._native(env, i)
        return None

    def _native(self, env: Any, i: int) -> Thunk | None:
        return None

    def rapyer(self, env: Any, i: int) -> Thunk | None:
        return None

    def redis_om(self, env: Any, i: int) -> Thunk | None:
        return None

    def cleanup(self, env: Any) -> None:
        """Untimed, before each round: remove what earlier rounds created."""


class Save(Op):
    name = "save"
    what = "JSON.SET key $ <document>; raw: json.dumps(dict)"

    def ours(self, env: Any, i: int) -> Thunk:
        u = env.users[i]
        return lambda: u.save()

    def raw(self, env: Any, i: int) -> Thunk:
        key, d = env.raw_key(i), self.doc(0)
        return raw_thunk(env, lambda: ("JSON.SET", key, "$", dumps(d)))

    def rapyer(self, env: Any, i: int) -> Thunk | None:
        r = env.rapyer_users[i]
        return lambda: r.asave()

    def redis_om(self, env: Any, i: int) -> Thunk | None:
        o = env.om_users[i]
        return lambda: o.save()


class Get(Op):
    name = "get"
    what = "JSON.GET key $; raw: + json.loads"

    def ours(self, env: Any, i: int) -> Thunk:
        cls, key = env.User, env.ours_key(i)
        return lambda: cls.get(key)

    def raw(self, env: Any, i: int) -> Thunk:
        return raw_thunk(env, ("JSON.GET", env.raw_key(i), "$"), loads)

    def rapyer(self, env: Any, i: int) -> Thunk | None:
        cls, key = env.Rapyer, env.rapyer_key(i)
        return lambda: cls.aget(key)

    def redis_om(self, env: Any, i: int) -> Thunk | None:
        cls, pk = env.Om, env.om_pk(i)
        return lambda: cls.get(pk)


class FieldSet(Op):
    name = "field set"
    what = "user.name.set(v) / JSON.SET key $.name json"

    def ours(self, env: Any, i: int) -> Thunk:
        u = env.users[i]
        return lambda: u.name.set("Grace Hopper")

    def raw(self, env: Any, i: int) -> Thunk:
        key = env.raw_key(i)
        return raw_thunk(env, lambda: ("JSON.SET", key, "$.name", dumps("Grace Hopper")))


class Append(Op):
    name = "aappend"
    what = "user.tags.aappend(v) / JSON.ARRAPPEND key $.tags json"

    def ours(self, env: Any, i: int) -> Thunk:
        u = env.users[i]
        return lambda: u.tags.aappend("new-tag")

    def raw(self, env: Any, i: int) -> Thunk:
        key = env.raw_key(i)
        return raw_thunk(env, lambda: ("JSON.ARRAPPEND", key, "$.tags", dumps("new-tag")))

    def rapyer(self, env: Any, i: int) -> Thunk | None:
        r = env.rapyer_users[i]
        return lambda: r.tags.aappend("new-tag")


TEN = [f"item-{i}" for i in range(10)]


class Extend(Op):
    name = "aextend(10)"
    what = "user.tags.aextend(10 items) / one JSON.ARRAPPEND with 10 values"

    def ours(self, env: Any, i: int) -> Thunk:
        u = env.users[i]
        return lambda: u.tags.aextend(TEN)

    def raw(self, env: Any, i: int) -> Thunk:
        key = env.raw_key(i)
        return raw_thunk(env, lambda: ("JSON.ARRAPPEND", key, "$.tags", *[dumps(x) for x in TEN]))


class SetItem(Op):
    name = "aset_item"
    what = 'user.metadata.aset_item(k, v) / JSON.SET key $.metadata["k"] json'

    def ours(self, env: Any, i: int) -> Thunk:
        u = env.users[i]
        return lambda: u.metadata.aset_item("k1", "changed")

    def raw(self, env: Any, i: int) -> Thunk:
        key, k = env.raw_key(i), "k1"
        return raw_thunk(env, lambda: ("JSON.SET", key, f'$.metadata["{k}"]', dumps("changed")))

    def rapyer(self, env: Any, i: int) -> Thunk | None:
        r = env.rapyer_users[i]
        return lambda: r.metadata.aset_item("k1", "changed")


FIVE = {f"k{i}": f"new-{i}" for i in range(5)}


class DictUpdate(Op):
    name = "dict aupdate(5)"
    what = "user.metadata.aupdate(5 keys) / the same command: JSON.MSET of 5 paths, or EVALSHA dict_ops set"

    def ours(self, env: Any, i: int) -> Thunk:
        u = env.users[i]
        return lambda: u.metadata.aupdate(FIVE)

    def raw(self, env: Any, i: int) -> Thunk:
        if not env.ours_sent(self, "evalsha"):
            return self._native(env, i)
        key, sha = env.raw_key(i), DICT_OPS.sha

        def make() -> tuple[Any, ...]:
            args: list[Any] = ["EVALSHA", sha, 1, key, "set", "$.metadata"]
            for k, v in FIVE.items():
                args += (k, dumps(v))
            return tuple(args)

        return raw_thunk(env, make)

    def _native(self, env: Any, i: int) -> Thunk:
        """JSON.MSET of the 5 item paths: what a hand-written client would send."""
        key = env.native_key(i)

        def make() -> tuple[Any, ...]:
            args: list[Any] = ["JSON.MSET"]
            for k, v in FIVE.items():
                args += (key, f'$.metadata["{k}"]', dumps(v))
            return tuple(args)

        return raw_thunk(env, make)


class Increase(Op):
    name = "aincrease"
    what = "user.score.aincrease(1) / JSON.NUMINCRBY key $.score 1 (reply is already [int])"

    def ours(self, env: Any, i: int) -> Thunk:
        u = env.users[i]
        return lambda: u.score.aincrease(1)

    def raw(self, env: Any, i: int) -> Thunk:
        return raw_thunk(env, ("JSON.NUMINCRBY", env.raw_key(i), "$.score", 1), lambda r: r[0])


class ListPop(Op):
    name = "list apop"
    what = "user.tags.apop() / the same command: JSON.ARRPOP key $.tags -1 or EVALSHA list_pop (+ json.loads)"

    def doc(self, n: int) -> dict[str, Any]:
        return document(extra_tags=n + 8)

    def ours(self, env: Any, i: int) -> Thunk:
        u = env.users[i]
        return lambda: u.tags.apop()

    def raw(self, env: Any, i: int) -> Thunk:
        if not env.ours_sent(self, "evalsha"):
            return self._native(env, i)
        args = ("EVALSHA", LIST_POP.sha, 1, env.raw_key(i), "$.tags", -1)
        return raw_thunk(env, args, lambda r: loads(r[1]))

    def _native(self, env: Any, i: int) -> Thunk:
        """JSON.ARRPOP: what a hand-written client would send."""
        return raw_thunk(env, ("JSON.ARRPOP", env.native_key(i), "$.tags", -1), lambda r: loads(r[0]))


class LoadField(Op):
    name = "load field"
    what = "user.name.load() / JSON.GET key $.name (+ json.loads)"

    def ours(self, env: Any, i: int) -> Thunk:
        u = env.users[i]
        return lambda: u.name.load()

    def raw(self, env: Any, i: int) -> Thunk:
        return raw_thunk(env, ("JSON.GET", env.raw_key(i), "$.name"), loads)


class LoadModel(Op):
    name = "load model"
    what = "user.load() / JSON.GET key $ (+ json.loads)"

    def ours(self, env: Any, i: int) -> Thunk:
        u = env.users[i]
        return lambda: u.load()

    def raw(self, env: Any, i: int) -> Thunk:
        return raw_thunk(env, ("JSON.GET", env.raw_key(i), "$"), loads)


class Lock(Op):
    name = "lock round trip"
    what = (
        "ours: `with user.lock(): user.score = n` = SET NX PX, JSON.GET $, EVALSHA save_and_release "
        "(JSON.MSET + DEL), plus the lease keeper; raw: redis-py Lock.acquire (SET NX PX), "
        "JSON.GET $ + json.loads, JSON.MSET $.score, Lock.release (EVALSHA)"
    )
    weight = 0.25

    def ours(self, env: Any, i: int) -> Thunk:
        u, n = env.users[i], itertools.count(1)
        if env.is_async:

            async def athunk() -> None:
                async with u.lock() as m:
                    m.score = next(n)

            return athunk

        def thunk() -> None:
            with u.lock() as m:
                m.score = next(n)

        return thunk

    def raw(self, env: Any, i: int) -> Thunk:
        client, ex, key, n = env.client, env.ex, env.raw_key(i), itertools.count(1)
        lock_key = "{" + key + "}/default"
        if env.is_async:

            async def athunk() -> None:
                lock = client.lock(lock_key, timeout=10.0, blocking_timeout=10.0, thread_local=False)
                await lock.acquire()
                loads(await ex("JSON.GET", key, "$"))
                await ex("JSON.MSET", key, "$.score", dumps(next(n)))
                await lock.release()

            return athunk

        def thunk() -> None:
            lock = client.lock(lock_key, timeout=10.0, blocking_timeout=10.0, thread_local=False)
            lock.acquire()
            loads(ex("JSON.GET", key, "$"))
            ex("JSON.MSET", key, "$.score", dumps(next(n)))
            lock.release()

        return thunk


def _pipeline_commands(key: str) -> list[tuple[Any, ...]]:
    """The block's 10 writes as the plain RedisJSON commands a hand-written client sends."""
    return [
        ("JSON.SET", key, "$.name", dumps("Grace")),
        ("JSON.SET", key, "$.age", dumps(37)),
        ("JSON.SET", key, "$.score", dumps(5)),
        ("JSON.ARRAPPEND", key, "$.tags", dumps("t")),
        ("JSON.ARRAPPEND", key, "$.tags", dumps("a"), dumps("b")),
        ("JSON.SET", key, '$.metadata["k1"]', dumps("v1")),
        ("JSON.SET", key, '$.metadata["k2"]', dumps("v2")),
        ("JSON.MSET", key, '$.metadata["k3"]', dumps("v3"), key, '$.metadata["k4"]', dumps("v4")),
        ("JSON.ARRAPPEND", key, "$.profile.skills", dumps("s")),
        ("JSON.SET", key, "$.profile.title", dumps("T")),
    ]


def _batch_script_args(key: str) -> tuple[Any, ...]:
    """The library's one EVALSHA for the block: the batch script with the same 10 writes."""
    commands: list[Any] = _pipeline_commands(key)
    dict_path = "$.metadata"
    commands[7] = ScriptCall(DICT_OPS, (key,), ("set", dict_path, "k3", dumps("v3"), "k4", dumps("v4")))
    call = batch_call(commands)
    assert call is not None
    return call.evalsha_args()


class Pipeline(Op):
    name = "pipeline(10 ops)"
    what = (
        "`with user.pipeline(refresh=False):` 3 sets, aappend, aextend(2), 2 aset_item, aupdate(2), "
        "nested aappend, nested set (the library sends one EVALSHA of its batch script); raw: "
        "client.pipeline(transaction=True), MULTI/EXEC, with the same 10 writes as plain RedisJSON "
        "commands (aupdate as JSON.MSET); other raw: raw EVALSHA of the batch script with the same "
        "arguments as ours"
    )
    refresh = False
    budget = MULTI
    weight = 0.25

    def ours(self, env: Any, i: int) -> Thunk:
        u = env.users[i]
        if env.is_async:

            async def athunk() -> None:
                async with u.pipeline(refresh=self.refresh):
                    await u.name.set("Grace")
                    await u.age.set(37)
                    await u.score.set(5)
                    await u.tags.aappend("t")
                    await u.tags.aextend(["a", "b"])
                    await u.metadata.aset_item("k1", "v1")
                    await u.metadata.aset_item("k2", "v2")
                    await u.metadata.aupdate(k3="v3", k4="v4")
                    await u.profile.skills.aappend("s")
                    await u.profile.title.set("T")

            return athunk

        def thunk() -> None:
            with u.pipeline(refresh=self.refresh):
                u.name.set("Grace")
                u.age.set(37)
                u.score.set(5)
                u.tags.aappend("t")
                u.tags.aextend(["a", "b"])
                u.metadata.aset_item("k1", "v1")
                u.metadata.aset_item("k2", "v2")
                u.metadata.aupdate(k3="v3", k4="v4")
                u.profile.skills.aappend("s")
                u.profile.title.set("T")

        return thunk

    def raw(self, env: Any, i: int) -> Thunk:
        client, key, ex, refresh = env.client, env.raw_key(i), env.ex, self.refresh
        if env.is_async:

            async def athunk() -> None:
                if refresh:
                    loads(await ex("JSON.GET", key, "$"))
                async with client.pipeline(transaction=True) as pipe:
                    for command in _pipeline_commands(key):
                        pipe.execute_command(*command)
                    await pipe.execute()

            return athunk

        def thunk() -> None:
            if refresh:
                loads(ex("JSON.GET", key, "$"))
            with client.pipeline(transaction=True) as pipe:
                for command in _pipeline_commands(key):
                    pipe.execute_command(*command)
                pipe.execute()

        return thunk

    def native(self, env: Any, i: int) -> Thunk | None:
        key, ex, refresh = env.native_key(i), env.ex, self.refresh
        if env.is_async:

            async def athunk() -> None:
                if refresh:
                    loads(await ex("JSON.GET", key, "$"))
                await ex(*_batch_script_args(key))

            return athunk

        def thunk() -> None:
            if refresh:
                loads(ex("JSON.GET", key, "$"))
            ex(*_batch_script_args(key))

        return thunk


class PipelineRefresh(Pipeline):
    name = "pipeline(10 ops) + refresh"
    what = (
        "the same block with pipeline()'s default refresh=True: one JSON.GET round trip on entry; "
        "raw and other raw send the same JSON.GET (+ json.loads) before their pipeline"
    )
    refresh = True


class DuplicateMany(Op):
    name = "duplicate_many(100)"
    what = "user.duplicate_many(100) / one JSON.MSET of 100 new keys (json.dumps once, uuid4 keys)"
    budget = MULTI
    weight = 0.1

    def ours(self, env: Any, i: int) -> Thunk:
        u = env.dup_users[i]
        return lambda: u.duplicate_many(100)

    def raw(self, env: Any, i: int) -> Thunk:
        prefix, d = env.raw_dup_prefix, self.doc(0)

        def make() -> tuple[Any, ...]:
            payload = dumps(d)
            args: list[Any] = ["JSON.MSET"]
            for _ in range(100):
                args += (f"{prefix}:{uuid.uuid4().hex}", "$", payload)
            return tuple(args)

        return raw_thunk(env, make)

    def cleanup(self, env: Any) -> None:
        env.unlink_matching(f"{env.dup_prefix}:*")
        env.unlink_matching(f"{env.raw_dup_prefix}:*")


MANY = 1000


class GetMany(Op):
    name = "get_many(1000)"
    what = "User.get_many(1000 keys) / one JSON.MGET of 1000 keys $ (+ json.loads of each document)"
    budget = MULTI
    weight = 0.05
    docs = MANY
    concurrent = False

    def ours(self, env: Any, i: int) -> Thunk:
        cls, keys = env.User, [env.ours_key(j) for j in range(len(env.users))]
        return lambda: cls.get_many(keys)

    def raw(self, env: Any, i: int) -> Thunk:
        args = ("JSON.MGET", *[env.raw_key(j) for j in range(len(env.users))], "$")
        return raw_thunk(env, args, lambda replies: [loads(r) for r in replies])


class SaveMany(Op):
    name = "save_many(1000)"
    what = (
        "User.save_many(1000 loaded models) / one JSON.MSET of 1000 keys $ (json.dumps of each dict); "
        "ours also checks that each document reads back (as save() does)"
    )
    budget = MULTI
    weight = 0.05
    docs = MANY
    concurrent = False

    def ours(self, env: Any, i: int) -> Thunk:
        cls, users = env.User, list(env.users)
        return lambda: cls.save_many(users)

    def raw(self, env: Any, i: int) -> Thunk:
        keys, d = [env.raw_key(j) for j in range(len(env.users))], self.doc(0)

        def make() -> tuple[Any, ...]:
            args: list[Any] = ["JSON.MSET"]
            for key in keys:
                args += (key, "$", dumps(d))
            return tuple(args)

        return raw_thunk(env, make)


class NestedAppend(Op):
    name = "nested aappend"
    what = "user.profile.skills.aappend(v) / JSON.ARRAPPEND key $.profile.skills json"

    def ours(self, env: Any, i: int) -> Thunk:
        u = env.users[i]
        return lambda: u.profile.skills.aappend("rust")

    def raw(self, env: Any, i: int) -> Thunk:
        key = env.raw_key(i)
        return raw_thunk(env, lambda: ("JSON.ARRAPPEND", key, "$.profile.skills", dumps("rust")))


class ListInsert(Op):
    name = "list ainsert(1) [lua]"
    what = "user.tags.ainsert(1, v) / EVALSHA list_insert"

    def ours(self, env: Any, i: int) -> Thunk:
        u = env.users[i]
        return lambda: u.tags.ainsert(1, "ins")

    def raw(self, env: Any, i: int) -> Thunk:
        key, sha = env.raw_key(i), LIST_INSERT.sha
        return raw_thunk(env, lambda: ("EVALSHA", sha, 1, key, "$.tags", 1, dumps("ins")))


class DictPop(Op):
    name = "dict apop [lua]"
    what = "user.metadata.apop(k) / EVALSHA dict_ops pop (+ json.loads)"

    def doc(self, n: int) -> dict[str, Any]:
        return document(extra_meta=n + 8)

    def ours(self, env: Any, i: int) -> Thunk:
        u, n = env.users[i], itertools.count()
        return lambda: u.metadata.apop(f"p{next(n)}")

    def raw(self, env: Any, i: int) -> Thunk:
        key, sha, n = env.raw_key(i), DICT_OPS.sha, itertools.count()
        return raw_thunk(
            env, lambda: ("EVALSHA", sha, 1, key, "pop", "$.metadata", f"p{next(n)}"), lambda r: loads(r[1])
        )


class Find(Op):
    """find() of 100 documents: one FT.SEARCH, its documents parsed from the reply."""

    name = "find(100)"
    what = (
        "User.find(F(User).age >= 0).limit(100).all() / FT.SEARCH <index> @age:[0 +inf] LIMIT 0 100 "
        "DIALECT 2, then json.loads of each document of the reply"
    )
    budget = MULTI
    weight = 0.1
    needs_search = True
    size = 100

    def prepare(self, env: Any) -> None:
        """Untimed, once per face: the index and its documents (written after it: indexed at once)."""
        if getattr(env, "FindUser", None) is not None:
            return
        from redis_pydantic._index import index_schema

        env.FindUser = ours_indexed_user_class(env.base_model, f"{env.prefix}find", env.client)
        schema = index_schema(env.FindUser)
        env.admin.execute_command(*schema.create_args)
        env.admin.execute_command("FT.ALIASADD", schema.name, schema.physical)
        env.admin.execute_command("FT.ALIASADD", schema.query_name, schema.physical)
        env.find_index = schema.physical
        env.find_alias = schema.query_name  # the name find() searches
        payload = dumps(document())
        with env.admin.pipeline(transaction=False) as pipe:
            for i in range(self.size):
                pipe.execute_command("JSON.SET", f"{env.prefix}find:d{i}", "$", payload)
            pipe.execute()

    def ours(self, env: Any, i: int) -> Thunk:
        self.prepare(env)
        from redis_pydantic import F

        cls, size = env.FindUser, self.size
        return lambda: cls.find(F(cls).age >= 0).limit(size).all()

    def raw(self, env: Any, i: int) -> Thunk:
        self.prepare(env)
        command = ("FT.SEARCH", env.find_alias, "@age:[0 +inf]", "LIMIT", 0, self.size, "DIALECT", 2)
        return raw_thunk(env, command, _documents)


def _documents(reply: Any) -> list[Any]:
    """The documents of an FT.SEARCH reply, as a hand-written client reads them (RESP3 or RESP2)."""
    if isinstance(reply, dict):
        return [loads(r[b"extra_attributes"][b"$"]) for r in reply[b"results"]]
    return [loads(reply[i + 1][1]) for i in range(1, len(reply), 2)]


ALL: list[Op] = [
    Save(),
    Get(),
    FieldSet(),
    Append(),
    Extend(),
    SetItem(),
    DictUpdate(),
    Increase(),
    ListPop(),
    LoadField(),
    LoadModel(),
    Lock(),
    Pipeline(),
    PipelineRefresh(),
    DuplicateMany(),
    GetMany(),
    SaveMany(),
    NestedAppend(),
    ListInsert(),
    DictPop(),
    Find(),
]

#: Short names accepted by ``--ops``.
ALIASES: dict[str, Op] = {}
for _op in ALL:
    ALIASES[_op.name] = _op
    ALIASES[_op.name.split("(")[0].split(" [")[0].replace(" ", "_")] = _op
ALIASES.update(
    {
        "set": ALIASES["field_set"],
        "extend": ALIASES["aextend"],
        "aupdate": ALIASES["dict_aupdate"],
        "apop": ALIASES["list_apop"],
        "load": ALIASES["load_model"],
        "lock": ALIASES["lock_round_trip"],
        "duplicate": ALIASES["duplicate_many"],
        "nested": ALIASES["nested_aappend"],
        "ainsert": ALIASES["list_ainsert"],
        "dict_pop": ALIASES["dict_apop"],
        "find": ALIASES["find(100)"],
    }
)
