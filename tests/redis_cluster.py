"""Start a throw-away Redis Cluster (3 primaries, 3 replicas, RedisJSON) for the tests.

Six ``redis-server`` processes in cluster mode, each on a free port of 127.0.0.1 with its own
temporary directory (its ``cluster-config-file`` lives there) and ``--save ""``, joined with
``redis-cli --cluster create ... --cluster-replicas 1``. ``cluster-node-timeout`` is lowered so a
replica takes over a dead primary within a few seconds. Every process is stopped by its pid.

Run ``python -m tests.redis_cluster`` for a self-check that needs no pytest.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Sequence
from types import TracebackType

import redis
from typing_extensions import Self

from redis_pydantic import _paths
from tests.redis_server import HOST, RedisServer

#: Milliseconds without an answer after which the cluster marks a node as failed.
NODE_TIMEOUT_MS = 2000


def redis_cli_available() -> bool:
    """Whether ``redis-cli`` (which joins the nodes into a cluster) is on PATH."""
    return shutil.which("redis-cli") is not None


class RedisCluster:
    """A private Redis Cluster of ``primaries`` primaries with one replica each."""

    def __init__(self, primaries: int = 3, *, timeout: float = 30.0, extra_args: Sequence[str] = ()) -> None:
        self.size = primaries * 2
        self.primaries = primaries
        self.timeout = timeout
        self.extra_args = list(extra_args)
        self.servers: list[RedisServer] = []

    # -- addresses -------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """The ``redis://`` URL of one node (a cluster client finds the others from it)."""
        return self.servers[0].url

    @property
    def ports(self) -> list[int]:
        return [server.port for server in self.servers]

    def server_at(self, port: int) -> RedisServer:
        return next(server for server in self.servers if server.port == port)

    def node_client(self, port: int) -> redis.Redis:
        """A plain client of one node (close it after use)."""
        return redis.Redis(host=HOST, port=port, socket_timeout=5)

    def _ask(self, port: int, *command: str) -> str:
        client = self.node_client(port)
        try:
            reply = client.execute_command(*command)
        finally:
            client.close()
        return reply.decode() if isinstance(reply, bytes) else str(reply)

    def primary_ports(self) -> list[int]:
        """The ports of the nodes that serve slots now, as the first live node sees it."""
        for server in self.servers:
            if server.running:
                nodes = self._ask(server.port, "CLUSTER", "NODES")
                return sorted(
                    int(line.split()[1].split("@")[0].rsplit(":", 1)[1])
                    for line in nodes.splitlines()
                    # a live primary, with slots after its 8 fields
                    if "master" in line.split()[2] and "fail" not in line.split()[2] and len(line.split()) > 8
                )
        raise RuntimeError("no node of the cluster is running")

    def primary_for_slot(self, slot: int) -> int:
        """The port of the primary that serves ``slot`` now."""
        for server in self.servers:
            if server.running:
                client = self.node_client(server.port)
                try:
                    for start, end, primary, *_replicas in client.execute_command("CLUSTER", "SLOTS"):
                        if int(start) <= slot <= int(end):
                            return int(primary[1])
                finally:
                    client.close()
        raise RuntimeError(f"no node serves slot {slot}")

    # -- life cycle ------------------------------------------------------------------------------
    def start(self) -> Self:
        try:
            for _ in range(self.size):
                server = RedisServer(
                    rejson=True,
                    cluster=True,
                    extra_args=[
                        "--cluster-config-file",
                        "nodes.conf",
                        "--cluster-node-timeout",
                        str(NODE_TIMEOUT_MS),
                        # Replicas sync at once instead of waiting for more replicas (5 s).
                        "--repl-diskless-sync-delay",
                        "0",
                        *self.extra_args,
                    ],
                )
                self.servers.append(server.start())
            self._create()
            self.wait_until_ok()
        except BaseException:
            self.stop()
            raise
        return self

    def _create(self) -> None:
        command = [
            "redis-cli",
            "--cluster",
            "create",
            *(f"{HOST}:{port}" for port in self.ports),
            "--cluster-replicas",
            "1",
            "--cluster-yes",
        ]
        done = subprocess.run(command, capture_output=True, text=True, timeout=self.timeout, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"redis-cli --cluster create failed:\n{done.stdout}\n{done.stderr}")

    def wait_until_ok(self, timeout: float | None = None) -> None:
        """Return once every running node says ``cluster_state:ok`` and knows every primary, and
        every replica receives its primary's writes.

        A replica that has just loaded its primary's data gets the stream of writes only after
        its first acknowledgement (up to a second later): until then a write acknowledged by the
        primary is lost if the primary dies. So each primary writes a key and waits (``WAIT``)
        until its replicas have it.
        """
        deadline = time.monotonic() + (timeout or self.timeout)
        last = ""
        while time.monotonic() < deadline:
            last = self._not_ready()
            if not last:
                return
            time.sleep(0.1)
        raise RuntimeError(f"the cluster did not become ready: {last}")

    def _not_ready(self) -> str:
        live = [server for server in self.servers if server.running]
        slots_seen = set()
        for server in live:
            info = self._ask(server.port, "CLUSTER", "INFO")
            if "cluster_state:ok" not in info:
                return f"{server.port}: not cluster_state:ok"
            client = self.node_client(server.port)
            try:
                slots = client.execute_command("CLUSTER", "SLOTS")
                replication = client.info("replication")
            finally:
                client.close()
            slots_seen.add(tuple(sorted((int(s[0]), int(s[1]), int(s[2][1])) for s in slots)))
            if replication.get("role") == "slave" and replication.get("master_link_status") != "up":
                return f"{server.port}: replica not linked to its primary"
        if len(slots_seen) != 1:
            return "the nodes do not agree on who serves which slots"
        for start, _end, port in next(iter(slots_seen)):
            if not self._replicas_receive_writes(port, start):
                return f"{port}: a replica does not receive the primary's writes yet"
        return ""

    def _replicas_receive_writes(self, port: int, slot: int) -> bool:
        client = self.node_client(port)
        try:
            replicas = int(client.info("replication").get("connected_slaves", 0))
            if not replicas:
                return True  # a replica that took over: its own primary is gone
            key = "{" + _paths._tag_of_slot(slot) + "}/ready"
            client.set(key, "1")
            acknowledged = int(client.execute_command("WAIT", replicas, 100))
            client.delete(key)
        finally:
            client.close()
        return acknowledged >= replicas

    def stop(self) -> None:
        """Stop every node (by pid) and remove their temporary directories (idempotent)."""
        for server in self.servers:
            server.stop()
        self.servers = []

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _self_check() -> int:
    started = time.monotonic()
    with RedisCluster() as cluster:
        print(f"cluster of {cluster.ports} ready in {time.monotonic() - started:.1f}s")
        client = redis.cluster.RedisCluster.from_url(cluster.url)
        try:
            for i in range(20):
                client.execute_command("JSON.SET", f"k{i}", "$", '{"a":1}')
            print("primaries:", cluster.primary_ports())
        finally:
            client.close()
    print("ok: cluster stopped and temp dirs removed")
    return 0


if __name__ == "__main__":
    raise SystemExit(_self_check())
