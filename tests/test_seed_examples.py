"""Every Python example of the behaviour spec runs, unchanged, in both faces and on both backends.

The spec is the README of the earlier async-only library (``../shared/spec/seed-README.md`` beside
the clone). Its ```python blocks are committed verbatim in ``tests/seed_examples/blocks.md``;
``test_committed_blocks_equal_the_spec`` fails when the two drift apart.

Each block runs after a preamble (``IMPORTS`` plus ``PREAMBLES[n]``) that defines what the block
assumes: imports, models, a ``model``/``user``/``key`` variable, documents already saved. Then
``CHECKS[n]`` asserts what Redis holds (through a separate client) and what the block left in its
namespace.

Faces:

* asyncio: the block is compiled with ``PyCF_ALLOW_TOP_LEVEL_AWAIT``; code with a top-level
  ``await`` runs in a fresh event loop. A block without one (the quick start) is executed as a
  script (``__name__ == "__main__"``) outside any loop, so its own ``asyncio.run(main())`` is not
  nested. Each event loop gets its own client (redis.asyncio clients are bound to their loop):
  ``asyncio.run`` is patched to install a new client with ``override_client`` inside the loop and
  to close it at the end.
* blocking: the source is transformed by ``to_sync`` as a user of ``redis_pydantic.sync`` would
  write it: ``await `` removed, ``async with`` -> ``with``, ``async def`` -> ``def``,
  ``asyncio.run(main())`` -> ``main()``, imports from ``redis_pydantic``/``redis_pydantic.base``
  -> ``redis_pydantic.sync``, and ``redis.asyncio`` -> ``redis`` (the connection-setup blocks
  build their ``Meta.redis`` client with ``redis.asyncio.from_url``; its blocking twin is
  ``redis.from_url``).

Where the spec contradicts the library's decisions (saving a partial instance raises
ValidationError; ``bool``/``None`` values compare with ``==``, not ``is``; values are validated
strictly), the preamble defines models for which the block is valid; each such place says why.
A block with a statement that raises (on purpose, or because the spec contradicts itself) is
listed in ``RAISES`` and runs one statement at a time, as in an interactive session.
"""

from __future__ import annotations

import ast
import asyncio
import base64
import contextlib
import json
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import fakeredis
import pytest
import redis
import redis.asyncio
import redis.connection

from redis_pydantic._async import connection as async_connection
from redis_pydantic._sync import connection as sync_connection
from redis_pydantic.errors import FieldValidationError
from tests._twins import AsyncFakeRedis, SyncFakeRedis

ROOT = Path(__file__).resolve().parents[1]
BLOCKS_FILE = Path(__file__).parent / "seed_examples" / "blocks.md"
SPEC_FILE = ROOT.parent / "shared" / "spec" / "seed-README.md"
_PYTHON_BLOCK = re.compile(r"^```python\n(.*?)^```$", re.S | re.M)


def python_blocks(markdown: str) -> list[str]:
    """The bodies of the ```python blocks of a markdown text, in order."""
    return _PYTHON_BLOCK.findall(markdown)


BLOCKS = python_blocks(BLOCKS_FILE.read_text(encoding="utf-8"))


def test_committed_blocks_equal_the_spec() -> None:
    if not SPEC_FILE.exists():
        pytest.skip(
            f"nothing to compare with: the behaviour spec {SPEC_FILE} is kept outside the repository, "
            "in the project's shared folder; the committed copy of its examples "
            f"({BLOCKS_FILE.relative_to(ROOT)}) still runs in the tests below"
        )
    assert BLOCKS == python_blocks(SPEC_FILE.read_text(encoding="utf-8")), (
        f"{BLOCKS_FILE.relative_to(ROOT)} differs from the spec: copy its python blocks again"
    )


# --------------------------------------------------------------------------- preambles

#: Given to every block (in the asyncio form; ``to_sync`` turns the last import into the blocking one).
IMPORTS = """\
from datetime import datetime
from typing import Dict, List

from pydantic import BaseModel, Field

from redis_pydantic import BaseRedisModel
"""

