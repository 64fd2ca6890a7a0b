"""Automatic pipelining: the commands that concurrent asyncio tasks send share round trips.

An operation sent when nothing else is in flight on its client goes at once, exactly as without
this module. One sent while others are in flight waits for the end of the current event-loop
iteration: the commands sent during that iteration go together, as one non-transactional
redis-py pipeline (``client.pipeline(transaction=False)``) written at once on one connection.
Each command keeps its own reply, or its own error, raised only in the task that sent it. (When
waiting gathers no one, as with two tasks taking turns, a few commands in flight are sent at once.)

What stays as it was:

- Atomic steps stay atomic: a ``pipeline()`` block, the first write that creates a document and
  every multi-step operation are one script call (``EVALSHA``), which is one entry of a batch.
  ``MULTI``/``EXEC`` and ``WATCH`` (check-and-set) go on a connection of their own, never here.
- The writes of one task keep their order: a task waits for each operation's reply before it
  sends the next one.
- A task cancelled before its batch is written takes its command out (it is never sent); one
  cancelled later lets the batch finish: redis-py reads every reply of the batch, so no reply is
  left unread on the connection, and the cancelled task's reply is dropped.
- A connection that fails fails the commands of the batch written on it, and no other. A client
  that retries after a dropped connection resends the whole batch (redis-py retries a pipeline
  as one), replies already read included, as it would resend a single command whose reply was
  lost. The library's default client and clients made with ``from_url()`` never resend;
  redis-py's ``Redis(...)`` constructor sets up retries by default.

The blocking face has no event loop to share: its twin, :func:`sync_command_sender`, sends every
command at once. ``setup_unasync.py`` turns ``async_command_sender`` into ``sync_command_sender``.

Which clients: plain ``redis.asyncio.Redis`` clients (the default client, a client given in
``Meta.redis``), and redis-py's asyncio ``RedisCluster`` clients that never send a command again
(see below). A subclass that overrides ``execute_command`` or ``pipeline`` and a client bound to
a single connection send each command at once. A model class with ``Meta.autopipeline = False``
sends its operations at once too (the executor decides that; see ``executor.execute``).

On Redis Cluster the commands of one loop iteration go as one batch per node: each command is
put with the others whose key the same primary serves (from the client's slot map, without
I/O), and each node's batch is one non-transactional ``ClusterPipeline`` on one connection of
that node. A command that names no key the library knows, or keys of several hash slots, is sent
at once by its own task, so redis-py routes (or refuses) it as always. A command that the node
did not run because another node serves its slot now (``MOVED``, ``ASK``, ``TRYAGAIN``) is sent
again by redis-py through the cluster client, which follows the redirection; it had not run, so
it runs once. A node that cannot be reached fails the commands of its batch, and no other
node's; the client is then made to notice it (as a single command would), so that it reloads
its slot map and finds a replica that took over.

Only cluster clients whose ``retry`` never sends a command again (``retries=0``, as the default
cluster client) and that read from primaries only get batches. redis-py's asyncio cluster
pipeline, when its client retries, answers a dropped connection by closing the connections to
every node (failing the batches in flight on the other nodes) and sending the commands again:
every command whose reply was an error or a false value (``0``, ``nil``), so a command that ran
could run twice. Reading from replicas would split one node's batch over several nodes. Such
clients send each command at once, as redis-py would.

Settings: ``REDIS_PYDANTIC_AUTOPIPELINE`` (``0``/``off`` turns it off, ``1``/``on`` is the default)
and ``REDIS_PYDANTIC_AUTOPIPELINE_MAX_BATCH`` (the most commands in one batch), read when a client
is first used; :func:`configure_autopipeline` sets both for one client (its connection pool).
"""

from __future__ import annotations

import asyncio
import operator
import os
import weakref
from collections.abc import Callable
from typing import Any

import redis.asyncio
import redis.asyncio.cluster
import redis.exceptions

