"""Sending operations to Redis: directly, as one atomic batch, or queued in an ambient pipeline."""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from typing import Any, TypeVar

import redis.exceptions
from pydantic import ValidationError

from redis_pydantic._async.connection import client_for
from redis_pydantic._compat import AsyncRedis
from redis_pydantic._ops import Command, Op, Recheck, Single, Stale, fakeredis_get, is_fakeredis, locate
from redis_pydantic._scripts import ScriptCall, batch_call
from redis_pydantic.errors import (
    TRANSPORT_ERRORS,
    PipelineError,
    RedisCommandError,
    RedisPydanticError,
    translate,
)

W = TypeVar("W")

#: The pipeline() batch of the current task (asyncio) or thread (blocking face).
current_batch: contextvars.ContextVar[Batch | None] = contextvars.ContextVar(
    "redis_pydantic_async_batch", default=None
)


async def execute(client: Any, command: Command) -> Any:
    """Send one command; scripts go by EVALSHA and are loaded with EVAL when the server lacks them."""
    if type(command) is tuple and command[0] != "JSON.GET":  # the common case first
        return await client.execute_command(*command)
    if isinstance(command, ScriptCall):
        try:
            return await client.execute_command(*command.evalsha_args())
        except redis.exceptions.NoScriptError:
            return await client.execute_command(*command.eval_args())
    if command[0] == "JSON.GET" and len(command) == 3 and command[2] != "$" and is_fakeredis(client):
        return fakeredis_get(await client.execute_command(*command, command[2]), command[2])
    return await client.execute_command(*command)


async def atomically(client: Any, commands: list[Command]) -> list[Any]:
    """Run ``commands`` as one atomic step, in one round trip, and return their replies.

    They go as one call of the batch script (the replies of a failed command are exceptions in
    the list; like EXEC, Redis runs the others and does not roll back), or, when a command is too
    long for Lua, as MULTI/EXEC.
    """
    call = batch_call(commands)
    if call is None:
        async with client.pipeline(transaction=True) as pipe:
            for command in commands:
                # Inside MULTI a missing script would abort the transaction: scripts go by EVAL.
                pipe.execute_command(*(command.eval_args() if isinstance(command, ScriptCall) else command))
            return list(await pipe.execute(raise_on_error=False))
    replies = await execute(client, call)
    if len(replies) != len(commands):  # never expected: the script answers once per command
        raise RedisCommandError(f"the batch of {len(commands)} commands got {len(replies)} replies")
    return replies  # type: ignore[no-any-return]


async def transaction(client: Any, commands: list[Command]) -> list[Any]:
    """Run ``commands`` atomically (see :func:`atomically`) and return their replies.

    A command that Redis refuses is raised (the others have run: Redis does not roll back), so
    callers never apply local changes for a failed transaction.
    """
    replies = await atomically(client, commands)
    for reply in replies:
        if isinstance(reply, Exception):
            raise reply
    return replies


async def run(op: Op, *, direct: bool = False) -> Any:
    """Send ``op`` (or queue it in the current pipeline) and apply its replies locally.

    ``direct`` sends it now even inside a pipeline: reads must answer inside the block.
    """
    commands = op.commands
    if not commands:
        return None
    root = op.root
    batch = None if direct else current_batch.get()
    if batch is not None and not batch.closed:
        batch.add(op)
        return None
    client = client_for(op.cls)
    # Reads never create a document; a never-saved model's first write does.
    create = (
        root._rp_create_command()
        if root is not None and not direct and not op.creates and root._rp_state == 0
        else None
    )
    try:
        if create is not None:
            replies = (await transaction(client, [create, *commands]))[1:]
        elif len(commands) == 1:
            replies = [await execute(client, commands[0])]
        else:
            replies = await transaction(client, commands)
    except TRANSPORT_ERRORS as exc:
        raise translate(exc, client, root.key if root is not None else None) from exc
    if root is not None and root._rp_state != 1:  # 1: stored, later ops require the document
        root._rp_mark_stored()
    try:
        return op.apply(replies)
    except (Stale, Recheck) as exc:
        return await _recover(exc, op.reload)