#: The User of "Pipeline Context Manager" (block 14), used by the pipeline blocks after it.
_PIPELINE_USER = """\
class User(BaseRedisModel):
    name: str
    tags: List[str] = []
    metadata: Dict[str, str] = {}
    counter: int = 0
"""

#: The models of "Working with Nested Models" (block 19).
_NESTED_MODELS = """\
class UserProfile(BaseModel):
    bio: str = ""
    skills: List[str] = Field(default_factory=list)
    settings: Dict[str, bool] = Field(default_factory=dict)

class Address(BaseModel):
    street: str
    city: str
    country: str = "US"

class User(BaseRedisModel):
    name: str
    profile: UserProfile = Field(default_factory=UserProfile)
    address: Address
    tags: List[str] = Field(default_factory=list)
"""

#: The models of "Nested Model Duplication" (block 36).
_DUPLICATION_MODELS = """\
class UserProfile(BaseModel):
    bio: str = ""
    skills: List[str] = Field(default_factory=list)
    preferences: Dict[str, str] = Field(default_factory=dict)

class User(BaseRedisModel):
    name: str
    profile: UserProfile = Field(default_factory=UserProfile)
    tags: List[str] = Field(default_factory=list)
"""

#: What each block assumes beyond IMPORTS, by block number (1-based). Blocks not listed define
#: everything they use themselves.
PREAMBLES: dict[int, str] = {
    # The quick-start User requires `age`, but this block saves User(name=..., tags=..., metadata=...)
    # and saving a partial instance raises ValidationError: here `age` is left out.
    5: """\
class User(BaseRedisModel):
    name: str
    tags: List[str] = []
    metadata: Dict[str, str] = {}
""",
    6: """\
class User(BaseRedisModel):
    name: str

user = User(name="John")
await user.save()
key = user.key
""",
    # Blocks 7-12 define MyModel and then use `model`, an instance of the same class.
    7: """\
class MyModel(BaseRedisModel):
    name: str = "default"

model = MyModel()
await model.save()
""",
    8: """\
class MyModel(BaseRedisModel):
    counter: int = 0

model = MyModel()
await model.save()
""",
    9: """\
class MyModel(BaseRedisModel):
    is_active: bool = True

model = MyModel()
await model.save()
""",
    10: """\
class MyModel(BaseRedisModel):
    data: bytes = b""

model = MyModel()
await model.save()
""",
    11: """\
class MyModel(BaseRedisModel):
    items: List[str] = []

model = MyModel()
await model.save()
""",
    12: """\
class MyModel(BaseRedisModel):
    metadata: Dict[str, str] = {}

model = MyModel()
await model.save()
""",
    15: _PIPELINE_USER
    + """
user = User(name="Jane")
await user.save()
""",
    # The block deletes "old_key": it is there to delete.
    16: _PIPELINE_USER
    + """
user = User(name="John", tags=["python"], metadata={"old_key": "old"})
await user.save()
""",
    # apop() and apopitem() need items to remove.
    17: _PIPELINE_USER
    + """
user = User(name="John", tags=["python", "redis"], metadata={"key": "value", "role": "developer"})
await user.save()
""",
    18: _PIPELINE_USER
    + """
user = User(name="John", tags=["python"], metadata={"role": "developer"})
await user.save()
""",
    21: _NESTED_MODELS,
    23: """\
class User(BaseRedisModel):
    name: str
    tags: List[str] = []

existing = User(name="John", tags=["python"])
existing.pk = "some-existing-id"
await existing.save()
""",
    24: """\
class User(BaseRedisModel):
    metadata: Dict[str, str] = {}
    items: List[str] = []

user = User(metadata={"last_login": "never"}, items=["a", "b"])
await user.save()
session_count = 4
""",
    25: """\
class User(BaseRedisModel):
    name: str
    tags: List[str] = []

user = User(name="John", tags=["python"])
""",
    27: """\
class MyModel(BaseRedisModel):
    count: int = 0

model = MyModel()
await model.save()
""",
    # The block saves User(tags=[...]) and saving a partial instance raises ValidationError:
    # here the User has no required field.
    28: """\
class User(BaseRedisModel):
    tags: List[str] = []
""",
    # The block shows the errors of an empty list and of a missing key.
    29: """\
class User(BaseRedisModel):
    tags: List[str] = []
    metadata: Dict[str, str] = {}

user = User()
await user.save()
""",
    34: """\
class User(BaseRedisModel):
    name: str
    age: int
    tags: List[str] = []
    metadata: Dict[str, str] = {}
""",
    # The block saves User(name=..., tags=...) after "Basic Duplication" defined User with a
    # required `age`; saving a partial instance raises ValidationError: here `age` is left out.
    35: """\
class User(BaseRedisModel):
    name: str
    tags: List[str] = []
    metadata: Dict[str, str] = {}
""",
    # The block duplicates both an inner BaseModel (`profile`) and an inner BaseRedisModel (`stats`).
    38: """\
class UserProfile(BaseModel):
    bio: str = ""
    skills: List[str] = Field(default_factory=list)

class UserStats(BaseRedisModel):
    login_count: int = 0
    preferences: Dict[str, bool] = Field(default_factory=dict)

class User(BaseRedisModel):
    name: str
    profile: UserProfile = Field(default_factory=UserProfile)
    stats: UserStats = Field(default_factory=UserStats)
""",
    39: _DUPLICATION_MODELS,
}

