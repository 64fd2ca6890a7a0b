"""Sending operations to Redis: directly, as one atomic batch, or queued in an open pipeline."""

from __future__ import annotations

import contextvars
from typing import Any

import redis.exceptions
from pydantic import ValidationError

from redis_pydantic import _cluster
from redis_pydantic._autopipeline import async_command_sender, async_face_coalesces, async_idle_pipeline
from redis_pydantic._base import refresh_command, refresh_of
from redis_pydantic._compat import async_sleep
from redis_pydantic._nodes import async_send_per_node
from redis_pydantic._ops import (
    NEW,
    OPTIMISTIC_ATTEMPTS,
    READ_RESULT,
    STORED,
    Access,
    Command,
    FieldCommand,
    Op,
    Then,
    field_step,
    locate,
    record_applied,
    refuse_before_create,
    retry_pause,
    step_op,
    write_starts,
)
from redis_pydantic._scripts import ScriptCall, batch_call
from redis_pydantic.errors import (
    TRANSPORT_ERRORS,
    ConflictError,
    CrossSlotError,
    PipelineError,
    RedisCommandError,
    RedisPydanticError,
    translate,
)

from .connection import client_for

READ, UPDATE = Access.READ, Access.UPDATE

#: The pipeline() batch of the current task (asyncio) or thread (blocking face).
current_batch: contextvars.ContextVar[Batch | None] = contextvars.ContextVar(
    f"{__name__}.current_batch", default=None
)


async def execute(client: Any, command: Command, coalesce: bool = True) -> Any:
    """Send one command; scripts go by EVALSHA and are loaded with EVAL when the server lacks them.

    In the asyncio face, commands sent while others are in flight share round trips (see
    :mod:`redis_pydantic._autopipeline`), unless ``coalesce`` is false (``Meta.autopipeline``).
    """
    # Sent at once when nothing else is in flight: the auto-pipeline's own path, without its
    # coroutine (see run()).
    pipeline = async_idle_pipeline(client) if async_face_coalesces and coalesce else None
    send = async_command_sender(client) if coalesce and pipeline is None else client.execute_command
    try:
        if isinstance(command, tuple):
            return await send(*command)
        try:
            return await send(*command.evalsha_args())
        except redis.exceptions.NoScriptError:
            return await send(*command.eval_args())
    finally:
        if pipeline is not None:
            pipeline.sent()


async def atomically(client: Any, commands: list[Command], coalesce: bool = True) -> list[Any]:
    """Run ``commands`` as one atomic step, in one round trip, and return their replies.

    They go as one call of the batch script (the replies of a failed command are exceptions in
    the list; like EXEC, Redis runs the others and does not roll back), or, when a command is too
    long for Lua, as MULTI/EXEC.
    """
    call = batch_call(commands)
    if call is None:
        _cluster.check_transactions(client, "a batch with a command too long for a script")
        async with client.pipeline(transaction=True) as pipe:
            for command in commands:
                # Inside MULTI a missing script would abort the transaction: scripts go by EVAL.
                pipe.execute_command(*(command.eval_args() if isinstance(command, ScriptCall) else command))
            return list(await pipe.execute(raise_on_error=False))
    replies = await execute(client, call, coalesce)
    if len(replies) != len(commands):  # never expected: the script answers once per command
        raise RedisCommandError(f"the batch of {len(commands)} commands got {len(replies)} replies")
    return replies  # type: ignore[no-any-return]


async def transaction(client: Any, commands: list[Command], coalesce: bool = True) -> list[Any]:
    """Run ``commands`` atomically (see :func:`atomically`) and return their replies.

    A command that Redis refuses is raised (the others have run: Redis does not roll back), so
    callers never apply local changes for a failed transaction.
    """
    replies = await atomically(client, commands, coalesce)
    for reply in replies:
        if isinstance(reply, Exception):
            raise reply
    return replies


def refresh_for(op: Op) -> tuple[Any, ...] | None:
    """The command that extends the expiry of the document ``op`` reads or writes, when its class
    has ``Meta.refresh_ttl`` (sent with the operation, in the same round trip)."""
    if not op.refresh or not op.cls.Meta.refresh_ttl:
        return None
    ms = refresh_of(op.cls)
    if ms is None:
        return None
    root = op.root
    key = op.key if op.key is not None else root._rp_key or root.key
    return refresh_command(key, ms)


