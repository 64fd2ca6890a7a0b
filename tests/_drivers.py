"""Call either face from synchronous code, such as a hypothesis state machine's rules.

A test in ``tests/_async`` writes ``drive(model.save())``: the asyncio face's ``AsyncDriver``
runs the coroutine on its own event loop; in the generated blocking twin the call has already
run, and ``SyncDriver`` returns its result as it is. The names are swapped by unasync's
``Async*`` -> ``Sync*`` rule.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any


class AsyncDriver:
    """Runs each coroutine to completion on a private event loop."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()

    def __call__(self, coroutine: Coroutine[Any, Any, Any]) -> Any:
        return self.loop.run_until_complete(coroutine)

    def close(self) -> None:
        self.loop.close()


class SyncDriver:
    """The blocking face's calls have already run: their result is returned as it is."""

    def __call__(self, result: Any) -> Any:
        return result

    def close(self) -> None:
        pass