#: Blocks with a statement that raises, by block number: (line in the block, text on that line,
#: exception). Such a block runs one top-level statement at a time, as if typed into an
#: interactive session: the statement on that line must raise the exception, and the statements
#: after it still run.
RAISES: dict[int, tuple[int, str, type[BaseException]]] = {
    # The spec contradicts itself: "Dictionary (RedisDict)" pops "key" right after deleting it,
    # while "Error Handling" says that apop() of a missing key without a default raises KeyError,
    # which is what the library does (tests/_async/test_dict_ops.py).
    12: (8, 'apop("key")', KeyError),
    # "Type Safety" shows the error on purpose: `# ❌ TypeError: Value must be int`.
    27: (5, 'set("not_a_number")', TypeError),
}


# --------------------------------------------------------------------------- running a block


def to_sync(source: str) -> str:
    """The blocking-face twin of an example written for the asyncio face."""
    for old, new in (
        ("async with ", "with "),
        ("async def ", "def "),
        ("await ", ""),
        ("asyncio.run(main())", "main()"),
        ("from redis_pydantic.base import", "from redis_pydantic.sync import"),
        ("from redis_pydantic import", "from redis_pydantic.sync import"),
        ("redis.asyncio", "redis"),
    ):
        source = source.replace(old, new)
    return source


class Stored:
    """What the test server holds, read with a client of its own (never the library)."""

    def __init__(self, client: redis.Redis) -> None:
        self.client = client

    def keys(self, pattern: str = "*") -> list[str]:
        return sorted(k.decode() for k in self.client.keys(pattern))

    def doc(self, key: str) -> Any:
        raw = self.client.execute_command("JSON.GET", key, "$")
        assert raw is not None, f"{key} is not in Redis"
        return json.loads(raw)[0]

    def docs(self, prefix: str) -> list[Any]:
        return [self.doc(key) for key in self.keys(f"{prefix}:*")]

    def only_doc(self, prefix: str) -> Any:
        keys = self.keys()
        assert len(keys) == 1 and keys[0].startswith(prefix + ":"), keys
        return self.doc(keys[0])


@dataclass
class Run:
    """One executed block: its namespace, the face, the test server and the expected error."""

    ns: dict[str, Any]
    face: str
    db: Stored
    error: BaseException | None = None