async def per_slot(client: Any, commands: list[Command]) -> list[Any]:
    """Send ``commands`` (each touching one hash slot) to the Redis Cluster of ``client``, with one
    round trip per node, and return their replies in order.

    A command that failed has its exception in its place (the library's error, naming the node),
    and the others have run. A node that lacks a script gets it with EVAL (each node has its own
    script cache).
    """
    keys = [_cluster.first_key(command) for command in commands]
    wire = [command.evalsha_args() if isinstance(command, ScriptCall) else command for command in commands]
    replies = await async_send_per_node(client, keys, wire)
    missing = [i for i, reply in enumerate(replies) if isinstance(reply, redis.exceptions.NoScriptError)]
    if missing:
        loaded = await async_send_per_node(
            client,
            [keys[i] for i in missing],
            [commands[i].eval_args() for i in missing],  # type: ignore[union-attr]
        )
        for i, reply in zip(missing, loaded, strict=True):
            replies[i] = reply
    unreachable: dict[str, str] = {}
    for i, reply in enumerate(replies):
        if isinstance(reply, Exception):
            if isinstance(reply, redis.exceptions.ConnectionError):
                unreachable.setdefault(client.get_node_from_key(keys[i]).name, keys[i])
            replies[i] = _library_error(reply, client, keys[i])
    for key in unreachable.values():
        await _notice_unreachable(client, key)
    return replies


def _library_error(exc: Exception, client: Any, key: str) -> Exception:
    """``exc`` as the library's error (naming the node of ``key`` on a cluster)."""
    if isinstance(exc, RedisPydanticError):
        return exc
    return translate(exc, client, key)  # type: ignore[return-value]


async def _notice_unreachable(client: Any, key: str) -> None:
    """Let redis-py find out that the node serving ``key`` is unreachable.

    redis-py reloads its slot map (and so finds a replica that took over) when one of its own
    commands fails to reach a node, not when a pipeline without retries does. One read-only
    command through the client does it, so the next operation on these slots goes to the new
    primary. Its own failure is expected and changes nothing.
    """
    try:
        await client.execute_command("EXISTS", key)
    except TRANSPORT_ERRORS:
        pass


async def run(op: Op | None) -> Any:
    """Send ``op`` and apply its replies locally; return its result.

    Inside an open ``pipeline()`` block a write is queued instead (and returns ``None``); reads
    are always sent at once. A never-saved model's first update creates its document in the
    same atomic step.
    """
    if op is None:
        return None
    root = op.root
    access = op.access
    if root is not None and root._rp_changes and access is not READ and not op.replaces:
        write_starts(root, op.fields)
    if access is not READ:
        batch = current_batch.get()
        if batch is not None and not batch.closed:
            batch.add(op)
            return None
    commands = op.commands
    if not commands:  # a check-and-set computes its commands; others may have none to send
        if op.optimistic is not None:
            return await _run_optimistic(op)
        return op.apply([])
    cls = op.cls
    # Read once, through the instance when there is one: pydantic's metaclass has __getattr__,
    # which makes class attributes slow to read from the class itself.
    meta = op.meta or (cls.Meta if root is None else root.Meta)
    client = client_for(cls, meta)
    refresh = None
    if meta.refresh_ttl and op.refresh:
        refresh = refresh_for(op)
        if refresh is not None:
            commands = [*commands, refresh]
    # Read once (a model's attributes are slow to read: pydantic's __getattr__): a stored model
    # stays stored.
    stored = root is not None and root._rp_state is STORED
    existed = False
    try:
        if (
            not stored
            and access is UPDATE
            and root._rp_state is NEW
            and (create := root._rp_create_command()) is not None
        ):
            replies = await transaction(client, [create, *commands], meta.autopipeline)
            # JSON.SET NX (and the create script) answer nil when the key exists already:
            # another client created the document, and the operation applied to it.
            existed = replies.pop(0) is None
        elif len(commands) == 1:
            # The path of most operations: one command (execute(), without its coroutine).
            command = commands[0]
            if type(command) is not tuple:
                replies = [await execute(client, command, meta.autopipeline)]
            elif async_face_coalesces and meta.autopipeline:
                pipeline = async_idle_pipeline(client)
                if pipeline is None:
                    replies = [await async_command_sender(client)(*command)]
                else:  # sent at once: the auto-pipeline's own path, without its coroutine
                    try:
                        replies = [await client.execute_command(*command)]
                    finally:
                        pipeline.sent()
            else:
                replies = [await client.execute_command(*command)]
        elif op.per_slot and _cluster.is_cluster(client):
            replies = await per_slot(client, commands)  # apply() gets the failures in place
        else:
            replies = await transaction(client, commands, meta.autopipeline)
    except TRANSPORT_ERRORS as exc:
        raise translate(exc, client, root.key if root is not None else op.key) from exc
    if refresh is not None:
        del replies[-1]
    if root is not None:
        if not stored and root._rp_state is not STORED:
            root._rp_mark_stored()
            if existed:
                return await _then_read(root, op, replies)
        outcome = op.apply(replies)
        if root._rp_changes:
            record_applied(root, op.fields)
    else:
        outcome = op.apply(replies)
    if type(outcome) is Then:
        return await _then(outcome)
    return outcome