from redis_pydantic._paths import hash_slot
from redis_pydantic._scripts import command_keys
from redis_pydantic.errors import InvalidArgumentError, RedisCommandError

#: The most commands one batch holds; more concurrent commands go in several batches, on several
#: connections (Redis works on one while the client writes or reads the other).
DEFAULT_MAX_BATCH = 128

_TRUE = ("1", "on", "true", "yes")
_FALSE = ("0", "off", "false", "no")


# --------------------------------------------------------------------------- settings (no I/O)


class Settings:
    """Whether a client's commands are coalesced, and the most commands in one batch."""

    __slots__ = ("enabled", "max_batch")

    def __init__(self, enabled: bool, max_batch: int) -> None:
        self.enabled = enabled
        self.max_batch = max_batch


def check_max_batch(value: Any, what: str) -> int:
    """``value`` as a batch size: an int >= 1 (InvalidArgumentError otherwise)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidArgumentError(f"{what} must be an int >= 1, not {value!r}")
    return value


def settings_from_env() -> Settings:
    """The settings ``REDIS_PYDANTIC_AUTOPIPELINE`` and ``REDIS_PYDANTIC_AUTOPIPELINE_MAX_BATCH`` give."""
    text = (os.environ.get("REDIS_PYDANTIC_AUTOPIPELINE") or "1").strip().lower()
    if text not in _TRUE + _FALSE:
        raise InvalidArgumentError(
            f"REDIS_PYDANTIC_AUTOPIPELINE must be one of {', '.join(_TRUE + _FALSE)}, not {text!r}"
        )
    size_text = os.environ.get("REDIS_PYDANTIC_AUTOPIPELINE_MAX_BATCH") or str(DEFAULT_MAX_BATCH)
    try:
        size: Any = int(size_text)
    except ValueError:
        size = size_text
    return Settings(text in _TRUE, check_max_batch(size, "REDIS_PYDANTIC_AUTOPIPELINE_MAX_BATCH"))


#: Settings given with configure_autopipeline(), per connection pool of a plain client (the library
#: may send through a companion client on the same pool, see connection.raw_replies, which must
#: obey them too), or per cluster client (which has no companions).
_configured: weakref.WeakKeyDictionary[Any, Settings] = weakref.WeakKeyDictionary()


def _settings_key(client: Any) -> Any:
    return client if isinstance(client, redis.asyncio.cluster.RedisCluster) else client.connection_pool


def configure_autopipeline(client: Any, *, enabled: bool = True, max_batch: int = DEFAULT_MAX_BATCH) -> None:
    """Turn automatic pipelining on or off for ``client`` (asyncio face), and cap its batches.

    With it on (the default), operations that concurrent tasks send through ``client`` while
    others are waiting for their replies share round trips: up to ``max_batch`` commands go as
    one pipeline (on a Redis Cluster client, one pipeline per node). For a
    ``redis.asyncio.Redis`` client it applies to every client on its connection pool. It
    overrides the ``REDIS_PYDANTIC_AUTOPIPELINE`` and ``REDIS_PYDANTIC_AUTOPIPELINE_MAX_BATCH``
    environment variables. Example::

        client = redis.asyncio.Redis.from_url("redis://localhost:6379/0")
        configure_autopipeline(client, enabled=False)  # every operation on its own
    """
    if not isinstance(client, (redis.asyncio.Redis, redis.asyncio.cluster.RedisCluster)):
        raise InvalidArgumentError(
            "configure_autopipeline() takes a redis.asyncio.Redis or redis.asyncio.cluster.RedisCluster "
            f"client, not {client!r}"
        )
    if not isinstance(enabled, bool):
        raise InvalidArgumentError(f"enabled must be a bool, not {enabled!r}")
    settings = Settings(enabled, check_max_batch(max_batch, "max_batch"))
    _configured[_settings_key(client)] = settings
    _forget_all()


# --------------------------------------------------------------------------- batches (no I/O)


#: One command waiting to be sent: its arguments, and the future its task waits on.
Entry = tuple[tuple[Any, ...], "asyncio.Future[Any]"]


def take_batch(queue: list[Entry]) -> list[Entry]:
    """The entries of ``queue`` that are still wanted: a cancelled task's command is never sent."""
    return [entry for entry in queue if not entry[1].done()]


