"""Redis Cluster without I/O: which hash slot each command touches, batches grouped per slot and
per node, replies put back in queue order, and what the installed redis-py can do.

Redis Cluster runs a command, a script or a MULTI/EXEC transaction only when all its keys are in
one hash slot. A batch over several slots is therefore cut into one group per slot; each group is
still one atomic step (one call of the batch script), and the groups are sent with one round trip
per node. Both faces use these helpers; the I/O is in the faces' executors and in ``_nodes``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import redis
import redis.asyncio.cluster
import redis.cluster

from redis_pydantic._paths import hash_slot
from redis_pydantic._scripts import ScriptCall, batch_call, command_keys
from redis_pydantic.errors import RedisClusterError

Command = tuple[Any, ...] | ScriptCall

_CLUSTER_CLIENTS = (redis.cluster.RedisCluster, redis.asyncio.cluster.RedisCluster)


#: Per client class, whether it is a cluster client: redis-py's cluster classes derive from a
#: typing Protocol, so an isinstance() check against them runs Python code (about 1 µs).
_cluster_classes: dict[type, bool] = {}


def is_cluster(client: Any) -> bool:
    """Whether ``client`` is one of redis-py's Redis Cluster clients (either face)."""
    kind = type(client)
    found = _cluster_classes.get(kind)
    if found is None:
        found = _cluster_classes[kind] = isinstance(client, _CLUSTER_CLIENTS)
    return found


def slots_of(command: Command) -> set[int]:
    """The hash slots of the keys ``command`` touches."""
    return {hash_slot(key) for key in command_keys(command)}


def first_key(command: Command) -> str:
    return str(command_keys(command)[0])


class SlotGroup:
    """The commands of a batch that touch one hash slot, and their positions in the batch."""

    __slots__ = ("slot", "positions", "commands")

    def __init__(self, slot: int) -> None:
        self.slot = slot
        self.positions: list[int] = []
        self.commands: list[Command] = []

    def call(self) -> Command | None:
        """What runs the group as one atomic step: its only command, or one call of the batch
        script; ``None`` when a command is too long for the script (MULTI/EXEC then)."""
        if len(self.commands) == 1:
            return self.commands[0]
        return batch_call(self.commands)


def group_by_slot(commands: Sequence[Command]) -> list[SlotGroup]:
    """``commands`` grouped per hash slot, in the order their slots first appear.

    A command whose own keys are in several slots cannot be sent to a cluster at all:
    RedisClusterError, before anything is sent (the library builds none).
    """
    groups: dict[int, SlotGroup] = {}
    for position, command in enumerate(commands):
        slots = slots_of(command)
        if len(slots) != 1:
            raise RedisClusterError(
                f"a command over keys of {len(slots)} hash slots cannot run on Redis Cluster: "
                + " ".join(str(part) for part in command_keys(command)[:4])
            )
        (slot,) = slots
        group = groups.get(slot)
        if group is None:
            group = groups[slot] = SlotGroup(slot)
        group.positions.append(position)
        group.commands.append(command)
    return list(groups.values())


def group_replies(group: SlotGroup, reply: Any) -> list[Any]:
    """One reply per command of ``group``, from the reply of :meth:`SlotGroup.call`.

    A failure of the whole call (an exception) is the reply of each of its commands.
    """
    if isinstance(reply, BaseException):
        return [reply] * len(group.commands)
    if len(group.commands) == 1:
        return [reply]
    return list(reply)


def in_queue_order(size: int, groups: Iterable[SlotGroup], replies: Iterable[list[Any]]) -> list[Any]:
    """The replies of grouped commands, put back at the positions the commands had in the batch."""
    out: list[Any] = [None] * size
    for group, group_reply in zip(groups, replies, strict=True):
        for position, reply in zip(group.positions, group_reply, strict=True):
            out[position] = reply
    return out


def by_node(client: Any, keys: Sequence[str]) -> dict[str, tuple[Any, list[int]]]:
    """Positions of ``keys`` grouped by the node that serves each (from the client's slot map,
    without I/O): ``{node name: (node, positions)}``."""
    nodes: dict[str, tuple[Any, list[int]]] = {}
    for position, key in enumerate(keys):
        node = client.get_node_from_key(key)
        entry = nodes.get(node.name)
        if entry is None:
            entry = nodes[node.name] = (node, [])
        entry[1].append(position)
    return nodes


# -- what the installed redis-py can do ------------------------------------------------------------


def _version(text: str) -> tuple[int, ...]:
    parts = []
    for part in text.split(".")[:2]:
        digits = "".join(c for c in part if c.isdigit())
        parts.append(int(digits or 0))
    return tuple(parts)


#: The installed redis-py, as (major, minor).
REDIS_PY_VERSION = _version(redis.__version__)
#: redis-py runs MULTI/EXEC (and WATCH) on Redis Cluster from these versions on.
CLUSTER_TRANSACTIONS_SINCE = {"blocking": (6, 1), "asyncio": (6, 2)}


def check_transactions(client: Any, what: str) -> None:
    """Refuse clearly when ``client`` is a cluster client of a redis-py without cluster
    transactions (``what`` says which operation needed one)."""
    if not is_cluster(client):
        return
    face = "asyncio" if isinstance(client, redis.asyncio.cluster.RedisCluster) else "blocking"
    needed = CLUSTER_TRANSACTIONS_SINCE[face]
    if REDIS_PY_VERSION < needed:
        raise RedisClusterError(
            f"{what} needs a MULTI/EXEC transaction on Redis Cluster, which redis-py supports from "
            f"{needed[0]}.{needed[1]} on in the {face} face; redis-py {redis.__version__} is installed. "
            f"Upgrade redis-py (pip install 'redis>={needed[0]}.{needed[1]}')."
        )