async def _then_read(root: Any, op: Op, replies: list[Any]) -> Any:
    """Apply ``op``'s replies, then read ``root`` whole: a never-saved model whose document
    another client created meanwhile holds its own values locally, not the document's."""
    try:
        outcome = op.apply(replies)
        if type(outcome) is Then:
            outcome = await _then(outcome)
    finally:
        await reload_quietly(root)
    return outcome


async def run_field(kind: FieldCommand, value: Any, arg: Any = None) -> Any:
    """Run the field operation ``kind`` with ``arg`` on the field that ``value`` was read from,
    and return its result.

    The common case, a stored model with nothing else to do (no open ``pipeline()`` for a write,
    no ``Meta.refresh_ttl``), sends the operation's one command at once, with no :class:`Op`
    built. Every other case runs the operation as an Op through :func:`run`, which decides.
    """
    step = field_step(kind, value._rp_owner, value._rp_spec, arg)
    if not isinstance(step, tuple):  # a check-and-set, or nothing to do
        return await run(step)
    root = step[1]
    if root._rp_state is STORED and (
        kind.access is READ or (batch := current_batch.get()) is None or batch.closed
    ):
        meta = root.Meta  # through the instance: the class's metaclass __getattr__ slows it
        if not meta.refresh_ttl:
            client = client_for(type(root), meta)
            command = step[8]
            if root._rp_changes and kind.access is not READ and not kind.replaces:
                write_starts(root, (step[4],))
            try:
                if type(command) is not tuple:
                    reply = await execute(client, command, meta.autopipeline)
                elif async_face_coalesces and meta.autopipeline:
                    pipeline = async_idle_pipeline(client)
                    if pipeline is None:
                        reply = await async_command_sender(client)(*command)
                    else:  # sent at once: the auto-pipeline's own path, without its coroutine
                        try:
                            reply = await client.execute_command(*command)
                        finally:
                            pipeline.sent()
                else:
                    reply = await client.execute_command(*command)
            except TRANSPORT_ERRORS as exc:
                raise translate(exc, client, step[2]) from exc
            outcome = kind.finish(step, reply)
            if root._rp_changes:  # (read again: a lock() block may have begun meanwhile)
                record_applied(root, (step[4],))
            if type(outcome) is Then:
                return await _then(outcome)
            return outcome
    if root._rp_state is NEW and kind.access is not READ:  # its document is created first
        refuse_before_create(kind, step)
    return await run(step_op(kind, step))


async def _then(then: Then) -> Any:
    result = await run(then.op)
    return result if then.result is READ_RESULT else then.result


async def _run_optimistic(op: Op) -> Any:
    """Check-and-set: watch the key, read, compute the writes, send them in MULTI/EXEC; again if
    another client wrote in between."""
    root = op.root
    check = op.optimistic
    assert check is not None
    client = client_for(op.cls)
    _cluster.check_transactions(client, f"{op.what} (a check-and-set)")
    create = root._rp_create_command() if root is not None and root._rp_state is NEW else None
    try:
        async with client.pipeline(transaction=True) as pipe:
            for attempt in range(OPTIMISTIC_ATTEMPTS):
                try:
                    await pipe.watch(check.key)
                    reply = await execute(pipe, check.read)
                    if reply is None and create is not None:
                        # A never-saved model: decided on the document that creating it would
                        # write, and created in the same step, so a refused operation writes nothing.
                        commands = [create, *check.decide(check.reply_once_created(create))]
                    else:
                        commands = check.decide(reply)
                    refresh = refresh_for(op)
                    if refresh is not None:
                        commands = [*commands, refresh]
                    pipe.multi()
                    for command in commands:
                        pipe.execute_command(
                            *(command.eval_args() if isinstance(command, ScriptCall) else command)
                        )
                    replies = list(await pipe.execute(raise_on_error=True))
                    if refresh is not None:
                        del replies[-1]
                    if commands[0] is create:
                        del replies[0]
                    break
                except redis.exceptions.WatchError:
                    if attempt + 1 < OPTIMISTIC_ATTEMPTS:
                        await async_sleep(retry_pause(attempt))
            else:
                raise ConflictError(
                    f"{op.what} gave up after {OPTIMISTIC_ATTEMPTS} attempts: other clients kept "
                    f"changing the document at {check.key!r}"
                )
    except TRANSPORT_ERRORS as exc:
        raise translate(exc, client, check.key) from exc
    if root is not None and root._rp_state is not STORED:
        root._rp_mark_stored()
        if create is not None and commands[0] is not create:  # the document existed already
            return await _then_read(root, op, replies)
    outcome = op.apply(replies)
    if root is not None and root._rp_changes:
        record_applied(root, op.fields)
    if type(outcome) is Then:
        return await _then(outcome)
    return outcome


