"""Sending commands to the nodes of a Redis Cluster: one round trip per node.

Each command touches keys of one hash slot, and ``keys[i]`` is a key of ``commands[i]``. The
commands are grouped by the node that serves their slot (from the client's slot map) and each
node gets one pipeline. The replies come back in the order of ``commands``, with the exception of
a failed command (or of its whole node) in its place. MOVED, ASK and TRYAGAIN are followed by
redis-py, which also keeps the slot map up to date. A command is never sent a second time after
its connection dropped or timed out: it may have run (several operations are not idempotent).

This has no line-by-line sync form, so it is a pair (``setup_unasync.py`` turns
``async_send_per_node`` into ``sync_send_per_node``):

- asyncio: one ``ClusterPipeline`` per node, all nodes at once. redis-py's asyncio cluster
  pipeline resends only commands the node did not run (MOVED, ASK, TRYAGAIN).
- blocking: one pipeline of the node's own client per node. redis-py's blocking cluster pipeline
  would send again, one by one, the commands of a node whose connection dropped or timed out,
  which may have run already. MOVED, ASK and TRYAGAIN are then sent through the cluster client,
  which follows them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import redis.exceptions

from redis_pydantic._cluster import by_node
from redis_pydantic.errors import TRANSPORT_ERRORS


async def async_send_per_node(
    client: Any, keys: Sequence[str], commands: Sequence[Sequence[Any]]
) -> list[Any]:
    """Send ``commands`` through the asyncio cluster client ``client``: one round trip per node."""
    nodes = list(by_node(client, keys).values())
    replies = await asyncio.gather(
        *(_async_node_pipeline(client, [commands[i] for i in positions]) for _node, positions in nodes)
    )
    out: list[Any] = [None] * len(commands)
    for (_node, positions), node_replies in zip(nodes, replies, strict=True):
        for position, reply in zip(positions, node_replies, strict=True):
            out[position] = reply
    return out


async def _async_node_pipeline(client: Any, commands: list[Sequence[Any]]) -> list[Any]:
    pipe = client.pipeline(transaction=False)
    for command in commands:
        pipe.execute_command(*command)
    try:
        return list(await pipe.execute(raise_on_error=False))
    except TRANSPORT_ERRORS as exc:  # the node could not be reached: none of its replies arrived
        return [exc] * len(commands)


#: Replies saying the node did not run the command: another node serves the slot, or try later.
_NOT_RUN_HERE = (redis.exceptions.AskError, redis.exceptions.TryAgainError)  # MovedError is an AskError


def sync_send_per_node(client: Any, keys: Sequence[str], commands: Sequence[Sequence[Any]]) -> list[Any]:
    """Send ``commands`` through the blocking cluster client ``client``: one round trip per node."""
    out: list[Any] = [None] * len(commands)
    for node, positions in by_node(client, keys).values():
        pipe = client.get_redis_connection(node).pipeline(transaction=False)
        for i in positions:
            pipe.execute_command(*commands[i])
        try:
            node_replies = list(pipe.execute(raise_on_error=False))
        except TRANSPORT_ERRORS as exc:  # the node could not be reached: none of its replies arrived
            node_replies = [exc] * len(positions)
        for position, reply in zip(positions, node_replies, strict=True):
            out[position] = reply
    for i, reply in enumerate(out):
        if isinstance(reply, _NOT_RUN_HERE):
            try:
                out[i] = client.execute_command(*commands[i])
            except TRANSPORT_ERRORS as exc:
                out[i] = exc
    return out