def distribute(batch: list[Entry], replies: list[Any]) -> None:
    """Hand each task its own reply, or its own error (a reply that is an exception)."""
    for (_, future), reply in zip(batch, replies, strict=True):
        if future.done():  # its task was cancelled while the batch was on the wire
            continue
        if isinstance(reply, Exception):
            future.set_exception(reply)
        else:
            future.set_result(reply)


def fail(batch: list[Entry], error: BaseException) -> None:
    """The batch could not be sent or read: each of its tasks gets ``error``."""
    for _, future in batch:
        if future.done():
            continue
        if isinstance(error, asyncio.CancelledError):
            future.cancel()
        else:
            future.set_exception(error)


# --------------------------------------------------------------------------- the asyncio face


class AsyncAutoPipeline:
    """Coalesces the commands that the tasks of one event loop send through one client.

    A command is sent at once when nothing else is in flight on the client. Otherwise it waits
    for the end of the current loop iteration, and the commands sent during that iteration go
    together; one that turns out to be alone is sent by its own task, as if nothing else were
    in flight. While waiting gathers no one (two or three tasks taking turns), commands are sent
    at once as long as fewer than four are in flight: waiting would only delay them.

    It refers to its client and loop weakly: kept in a registry per client, it must not keep
    either alive (a loop that ends forgets its default client).
    """

    __slots__ = (
        "client",
        "loop",
        "max_batch",
        "busy",
        "queue",
        "scheduled",
        "lonely",
        "tasks",
        "__weakref__",
    )

    def __init__(self, client: Any, loop: asyncio.AbstractEventLoop, max_batch: int) -> None:
        self.client = weakref.ref(client)
        self.loop = weakref.ref(loop)
        self.max_batch = max_batch
        #: Commands and batches on the wire.
        self.busy = 0
        #: Commands waiting for the end of this loop iteration.
        self.queue: list[Entry] = []
        #: Whether a task waits for the end of this loop iteration to send the queue.
        self.scheduled = False
        #: Whether the last command that waited for others had no one join it.
        self.lonely = False
        #: The batches being sent (the loop keeps only weak references to tasks).
        self.tasks: set[asyncio.Task[Any]] = set()

    async def execute_command(self, *args: Any) -> Any:
        """Send one command; its reply, or its error raised here."""
        client: Any = self.client()  # alive: the caller holds it
        if self.may_send_now():
            return await self._direct(client, args)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        entry = (args, future)
        queue = self.queue
        queue.append(entry)
        if len(queue) >= self.max_batch:
            self._flush(client, loop)
        elif not self.scheduled:
            # The first command queued in this loop iteration: its task waits for the others
            # that the tasks woken in this iteration send, then sends them all.
            self.scheduled = True
            try:
                await asyncio.sleep(0)  # runs after every callback already due
            except BaseException:
                self.scheduled = False
                future.cancel()  # never sent
                self._flush(client, loop)  # the others go without it
                raise
            self.scheduled = False
            queue = self.queue
            if len(queue) == 1 and queue[0] is entry:  # no one joined: sent now, as if alone
                self.queue = []
                self.lonely = True
                return await self._direct(client, args)
            self.lonely = False
            self._flush(client, loop)
        reply = await future
        if reply is _ALONE:
            return await self._direct(client, args)
        return reply

    def may_send_now(self) -> bool:
        """Whether a command goes at once: nothing else is in flight (one operation at a time
        always), or a few operations that recently had no one to share a batch with."""
        busy = self.busy
        return not busy or (self.lonely and busy < _FEW)

    def sent(self) -> None:
        """A command counted in flight by :func:`async_idle_pipeline` has its reply (or error)."""
        self.busy -= 1

    async def _direct(self, client: Any, args: tuple[Any, ...]) -> Any:
        self.busy += 1
        try:
            return await client.execute_command(*args)
        finally:
            self.busy -= 1

    def _flush(self, client: Any, loop: asyncio.AbstractEventLoop) -> None:
        batch = take_batch(self.queue)
        self.queue = []
        if not batch:
            return
        if len(batch) == 1:
            # No one to share a round trip with: its own task sends it, as if it were alone.
            batch[0][1].set_result(_ALONE)
            return
        self._start(client, loop, batch)

    def _start(self, client: Any, loop: asyncio.AbstractEventLoop, batch: list[Entry]) -> None:
        # A task of its own: cancelling one of the waiting tasks must not stop the batch.
        self.busy += 1
        task = loop.create_task(self._send(client, batch))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _send(self, client: Any, batch: list[Entry]) -> list[Any] | Exception:
        """Send ``batch`` as one pipeline and hand out its replies; returns them (or the error
        that failed the whole batch)."""
        try:
            async with client.pipeline(transaction=False) as pipe:
                for args, _ in batch:
                    pipe.execute_command(*args)
                replies = await pipe.execute(raise_on_error=False)
            if len(replies) != len(batch):  # never expected: redis-py reads one reply per command
                raise RedisCommandError(f"a batch of {len(batch)} commands got {len(replies)} replies")
        except BaseException as exc:
            fail(batch, exc)
            if not isinstance(exc, Exception):
                raise
            return exc
        else:
            distribute(batch, replies)
            return replies  # type: ignore[no-any-return]
        finally:
            self.busy -= 1