class Batch:
    """The operations queued by ``pipeline()``, sent as one atomic step when the block ends."""

    def __init__(self, client: Any, atomic: bool = False) -> None:
        self.client = client
        self.closed = False  # set when the pipeline() block ends; later writes go straight through
        #: pipeline(atomic=True): every write must be in the hash slot of the first one.
        self.atomic = False
        self.slot: int | None = None
        self.slot_key = ""
        self.commands: list[Command] = []
        #: Per queued operation: its first and last+1 command index, and the operation.
        self.entries: list[tuple[int, int, Op]] = []
        self.roots: dict[int, Any] = {}
        #: The index of each command that creates a never-saved model's document, and the model.
        self.creates: list[tuple[int, Any]] = []
        self.checked: set[type] = set()
        #: False once an operation of a class with ``Meta.autopipeline = False`` is queued.
        self.coalesce = True
        #: Per document key: the command that extends its expiry (``Meta.refresh_ttl``), sent last.
        self.refresh: dict[str, tuple[Any, ...]] = {}
        if atomic:
            self.require_one_slot()

    def require_one_slot(self) -> None:
        """From now on refuse any write outside the hash slot of the writes queued (CrossSlotError)."""
        if not self.atomic:
            self._check_slots(self.commands)
            self.atomic = True

    def _check_slots(self, commands: list[Command]) -> None:
        for command in commands:
            for key in _cluster.command_keys(command):
                slot = _cluster.hash_slot(key)
                if self.slot is None:
                    self.slot, self.slot_key = slot, key
                elif slot != self.slot:
                    raise CrossSlotError(
                        f"pipeline(atomic=True) cannot queue a write of {key!r} (hash slot {slot}): the "
                        f"batch already writes {self.slot_key!r} (hash slot {self.slot}), and one atomic "
                        "step can only touch one Redis Cluster hash slot. Nothing was queued for it. Put "
                        "the models in one slot with a hash tag in their pk, like User(pk='{acme}ada')",
                        {self.slot: self.slot_key, slot: key},
                    )

    def add(self, op: Op) -> None:
        if op.returns_value:
            raise PipelineError(f"{op.what} is not supported inside pipeline(): it needs a reply from Redis")
        if op.optimistic is not None:
            raise PipelineError(
                f"{op.what} is not supported inside pipeline() on this field: it reads the value "
                "first, to check the whole new value against the field's constraints or the "
                "model's validators"
            )
        cls = op.cls
        if cls not in self.checked:
            if client_for(cls) is not self.client:
                raise PipelineError("all models used inside one pipeline() must use the same Redis client")
            self.checked.add(cls)
            if not cls.Meta.autopipeline:
                self.coalesce = False
        root = op.root
        new_root = root is not None and id(root) not in self.roots
        create = root._rp_create_command() if new_root and op.access is UPDATE else None
        if self.atomic:
            self._check_slots(op.commands if create is None else [create, *op.commands])
        if new_root:
            if create is not None:
                self.creates.append((len(self.commands), root))
                self.commands.append(create)
            self.roots[id(root)] = root
        start = len(self.commands)
        self.commands.extend(op.commands)
        self.entries.append((start, len(self.commands), op))
        # Through the instance when there is one: the class's metaclass __getattr__ slows it.
        if (cls if root is None else root).Meta.refresh_ttl and op.refresh:
            refresh = refresh_for(op)
            if refresh is not None:
                self.refresh[refresh[1]] = refresh

    async def execute(self) -> None:
        if not self.commands:
            return
        for _, _, op in self.entries:
            root = op.root
            if root is not None and root._rp_changes and not op.replaces:
                # Inside a lock() block: a value changed locally since its write was queued
                # would hold both changes, Redis the write's alone.
                write_starts(root, op.fields)
        self.commands.extend(self.refresh.values())
        try:
            replies = await self._send()
        except TRANSPORT_ERRORS as exc:
            first_root = next(iter(self.roots.values()), None)
            raise translate(exc, self.client, first_root.key if first_root is not None else None) from exc
        failures = [(i, self.commands[i], r) for i, r in enumerate(replies) if isinstance(r, Exception)]
        if not failures:
            for root in self.roots.values():
                root._rp_mark_stored()
            for start, end, op in self.entries:
                try:
                    outcome = op.apply(replies[start:end])
                except RedisCommandError as exc:
                    # Some commands answer nil instead of an error (JSON.ARRAPPEND on a $ path
                    # that no longer holds a list): that op failed too and was not applied.
                    failures.append((start, self.commands[start], exc))
                    continue
                if op.root is not None and op.root._rp_changes:
                    record_applied(op.root, op.fields)
                if type(outcome) is Then:
                    await _then(outcome)
            for index, root in self.creates:
                if replies[index] is None:  # another client created the document meanwhile
                    await reload_quietly(root)
        if failures:
            for root in self.roots.values():
                await reload_quietly(root)
            listed = "; ".join(f"#{i} {_describe(c)}: {r}" for i, c, r in failures)
            raise PipelineError(
                f"{len(failures)} of {len(self.commands)} pipelined commands failed ({listed}). "
                "Redis applied the others; the models involved were reloaded.",
                failures,
            )

    async def _send(self) -> list[Any]:
        """Send the batch: one atomic step when its keys are in one hash slot (always on a single
        Redis), else one atomic step per slot, with one round trip per node of the cluster."""
        client, commands = self.client, self.commands
        if self.atomic or not _cluster.is_cluster(client):
            return await atomically(client, commands, self.coalesce)
        groups = _cluster.group_by_slot(commands)
        if len(groups) == 1:
            return await atomically(client, commands, self.coalesce)
        calls = [group.call() for group in groups]
        sendable = [i for i, call in enumerate(calls) if call is not None]
        group_reply: list[Any] = [None] * len(groups)
        if sendable:
            sent = await per_slot(client, [calls[i] for i in sendable])  # type: ignore[misc]
            for i, reply in zip(sendable, sent, strict=True):
                group_reply[i] = reply
        for i, call in enumerate(calls):
            if call is None:  # a command too long for the batch script: MULTI/EXEC on its slot
                try:
                    group_reply[i] = await atomically(client, groups[i].commands)
                except TRANSPORT_ERRORS as exc:
                    group_reply[i] = exc
        replies = _cluster.in_queue_order(
            len(commands),
            groups,
            (_cluster.group_replies(group, reply) for group, reply in zip(groups, group_reply, strict=True)),
        )
        for i, reply in enumerate(replies):
            if isinstance(reply, Exception):  # named after its node, as the groups that failed whole
                replies[i] = _library_error(reply, client, _cluster.first_key(commands[i]))
        return replies


