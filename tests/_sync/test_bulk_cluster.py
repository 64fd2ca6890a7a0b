# This file is generated from tests/_async/test_bulk_cluster.py by setup_unasync.py. Do not edit it by hand.
"""Bulk operations through a Redis Cluster client: one command per hash slot in each batch, SCAN
on every primary. The cluster is one node that serves every slot: it refuses a multi-key command
across slots (CROSSSLOT) like any cluster."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import redis
from redis.backoff import NoBackoff

from redis_pydantic._paths import hash_slot
from redis_pydantic._sync import connection
from redis_pydantic._sync.model import BaseRedisModel
from tests._sync.conftest import recording
from tests._twins import SyncRedisCluster, SyncRetry
from tests.conftest import installed
from tests.redis_server import RedisServer, find_rejson, redis_server_available


class Sheet(BaseRedisModel):
    title: str = ""

    class Meta:
        ttl = 600


def pks_in_several_slots(n: int) -> list[str]:
    pks = [str(i) for i in range(n)]
    assert len({hash_slot(f"Sheet:{pk}") for pk in pks}) > 1
    return pks


@pytest.fixture(scope="module")
def one_node_cluster() -> Iterator[tuple[str, int]]:
    """A cluster-mode server with RedisJSON that serves all 16384 slots."""
    if not redis_server_available() or find_rejson() is None:
        pytest.skip("redis-server or rejson.so is not installed")
    with RedisServer(rejson=True, cluster=True) as server:
        admin = redis.Redis(host="127.0.0.1", port=server.port)
        try:
            admin.execute_command("CLUSTER", "ADDSLOTSRANGE", 0, 16383)
            deadline = time.monotonic() + 10
            while b"cluster_state:ok" not in admin.execute_command("CLUSTER", "INFO"):
                assert time.monotonic() < deadline, "the one-node cluster did not come up"
                time.sleep(0.05)
        finally:
            admin.close()
        yield "127.0.0.1", server.port


@pytest.fixture
def cluster(one_node_cluster) -> Iterator[SyncRedisCluster]:
    host, port = one_node_cluster
    client = SyncRedisCluster(host=host, port=port, retry=SyncRetry(NoBackoff(), 0))
    client.execute_command("FLUSHALL", target_nodes=SyncRedisCluster.PRIMARIES)
    with installed(connection, client):
        yield client
    client.close()


def test_bulk_operations_send_one_command_per_slot_on_a_cluster(cluster, monkeypatch):
    pks = pks_in_several_slots(12)
    sheets = [Sheet(title=f"t{pk}", pk=pk) for pk in pks]
    slots = {hash_slot(sheet.key) for sheet in sheets}
    sent, _ = recording(cluster, monkeypatch)
    Sheet.save_many(sheets)
    calls = [c for c in sent if c[0] == "EVALSHA"]  # (the first call also loads the script)
    assert len(calls) == len(slots)
    assert all(len({hash_slot(k) for k in c[3 : 3 + c[2]]}) == 1 for c in calls)
    for sheet in sheets:
        assert 595_000 < cluster.pttl(sheet.key) <= 600_000

    sent.clear()
    order = [*reversed(pks), pks[0]]
    got = Sheet.get_many(order)
    assert [g.title for g in got] == [f"t{pk}" for pk in order]
    mgets = [c[1:-1] for c in sent if c[0] == "JSON.MGET"]
    assert len(mgets) == len(slots)
    assert all(len({hash_slot(k) for k in keys}) == 1 for keys in mgets)

    assert Sheet.count() == 12
    assert sorted([s.pk for s in Sheet.scan(batch=5)]) == sorted(pks)
    assert Sheet.delete_many(pks + ["absent"]) == 12
    assert Sheet.count() == 0