class AsyncClusterAutoPipeline(AsyncAutoPipeline):
    """The same for a Redis Cluster client: the commands of one loop iteration go as one batch
    per node (see the module docstring)."""

    __slots__ = ()

    def _flush(self, client: Any, loop: asyncio.AbstractEventLoop) -> None:
        batch = take_batch(self.queue)
        self.queue = []
        if not batch:
            return
        safe = _cluster_batches_safe(client)
        if not safe:  # its retry was changed since: its later commands are sent at once
            _forget(client)
        if len(batch) == 1 or not safe:
            for _, future in batch:
                future.set_result(_ALONE)
            return
        per_node: dict[str, list[Entry]] = {}
        for entry in batch:
            node = node_name_for(client, entry[0])
            if node is None:  # redis-py routes (or refuses) it when its task sends it alone
                entry[1].set_result(_ALONE)
            else:
                per_node.setdefault(node, []).append(entry)
        for group in per_node.values():
            if len(group) == 1:
                group[0][1].set_result(_ALONE)
            else:
                self._start(client, loop, group)

    async def _send(self, client: Any, batch: list[Entry]) -> list[Any] | Exception:
        outcome = await super()._send(client, batch)
        replies = [outcome] if isinstance(outcome, Exception) else outcome
        if any(
            isinstance(reply, _UNREACHABLE) and not isinstance(reply, _NOT_UNREACHABLE) for reply in replies
        ):
            await _notice_unreachable(client, routing_key(batch[0][0]))
        return outcome


#: Errors that say a node could not be reached (or did not answer in time).
_UNREACHABLE = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)
#: ... except these: the client's own pool was full, or the server is loading (it answered).
_NOT_UNREACHABLE = (redis.exceptions.MaxConnectionsError, redis.exceptions.BusyLoadingError)


