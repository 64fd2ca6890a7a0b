"""Running client-side work while Redis handles a command: a pair of twins, one per face.

``duplicate_many`` builds its copies (pydantic validation, the bulk of its client time) while
its JSON.MSET travels and Redis stores the documents. The asyncio face sends the command from a
task and builds meanwhile; the blocking face builds first, then sends.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")
W = TypeVar("W")

#: Turns of the event loop after which the task has written its command: redis-py awaits a few
#: times (taking a connection) before it writes. Too few turns only overlap less.
_TURNS_TO_SEND = 3


async def async_while_sending(send: Callable[[], Awaitable[T]], work: Callable[[], W]) -> tuple[T, W]:
    """Start the round trip ``send()``, run ``work()`` while Redis handles it, then wait for it.

    ``work`` must not fail for reasons the caller could check first: when it runs, the command
    is on its way. If it raises anyway, the reply is still awaited (the connection goes back to
    the pool in a known state) and then the exception is raised.
    """
    task = asyncio.ensure_future(send())
    for _ in range(_TURNS_TO_SEND):
        await asyncio.sleep(0)
    try:
        done = work()
    except BaseException:
        await asyncio.gather(task, return_exceptions=True)
        raise
    return await task, done


def sync_while_sending(send: Callable[[], T], work: Callable[[], W]) -> tuple[T, W]:
    """The blocking face runs ``work()`` first, then the round trip.

    A helper thread could build while this thread waits on its socket, but measured on 2 cores
    the hand-over between threads (waking the helper, passing the GIL back) took 30-450 µs and
    ate the gain.
    """
    done = work()
    return send(), done