async def run_single(
    single: Single | None,
    *,
    read: bool = False,
    returns_value: bool = False,
    reload: Callable[[], Single] | None = None,
    what: str = "",
) -> Any:
    """Send a one-command operation and apply its reply: the short path of :func:`run`.

    Inside a pipeline, or for the first write of a never-saved model, it becomes an :class:`Op`
    and goes through :func:`run`. ``read`` operations are never queued and never create.
    """
    if single is None:
        return None
    root, command, on_reply = single
    if not read:
        batch = current_batch.get()
        if batch is not None and not batch.closed:
            batch.add_single(single, returns_value, what, reload)
            return None
        if root._rp_state != 1:  # never saved: the document is created in the same atomic batch
            op = Op(root, [command], lambda replies: on_reply(replies[0]), returns_value=returns_value)
            op.reload, op.what = reload, what
            return await run(op)
    client = client_for(type(root))
    try:
        reply = await execute(client, command)
    except TRANSPORT_ERRORS as exc:
        raise translate(exc, client, root.key) from exc
    try:
        result = on_reply(reply)
    except (Stale, Recheck) as exc:
        return await _recover(exc, reload)
    if root._rp_state != 1:
        root._rp_mark_stored()
    return result


async def _recover(exc: Stale | Recheck, reload: Callable[[], Single] | None) -> Any:
    """Finish an operation whose reply needed one more read."""
    if isinstance(exc, Recheck):
        return await run(exc.op, direct=True)
    # Redis made the change, but the local value was out of date: read the field again.
    if reload is not None:
        await run_single(reload(), read=True)
    return exc.args[0] if exc.args else None


async def send_during(
    cls: type, command: tuple[Any, ...], work: Callable[[], W], *, overlap: bool
) -> tuple[Any, W]:
    """Send ``command`` straight to Redis and run ``work()``, while Redis handles it if ``overlap``.

    Overlapping takes a connection from the client's pool, has redis-py write the command on
    it, runs ``work()``, then has redis-py read the reply. It applies to a plain redis-py client
    with a pool; any other client (a subclass, fakeredis, a single-connection client) runs
    ``work()`` first. ``command`` must be safe to send twice: when the connection turns out to be
    broken, it is sent again through ``execute_command``, with the client's retry policy.
    """
    client = client_for(cls)
    try:
        connection = await _take_connection(client) if overlap else None
        if connection is None:
            done = work()
            return await client.execute_command(*command), done
        try:
            return await _write_work_read(client, connection, command, work)
        finally:
            await client.connection_pool.release(connection)
    except TRANSPORT_ERRORS as exc:
        raise translate(exc, client, None) from exc


#: Errors after which a connection is unusable (redis-py has disconnected it already).
_LOST = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError)


async def _take_connection(client: Any) -> Any:
    if (
        type(client) is not AsyncRedis
        or client.connection is not None
        or getattr(client, "single_connection_client", False)
    ):
        return None
    pool = client.connection_pool
    try:
        pending = pool.get_connection()
    except TypeError:  # redis-py before 5.3 wants a command name
        pending = pool.get_connection("JSON.MSET")
    return await pending


async def _write_work_read(
    client: Any, connection: Any, command: tuple[Any, ...], work: Callable[[], W]
) -> tuple[Any, W]:
    try:
        await connection.send_command(*command)
    except _LOST:  # e.g. a pooled connection the server closed: send it the usual way
        done = work()
        return await client.execute_command(*command), done
    try:
        done = work()  # Redis handles the command meanwhile
    except BaseException:
        try:  # the command is on its way: take its reply off the connection, then raise
            await client.parse_response(connection, command[0])
        except BaseException:  # noqa: BLE001 - the work's exception is the one to raise
            await connection.disconnect()
        raise
    try:
        return await client.parse_response(connection, command[0]), done
    except _LOST:
        return await client.execute_command(*command), done
    except redis.exceptions.ResponseError:
        raise  # an error reply leaves the connection clean
    except BaseException:  # cancelled or interrupted while reading: the reply may be half read
        await connection.disconnect()
        raise


async def read(cls: type, key: str, command: Command) -> Any:
    """Send a read command straight to Redis, even inside a pipeline."""
    client = cls._rp_client()  # type: ignore[attr-defined]
    try:
        return await execute(client, command)
    except TRANSPORT_ERRORS as exc:
        raise translate(exc, client, key) from exc