def _compile(source: str | ast.Module, name: str, face: str) -> Any:
    flags = ast.PyCF_ALLOW_TOP_LEVEL_AWAIT if face == "async" else 0
    # dont_inherit: the examples must not get this module's `from __future__ import annotations`.
    return compile(source, name, "exec", flags=flags, dont_inherit=True)


def _execute(code: Any, ns: dict[str, Any]) -> None:
    result = eval(code, ns)  # the spec's examples, executed on purpose
    if asyncio.iscoroutine(result):
        asyncio.run(result)  # patched in the asyncio face: a fresh loop with its own client


def _execute_expecting(source: str, name: str, face: str, run: Run, raises: tuple[int, str, Any]) -> None:
    """Run ``source`` one top-level statement at a time; the one on line ``raises[0]`` must raise."""
    line, text, exception = raises
    assert text in source.splitlines()[line - 1], f"line {line} of {name} no longer holds {text!r}"
    for statement in ast.parse(source).body:
        code = _compile(ast.Module(body=[statement], type_ignores=[]), name, face)
        if statement.lineno != line:
            _execute(code, run.ns)
            continue
        with pytest.raises(exception) as caught:
            _execute(code, run.ns)
        run.error = caught.value
    assert run.error is not None, f"no statement of {name} starts on line {line}"


Factories = tuple[Callable[[], Any], Callable[[], Any]]


def _client_factories(backend: str, request: pytest.FixtureRequest) -> Factories:
    """Makers of (asyncio client, blocking client) for the backend's test server."""
    if backend == "real":
        url = request.getfixturevalue("real_redis_url")
        return (lambda: redis.asyncio.Redis.from_url(url)), (lambda: redis.Redis.from_url(url))
    fake_server = fakeredis.FakeServer()
    return (
        lambda: AsyncFakeRedis(server=fake_server),
        lambda: SyncFakeRedis(server=fake_server),
    )