async def _notice_unreachable(client: Any, key: Any) -> None:
    """Let redis-py find out that the node serving ``key`` is unreachable (as executor.per_slot does).

    redis-py reloads its slot map (and so finds a replica that took over) when one of its own
    commands fails to reach a node, not when a pipeline without retries does. One read-only
    command through the client does it; its own failure is expected and changes nothing.
    """
    try:
        await client.execute_command("EXISTS", key)
    except (redis.exceptions.RedisError, redis.exceptions.RedisClusterException):
        pass


#: While waiting has recently gathered no one, commands are sent at once until this many are on
#: the wire; then they wait again, and a batch that forms turns waiting back on for all.
_FEW = 4

#: What a queued command's future holds when it is alone in its batch: its task sends it itself.
_ALONE: Any = object()


# --------------------------------------------------------------------------- routing on a cluster (no I/O)

#: Commands besides ``JSON.*`` that the library sends with their keys first (see
#: ``_scripts.command_keys``); any other command is sent alone on a cluster, and routed by redis-py.
_KEYED = frozenset({"PEXPIRE", "PERSIST", "PTTL", "DEL", "UNLINK", "EXISTS"})


def routing_key(args: tuple[Any, ...]) -> Any:
    """The key that decides which cluster node runs the command ``args``, or ``None`` when the
    command names no key the library knows of (or its keys are in several hash slots).

    The library's commands name their keys in known places: scripts (``EVALSHA``/``EVAL``)
    declare them after the key count, the ``JSON.*`` commands and those of :data:`_KEYED` start
    with them. Every key of a command the library builds is in one hash slot; a command whose
    keys are not is sent alone, so that redis-py refuses it alone.
    """
    name = args[0]
    if name == "EVALSHA" or name == "EVAL":
        if len(args) < 3:
            return None
        count = args[2]
        if type(count) is not int:
            try:
                count = int(count)
            except (TypeError, ValueError):
                return None
        keys = args[3 : 3 + count]
    elif type(name) is str and ((name.startswith("JSON.") and name != "JSON.DEBUG") or name in _KEYED):
        keys = command_keys(args)
    else:
        return None
    if not keys or type(keys[0]) is not str:
        return None
    if len(keys) > 1:
        slot = hash_slot(keys[0])
        if any(type(key) is not str or hash_slot(key) != slot for key in keys[1:]):
            return None
    return keys[0]


def node_name_for(client: Any, args: tuple[Any, ...]) -> str | None:
    """The name of the primary that serves the key of ``args`` in ``client``'s slot map, or
    ``None`` when the command is sent alone (no key, keys of several slots, a slot the map
    does not cover yet)."""
    key = routing_key(args)
    if key is None:
        return None
    try:
        node = client.get_node_from_key(key)
    except (redis.exceptions.RedisError, redis.exceptions.RedisClusterException):
        return None
    return None if node is None else node.name  # type: ignore[no-any-return]


# --------------------------------------------------------------------------- which clients


def _coalescable(client: Any) -> bool:
    """Whether ``client``'s commands can go in a redis-py pipeline without changing anything."""
    cls = type(client)
    if isinstance(client, redis.asyncio.cluster.RedisCluster):
        return (
            cls.execute_command is redis.asyncio.cluster.RedisCluster.execute_command
            and cls.pipeline is redis.asyncio.cluster.RedisCluster.pipeline
            and "execute_command" not in vars(client)
            and _cluster_batches_safe(client)
        )
    return (
        isinstance(client, redis.asyncio.Redis)
        # A subclass's own execute_command (fakeredis's testing clients, instrumentation) would
        # be skipped by a pipeline; redis-py's Pipeline is such a subclass.
        and cls.execute_command is redis.asyncio.Redis.execute_command
        and cls.pipeline is redis.asyncio.Redis.pipeline
        and "execute_command" not in vars(client)
        and not client.single_connection_client
    )


def _cluster_batches_safe(client: Any) -> bool:
    """Whether the cluster client ``client`` never sends a command again and reads from the
    primaries only: the clients whose per-node batches keep every command's semantics (see the
    module docstring)."""
    return (
        client.retry.get_retries() == 0
        and not client.read_from_replicas
        and getattr(client, "load_balancing_strategy", None) is None
    )