class Batch:
    """The operations queued by ``pipeline()``, sent as one atomic step when the block ends."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.closed = False  # set when the pipeline() block ends; later writes go straight through
        self.commands: list[Command] = []
        #: Per queued operation: first and last+1 command index, what applies the replies, the
        #: read that refreshes a stale local value, and whether it is a one-command operation.
        self.entries: list[tuple[int, int, Callable[[Any], Any], Callable[[], Single] | None, bool]] = []
        self.roots: dict[int, Any] = {}
        self.last_root: Any = None  # most ops of a block write the same model: admitted already
        self.checked: set[type] = set()

    def _admit(self, cls: type, root: Any, returns_value: bool, what: str, creates: bool) -> None:
        if returns_value:
            raise PipelineError(f"{what} is not supported inside pipeline(): it needs a reply from Redis")
        if cls not in self.checked:
            if client_for(cls) is not self.client:
                raise PipelineError("all models used inside one pipeline() must use the same Redis client")
            self.checked.add(cls)
        if root is not None and id(root) not in self.roots:
            create = None if creates else root._rp_create_command()
            if create is not None:
                self.commands.append(create)
            self.roots[id(root)] = root
        self.last_root = root

    def add(self, op: Op) -> None:
        self._admit(op.cls, op.root, op.returns_value, op.what, op.creates)
        start = len(self.commands)
        self.commands.extend(op.commands)
        self.entries.append((start, len(self.commands), op.apply, op.reload, False))

    def add_single(
        self, single: Single, returns_value: bool, what: str, reload: Callable[[], Single] | None
    ) -> None:
        root = single[0]
        if returns_value or root is not self.last_root:
            self._admit(type(root), root, returns_value, what, False)
        commands = self.commands
        index = len(commands)
        commands.append(single[1])
        self.entries.append((index, index + 1, single[2], reload, True))

    async def execute(self) -> None:
        if not self.commands:
            return
        try:
            replies = await atomically(self.client, self.commands)
        except TRANSPORT_ERRORS as exc:
            first_root = next(iter(self.roots.values()), None)
            raise translate(exc, self.client, first_root.key if first_root is not None else None) from exc
        failures = [(i, self.commands[i], r) for i, r in enumerate(replies) if isinstance(r, Exception)]
        if not failures:
            for root in self.roots.values():
                root._rp_mark_stored()
            for start, end, apply, reload, single in self.entries:
                try:
                    apply(replies[start] if single else list(replies[start:end]))
                except Stale:
                    if reload is not None:
                        await run_single(reload(), read=True)
                except RedisCommandError as exc:
                    # Some commands answer nil instead of an error (JSON.ARRAPPEND on a $ path
                    # that no longer holds a list): that op failed too and was not applied.
                    failures.append((start, self.commands[start], exc))
        if failures:
            for root in self.roots.values():
                await _reload_quietly(root)
            listed = "; ".join(f"#{i} {_describe(c)}: {r}" for i, c, r in failures)
            raise PipelineError(
                f"{len(failures)} of {len(self.commands)} pipelined commands failed ({listed}). "
                "Redis applied the others; the models involved were reloaded.",
                failures,
            )


def in_pipeline() -> bool:
    """Whether writes made now are queued in an open ``pipeline()`` block."""
    batch = current_batch.get()
    return batch is not None and not batch.closed


class PipelineScope:
    """The ``pipeline()`` block of a model: the batch is opened on entry and sent on exit."""

    __slots__ = ("model", "refresh", "batch", "token")

    def __init__(self, model: Any, refresh: bool) -> None:
        self.model = model
        self.refresh = refresh
        self.batch: Batch | None = None

    async def __aenter__(self) -> Any:
        outer = current_batch.get()
        if outer is not None and not outer.closed:
            return self.model  # a pipeline inside another joins it
        model = self.model
        root = locate(model)[0]
        if self.refresh and getattr(root, "_rp_state", 0) == 1:  # 1: stored
            await model.load()
        self.batch = Batch(type(root)._rp_client())
        self.token = current_batch.set(self.batch)
        return model

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        batch = self.batch
        if batch is None:
            return
        self.batch = None
        current_batch.reset(self.token)
        # Tasks started inside the block inherit it; their later writes must not be lost.
        batch.closed = True
        if exc_type is None:  # a raising block sends nothing
            await batch.execute()


def _describe(command: Command) -> str:
    if isinstance(command, ScriptCall):
        return f"script {command.script.name}"
    return " ".join(str(part) for part in command[:3])


async def _reload_quietly(root: Any) -> None:
    try:
        await root.load()
    except (RedisPydanticError, ValidationError):
        # Best effort: the pipeline may have deleted the document, or another client may have
        # left it in a shape the model no longer accepts; the PipelineError is what matters.
        pass