def in_pipeline() -> bool:
    """Whether writes made now are queued in an open ``pipeline()`` block."""
    batch = current_batch.get()
    return batch is not None and not batch.closed


class PipelineScope:
    """The ``pipeline()`` block of a model: the batch is opened on entry and sent on exit."""

    __slots__ = ("model", "refresh", "atomic", "batch", "token")

    def __init__(self, model: Any, refresh: bool, atomic: bool = False) -> None:
        self.model = model
        self.refresh = refresh
        self.atomic = atomic
        self.batch: Batch | None = None

    async def __aenter__(self) -> Any:
        outer = current_batch.get()
        if outer is not None and not outer.closed:
            if self.atomic:  # the outer batch must then be one atomic step too
                outer.require_one_slot()
            return self.model  # a pipeline inside another joins it
        model = self.model
        root = locate(model)[0]
        # Inside a lock() block on the model the block's local changes are kept: they are
        # written when it exits (the model was read when the block began).
        if self.refresh and getattr(root, "_rp_state", NEW) is STORED and not root._rp_changes:
            await model.load()
        self.batch = Batch(type(root)._rp_client(), self.atomic)
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


async def reload_quietly(root: Any) -> None:
    """Read ``root`` from Redis again after a failed write, so that it holds what Redis holds; a
    read that fails too is ignored (the write's error is what the caller reports)."""
    try:
        await root.load()
    except (RedisPydanticError, ValidationError):
        # Best effort: the write may have deleted the document, or another client may have
        # left it in a shape the model no longer accepts.
        pass