#: Per client: its auto-pipeline, or None when its commands are sent at once.
_pipelines: weakref.WeakKeyDictionary[Any, AsyncAutoPipeline | None] = weakref.WeakKeyDictionary()


def _nobody() -> None:
    return None


#: The last client looked up, as (weak reference, auto-pipeline or None): most programs use one.
_last: tuple[Callable[[], Any], AsyncAutoPipeline | None] = (_nobody, None)


def _forget_all() -> None:
    global _last
    _pipelines.clear()
    _last = (_nobody, None)


def _forget(client: Any) -> None:
    """From now on send ``client``'s commands at once (until configure_autopipeline() is called)."""
    global _last
    _pipelines[client] = None
    _last = (_nobody, None)


def _pipeline_for(client: Any, loop: asyncio.AbstractEventLoop) -> AsyncAutoPipeline | None:
    global _last
    try:
        known = client in _pipelines
    except TypeError:  # not weak-referenceable: sent at once
        return None
    pipeline = _pipelines[client] if known else None
    if not known or (pipeline is not None and pipeline.loop() is not loop):
        pipeline = None
        if _coalescable(client):
            settings = _configured.get(_settings_key(client)) or settings_from_env()
            if settings.enabled:
                kind = (
                    AsyncClusterAutoPipeline
                    if isinstance(client, redis.asyncio.cluster.RedisCluster)
                    else AsyncAutoPipeline
                )
                pipeline = kind(client, loop, settings.max_batch)
        _pipelines[client] = pipeline
    _last = (weakref.ref(client), pipeline)
    return pipeline


def async_command_sender(client: Any) -> Callable[..., Any]:
    """The coroutine function that sends one command through ``client``: its auto-pipeline's
    ``execute_command``, or ``client.execute_command`` itself."""
    loop = asyncio.get_running_loop()
    last = _last
    if last[0]() is client:
        pipeline = last[1]
        if pipeline is None:
            return client.execute_command  # type: ignore[no-any-return]
        if pipeline.loop() is loop:
            return pipeline.execute_command
    pipeline = _pipeline_for(client, loop)
    return client.execute_command if pipeline is None else pipeline.execute_command  # type: ignore[no-any-return]


def async_idle_pipeline(client: Any) -> AsyncAutoPipeline | None:
    """The auto-pipeline of ``client`` (this loop's, as :func:`async_command_sender` found it
    last) when a command may go at once, with that command counted in flight; else ``None``:
    the command goes through :func:`async_command_sender`.

    The caller sends the command with ``client.execute_command`` and then calls
    ``pipeline.sent()``: the auto-pipeline's own path for a command sent at once, without its
    coroutine. This is every sequential operation's path.
    """
    last = _last
    pipeline = last[1]
    if (
        pipeline is not None
        and last[0]() is client
        and pipeline.may_send_now()
        and pipeline.loop() is asyncio.get_running_loop()
    ):
        pipeline.busy += 1
        return pipeline
    return None


def sync_idle_pipeline(client: Any) -> AsyncAutoPipeline | None:
    """The blocking face's twin of :func:`async_idle_pipeline`, never reached (see
    :data:`sync_face_coalesces`): the blocking face has no auto-pipeline."""
    return None


#: Whether a face shares round trips between concurrent operations: the asyncio face does (per
#: event loop), the blocking face sends every command at once. A constant per face, so the
#: blocking face's executor skips the auto-pipeline without a call.
async_face_coalesces = True
sync_face_coalesces = False


#: The function that sends one command through a blocking client: its ``execute_command``, which
#: sends at once (an attrgetter: no Python frame on every operation).
sync_command_sender: Callable[[Any], Callable[..., Any]] = operator.attrgetter("execute_command")