@contextlib.contextmanager
def _face_clients(face: str, factories: Factories, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Point the face's models at the test server while the block runs."""
    make_async, make_sync = factories
    if face == "sync":
        client = make_sync()
        previous = sync_connection.override_client(client)
        try:
            yield
        finally:
            sync_connection.override_client(previous)
            client.close()
        return
    real_run = asyncio.run

    def run_with_client(main: Any, **kwargs: Any) -> Any:
        async def with_client() -> Any:
            client = make_async()
            previous = async_connection.override_client(client)
            try:
                return await main
            finally:
                async_connection.override_client(previous)
                await client.aclose()

        return real_run(with_client(), **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(asyncio, "run", run_with_client)
        yield


def _run_block(
    number: int, face: str, factories: Factories, db: Stored, monkeypatch: pytest.MonkeyPatch
) -> Run:
    preamble = IMPORTS + PREAMBLES.get(number, "")
    block = BLOCKS[number - 1]
    if face == "sync":
        preamble, block = to_sync(preamble), to_sync(block)
    run = Run({"__name__": "__main__"}, face, db)
    name = f"<seed block {number}>"
    with _face_clients(face, factories, monkeypatch):
        _execute(_compile(preamble, f"<preamble of seed block {number}>", face), run.ns)
        if number in RAISES:
            _execute_expecting(block, name, face, run, RAISES[number])
        else:
            _execute(_compile(block, name, face), run.ns)
    return run


# --------------------------------------------------------------------------- checks

#: What each block must leave behind, by block number.
CHECKS: dict[int, Callable[[Run], None]] = {}


def check(number: int) -> Callable[[Callable[[Run], None]], Callable[[Run], None]]:
    def register(fn: Callable[[Run], None]) -> Callable[[Run], None]:
        CHECKS[number] = fn
        return fn

    return register


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@check(1)
def _quick_start(run: Run) -> None:
    assert run.db.only_doc("User") == {
        "name": "John Doe",
        "age": 30,
        "tags": ["python", "redis", "pydantic", "async"],
        "metadata": {"department": "engineering", "role": "developer", "level": "senior"},
        "score": 100,
    }


def _check_connection_block(run: Run, **expected: Any) -> None:
    client = run.ns["MyModel"].Meta.redis
    assert isinstance(client, redis.asyncio.Redis if run.face == "async" else redis.Redis)
    pool = client.connection_pool
    assert {k: pool.connection_kwargs.get(k) for k in expected} == expected
    # Defining the class connected nowhere: the client has never opened a connection.
    assert not pool._available_connections and not pool._in_use_connections
    assert run.db.keys() == []


@check(2)
def _custom_connection(run: Run) -> None:
    _check_connection_block(run, host="your-redis-host", port=6379, db=1)


@check(3)
def _environment_connection(run: Run) -> None:
    assert run.ns["redis_url"] == os.getenv("REDIS_URL", "redis://localhost:6379/0")
    _check_connection_block(run, **redis.connection.parse_url(run.ns["redis_url"]))


@check(4)
def _authenticated_connection(run: Run) -> None:
    _check_connection_block(
        run, host="your-redis-host", username="username", password="password", decode_responses=True
    )


@check(5)
def _save_load_delete(run: Run) -> None:
    assert run.ns["loaded_user"].model_dump() == {
        "name": "John",
        "tags": ["python"],
        "metadata": {"role": "developer"},
    }
    assert run.db.keys() == []


@check(6)
def _try_delete(run: Run) -> None:
    assert run.ns["delete_succeded"] is True
    assert run.db.keys() == []


def _check_model(run: Run, expected: dict[str, Any]) -> None:
    model = run.ns["model"]
    assert run.db.doc(model.key) == expected
    assert model.model_dump(mode="json") == expected


@check(7)
def _str_ops(run: Run) -> None:
    _check_model(run, {"name": "new_value"})


@check(8)
def _int_ops(run: Run) -> None:
    _check_model(run, {"counter": 42})


@check(9)
def _bool_ops(run: Run) -> None:
    _check_model(run, {"is_active": False})


@check(10)
def _bytes_ops(run: Run) -> None:
    _check_model(run, {"data": _b64(b"binary_data")})
    assert run.ns["model"].data == b"binary_data"


@check(11)
def _list_ops(run: Run) -> None:
    _check_model(run, {"items": []})
    assert run.ns["popped"] == "first"


@check(12)
def _dict_ops(run: Run) -> None:
    _check_model(run, {"metadata": {}})
    assert run.ns["popped"] == "default"
    # "Pop arbitrary item": RedisJSON may reorder an object's keys when one is deleted.
    assert (run.ns["key"], run.ns["value"]) in {("key1", "val1"), ("key2", "val2")}


@check(13)
def _lock(run: Run) -> None:
    user = run.ns["user"]
    assert run.db.keys() == [user.key]  # both locks were released
    assert run.db.doc(user.key) == {"name": "John", "balance": 850, "transaction_count": 2}


@check(14)
def _pipeline(run: Run) -> None:
    user = run.ns["user"]
    expected = {
        "name": "John",
        "tags": ["python", "redis", "async", "pydantic"],
        "metadata": {"role": "developer", "level": "senior", "department": "engineering"},
        "counter": 100,
    }
    assert run.db.doc(user.key) == expected
    assert user.model_dump() == expected


@check(15)
def _pipeline_deletes(run: Run) -> None:
    assert run.db.keys() == [run.ns["user"].key]


@check(16)
def _pipeline_operations(run: Run) -> None:
    user = run.ns["user"]
    expected = {"name": "New Name", "tags": [], "metadata": {}, "counter": 42}
    assert run.db.doc(user.key) == expected
    assert user.model_dump() == expected


@check(17)
def _pops_outside_pipeline(run: Run) -> None:
    ns = run.ns
    assert (ns["popped_tag"], ns["popped_value"], ns["key"], ns["value"]) == (
        "redis",
        "value",
        "role",
        "developer",
    )
    assert run.db.doc(ns["user"].key) == {"name": "John", "tags": ["python"], "metadata": {}, "counter": 0}


@check(18)
def _pipeline_error(run: Run) -> None:
    expected = {"name": "John", "tags": ["python"], "metadata": {"role": "developer"}, "counter": 0}
    assert run.db.doc(run.ns["user"].key) == expected
    assert run.ns["final_user"].model_dump() == expected


@check(19)
def _nested_models(run: Run) -> None:
    user = run.ns["user"]
    expected = {
        "name": "John",
        "profile": {
            "bio": "",
            "skills": ["Leadership", "Python", "Redis"],
            "settings": {"dark_mode": True, "email_updates": True},
        },
        "address": {"street": "123 Main St", "city": "Boston", "country": "US"},
        "tags": [],
    }
    assert run.db.doc(user.key) == expected
    assert user.model_dump() == expected
    assert run.ns["popped_skill"] == "AsyncIO"


@check(20)
def _deep_nesting(run: Run) -> None:
    outer = run.ns["outer"]
    expected = {
        "middle": {"inner": {"items": ["deep_item"], "counter": 0}, "tags": ["tag1", "tag2"]},
        "data": {"count": 42},
    }
    assert run.db.doc(outer.key) == expected
    assert outer.model_dump() == expected


@check(21)
def _nested_persistence(run: Run) -> None:
    user1, user2 = run.ns["user1"], run.ns["user2"]
    skills = ["JavaScript", "TypeScript", "React"]
    assert run.db.doc(user1.key)["profile"]["skills"] == skills
    assert user1.profile.skills == skills
    assert user2.profile.skills == skills
    assert run.db.keys() == [user1.key]


@check(22)
def _nested_types(run: Run) -> None:
    assert run.db.doc(run.ns["user"].key) == {
        "preferences": {"languages": ["python", "rust"]},
        "scores": [95, 87, 92],
    }


@check(23)
def _load_specific_fields(run: Run) -> None:
    user = run.ns["user"]
    assert user.key == "User:some-existing-id"
    assert (user.name, user.tags) == ("John", ["python"])


@check(24)
def _atomic_operations(run: Run) -> None:
    doc = run.db.doc(run.ns["user"].key)
    assert doc["metadata"]["session_count"] == "5"
    assert doc["metadata"]["last_login"] != "never"
    assert doc["items"] == ["a"]
    assert run.ns["popped_item"] == "b"


@check(25)
def _serialization(run: Run) -> None:
    assert run.ns["redis_data"] == {"name": "John", "tags": ["python"]}
    assert run.db.doc(run.ns["user"].key) == run.ns["redis_data"]


@check(26)
def _bytes_conversion(run: Run) -> None:
    assert run.ns["loaded_data"] == b"binary_data"
    _check_model(run, {"data": _b64(b"binary_data")})


@check(27)
def _type_safety(run: Run) -> None:
    assert isinstance(run.error, FieldValidationError)
    _check_model(run, {"count": 42})  # the statement after the error ran


@check(28)
def _local_and_redis_state(run: Run) -> None:
    user = run.ns["user"]
    assert user.tags == ["python", "redis"]
    assert run.db.doc(user.key) == {"tags": ["python", "redis"]}


@check(29)
def _error_handling(run: Run) -> None:
    assert run.ns["value"] == "default_value"
    assert "item" not in run.ns
    assert run.db.doc(run.ns["user"].key) == {"tags": [], "metadata": {}}


@check(30)
def _user_session(run: Run) -> None:
    doc = run.db.doc(run.ns["session"].key)
    (entry,) = doc.pop("activity_log")
    assert entry.startswith("login:")
    assert doc == {
        "user_id": "user123",
        "session_data": {"ip_address": "192.168.1.1", "user_agent": "Chrome/91.0"},
        "is_active": True,
        "last_seen": "",
    }


@check(31)
def _shopping_cart(run: Run) -> None:
    assert run.db.doc(run.ns["cart"].key) == {
        "user_id": "user456",
        "items": ["product123"],
        "quantities": {"product123": 2},
        "total_amount": 4999,
    }


@check(32)
def _app_config(run: Run) -> None:
    assert run.db.doc(run.ns["config"].key) == {
        "features": {"new_ui": True, "beta_features": False},
        "limits": {"requests_per_minute": 1000, "max_file_size": 10485760},
        "allowed_ips": [],
    }


@check(33)
def _basic_duplication(run: Run) -> None:
    expected = {"name": "John", "age": 30, "tags": ["python", "redis"], "metadata": {}}
    assert run.db.docs("User") == [expected, expected]
    assert run.db.doc(run.ns["duplicate_user"].key) == expected


@check(34)
def _bulk_duplication(run: Run) -> None:
    assert len(run.ns["duplicates"]) == 5
    expected = {"name": "Template User", "age": 25, "tags": [], "metadata": {}}
    assert run.db.docs("User") == [expected] * 6


@check(35)
def _duplicates_are_independent(run: Run) -> None:
    assert run.db.doc(run.ns["original"].key) == {"name": "John", "tags": ["python"], "metadata": {}}
    assert run.db.doc(run.ns["duplicate"].key) == {
        "name": "John Copy",
        "tags": ["python", "redis"],
        "metadata": {},
    }


@check(36)
def _nested_duplication(run: Run) -> None:
    original = {
        "name": "Alice",
        "profile": {
            "bio": "Software Engineer",
            "skills": ["Python", "Redis"],
            "preferences": {"theme": "dark", "lang": "en"},
        },
        "tags": ["engineer", "python"],
    }
    assert run.db.doc(run.ns["original"].key) == original
    original["profile"]["skills"].append("JavaScript")
    assert run.db.doc(run.ns["duplicate"].key) == original


@check(37)
def _redis_nested_duplication(run: Run) -> None:
    stats = {"login_count": 10, "preferences": {"notifications": True, "dark_mode": False}}
    assert run.db.doc(run.ns["original"].key) == {"name": "Bob", "stats": stats}
    stats["preferences"]["email_alerts"] = True
    assert run.db.doc(run.ns["duplicate"].key) == {"name": "Bob", "stats": stats}


@check(38)
def _duplication_restrictions(run: Run) -> None:
    expected = {
        "name": "Test",
        "profile": {"bio": "", "skills": []},
        "stats": {"login_count": 0, "preferences": {}},
    }
    assert run.db.docs("User") == [expected, expected]
    assert run.db.doc(run.ns["duplicate"].key) == expected


@check(39)
def _template(run: Run) -> None:
    docs = run.db.docs("User")
    assert len(docs) == 101
    assert sorted(doc["name"] for doc in docs) == sorted(["Template"] + [f"User_{i}" for i in range(100)])
    profile = {"bio": "Default bio", "skills": ["basic"], "preferences": {}}
    assert all(doc["profile"] == profile and doc["tags"] == ["new_user"] for doc in docs)


# --------------------------------------------------------------------------- the test


def test_every_block_has_a_check() -> None:
    assert sorted(CHECKS) == list(range(1, len(BLOCKS) + 1))
    assert set(PREAMBLES) | set(RAISES) <= set(CHECKS)


CASES = [
    pytest.param(number, face, backend, id=f"block{number:02d}-{face}-{backend}")
    for number in range(1, len(BLOCKS) + 1)
    for face in ("async", "sync")
    for backend in ("real", "fake")
]


@pytest.mark.parametrize(("number", "face", "backend"), CASES)
def test_seed_example_runs(
    number: int, face: str, backend: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    factories = _client_factories(backend, request)
    inspect_client = factories[1]()
    try:
        inspect_client.flushdb()
        run = _run_block(number, face, factories, Stored(inspect_client), monkeypatch)
        CHECKS[number](run)
    finally:
        inspect_client.close()
