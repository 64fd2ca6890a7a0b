"""Every ```python block of README.md and docs/*.md runs against the real Redis.

Blocks of one file run in order in one shared namespace, so a later block can use the models and
variables of an earlier one. A block with a top-level ``await`` or ``async with`` runs inside the
file's event loop (one long-lived loop per file); any other block runs with plain ``exec`` outside
any loop, so ``asyncio.run(main())`` in it works.

Models find the server the way a user's would: ``REDIS_PYDANTIC_URL`` points at it and no client
is installed with ``override_client``; the default clients of both faces are dropped between
files, and the database is flushed before each file.

docs/cluster.md runs twice: on the single server like every file (its examples hold on one Redis
too), and on a real Redis Cluster, where ``REDIS_PYDANTIC_URL`` names a node and the default
clients become cluster clients.

A block preceded by the line ``<!-- example: not-run (reason) -->`` is reported as skipped. Blocks
inside content tabs are indented; they are dedented before they run. Each block is one test, named
``file:line`` after its opening fence. Selecting one block with ``-k`` also runs the blocks before
it in the same file, since it may need their names.
"""

from __future__ import annotations

import ast
import asyncio
import inspect
import linecache
import re
import sys
import textwrap
import types
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import redis
import redis.cluster

from redis_pydantic._async import connection as async_connection
from redis_pydantic._sync import connection as sync_connection

ROOT = Path(__file__).resolve().parents[1]
DOC_FILES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
#: The files whose examples also run on a Redis Cluster.
CLUSTER_DOC_FILES = [ROOT / "docs" / "cluster.md"]

_FENCE = re.compile(r"^(?P<indent>[ \t]*)```(?P<info>[^`\s]*)[^`]*$")
_NOT_RUN = re.compile(r"^\s*<!--\s*example:\s*not-run\s*\((?P<reason>[^)]*)\)\s*-->\s*$")
_PYTHON_ALIASES = {"py", "py3", "python3", "pycon", "ipython"}


@dataclass
class Block:
    """One fenced Python block of a documentation file."""

    path: Path
    line: int  # 1-based line of the opening fence
    source: str
    not_run: str | None = None  # the reason given by the not-run marker

    @property
    def test_id(self) -> str:
        return f"{self.path.relative_to(ROOT).as_posix()}:{self.line}"


def collect_blocks(path: Path) -> list[Block]:
    """The fenced ``python`` blocks of ``path``, dedented, in file order."""
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        match = _FENCE.match(lines[i])
        if match is None:
            i += 1
            continue
        indent, info = match["indent"], match["info"].lower()
        end = i + 1
        while end < len(lines) and lines[end].strip() != "```":
            end += 1
        if info == "python":
            body = [
                line[len(indent) :] if line.startswith(indent) else line.lstrip()
                for line in lines[i + 1 : end]
            ]
            marker = _NOT_RUN.match(lines[i - 1]) if i > 0 else None
            blocks.append(
                Block(
                    path=path,
                    line=i + 1,
                    source=textwrap.dedent("\n".join(body)) + "\n",
                    not_run=marker["reason"].strip() if marker else None,
                )
            )
        i = end + 1
    return blocks


def other_python_fences(path: Path) -> list[str]:
    """Fences that hold Python under another name, which would escape this test."""
    found = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        match = _FENCE.match(line)
        if match is not None and match["info"].lower() in _PYTHON_ALIASES:
            found.append(f"{path.name}:{number}: ```{match['info']}")
    return found


ALL_BLOCKS = [block for path in DOC_FILES for block in collect_blocks(path)]


@dataclass
class FileRun:
    """The shared state of the blocks of one file: namespace, event loop, progress."""

    path: Path
    url: str
    cluster: bool = False
    namespace: dict[str, Any] = field(default_factory=dict)
    loop: asyncio.AbstractEventLoop | None = None
    done: int = 0
    failed: str | None = None
    previous_overrides: tuple[Any, Any] = (None, None)

    def start(self) -> None:
        flusher = (redis.cluster.RedisCluster if self.cluster else redis.Redis).from_url(self.url)
        try:
            flusher.flushdb()  # on a cluster: every primary
        finally:
            flusher.close()
        self.previous_overrides = (
            async_connection.override_client(None),
            sync_connection.override_client(None),
        )
        drop_default_clients()
        # A real module, as a user's script has: pydantic resolves names through sys.modules.
        module = types.ModuleType(self.module_name)
        module.__file__ = str(self.path)
        sys.modules[self.module_name] = module
        self.namespace = module.__dict__
        self.loop = asyncio.new_event_loop()

    @property
    def module_name(self) -> str:
        return "docs_example_" + re.sub(r"\W", "_", self.path.stem)

    def run(self, block: Block) -> None:
        filename = f"{block.test_id} (```python block)"
        # Tracebacks then show the lines of the block.
        linecache.cache[filename] = (len(block.source), None, block.source.splitlines(True), filename)
        code = compile(block.source, filename, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
        if code.co_flags & inspect.CO_COROUTINE:
            assert self.loop is not None
            self.loop.run_until_complete(eval(code, self.namespace))
        else:
            exec(code, self.namespace)

    def close(self) -> None:
        if self.loop is not None:
            pending = [task for task in asyncio.all_tasks(self.loop) if not task.done()]
            for task in pending:
                task.cancel()
            if pending:
                self.loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            # Shutting the async generators down also closes the loop's default client.
            self.loop.run_until_complete(self.loop.shutdown_asyncgens())
            # Closing a cluster client hands disconnections to tasks of their own: let them run,
            # as asyncio.run() does before it closes its loop.
            closing = [task for task in asyncio.all_tasks(self.loop) if not task.done()]
            if closing:
                self.loop.run_until_complete(asyncio.gather(*closing, return_exceptions=True))
            self.loop.close()
            self.loop = None
        drop_default_clients()
        sys.modules.pop(self.module_name, None)
        async_connection.override_client(self.previous_overrides[0])
        sync_connection.override_client(self.previous_overrides[1])


def drop_default_clients() -> None:
    """Forget the default clients of both faces, closing the blocking one.

    An asyncio default client is closed by its loop's ``shutdown_asyncgens()``.
    """
    async_connection._defaults.clear()
    for client, _closer in list(sync_connection._defaults.values()):
        client.close()
    sync_connection._defaults.clear()


#: Pages whose examples need the search commands: they run on the Redis 8 server with RediSearch.
SEARCH_PAGES = {"queries.md"}


class Runner:
    """Runs the files one at a time, each block at most once, in file order."""

    def __init__(self, url: str, cluster: bool = False) -> None:
        self.url = url
        self.cluster = cluster
        self.current: FileRun | None = None

    def file_run(self, path: Path, url: str | None = None) -> FileRun:
        if self.current is None or self.current.path != path:
            self.close()
            self.current = FileRun(path, url or self.url, self.cluster)
            self.current.start()
        return self.current

    def run_through(self, block: Block, url: str | None = None) -> None:
        state = self.file_run(block.path, url)
        blocks = [b for b in ALL_BLOCKS if b.path == block.path]
        index = blocks.index(block)
        if index < state.done:
            # Selected again after a later block of the file ran: start the file over.
            self.close()
            state = self.file_run(block.path, url)
        for earlier in blocks[state.done : index + 1]:
            if state.failed is not None:
                pytest.fail(f"an earlier block of this file failed: {state.failed}", pytrace=False)
            state.done += 1
            if earlier.not_run is not None:
                continue
            try:
                state.run(earlier)
            except BaseException:
                state.failed = earlier.test_id
                raise

    def close(self) -> None:
        if self.current is not None:
            self.current.close()
            self.current = None


@pytest.fixture(scope="module")
def runner(real_redis_url: str) -> Iterator[Runner]:
    docs_runner = Runner(real_redis_url)
    try:
        yield docs_runner
    finally:
        docs_runner.close()


@pytest.mark.parametrize("block", ALL_BLOCKS, ids=[b.test_id for b in ALL_BLOCKS])
def test_documentation_example_runs(
    block: Block,
    runner: Runner,
    real_redis_url: str,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> None:
    if block.not_run is not None:
        pytest.skip(f"marked not-run in the documentation: {block.not_run}")
    url = request.getfixturevalue("search_redis_url") if block.path.name in SEARCH_PAGES else real_redis_url
    monkeypatch.setenv("REDIS_PYDANTIC_URL", url)
    runner.run_through(block, url)


CLUSTER_BLOCKS = [block for block in ALL_BLOCKS if block.path in CLUSTER_DOC_FILES]


@pytest.fixture(scope="module")
def cluster_runner(cluster_url: str) -> Iterator[Runner]:
    docs_runner = Runner(cluster_url, cluster=True)
    try:
        yield docs_runner
    finally:
        docs_runner.close()


@pytest.mark.parametrize("block", CLUSTER_BLOCKS, ids=[b.test_id for b in CLUSTER_BLOCKS])
def test_documentation_example_runs_on_a_cluster(
    block: Block, cluster_runner: Runner, cluster_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if block.not_run is not None:
        pytest.skip(f"marked not-run in the documentation: {block.not_run}")
    monkeypatch.setenv("REDIS_PYDANTIC_URL", cluster_url)
    monkeypatch.delenv("REDIS_PYDANTIC_CLUSTER", raising=False)
    cluster_runner.run_through(block)


def test_the_readme_and_the_documentation_have_examples() -> None:
    assert collect_blocks(ROOT / "README.md")
    assert sum(len(collect_blocks(p)) for p in DOC_FILES[1:]) >= 20


def test_not_run_markers_give_a_reason_and_precede_a_python_block() -> None:
    problems = []
    for path in DOC_FILES:
        lines = path.read_text(encoding="utf-8").splitlines()
        starts = {b.line for b in collect_blocks(path)}
        for number, line in enumerate(lines, 1):
            if "example: not-run" not in line:
                continue
            match = _NOT_RUN.match(line)
            if match is None or not match["reason"].strip():
                problems.append(f"{path.name}:{number}: marker without a reason")
            elif number + 1 not in starts:
                problems.append(f"{path.name}:{number}: marker not followed by a ```python fence")
    assert problems == []


def test_python_examples_use_the_python_fence() -> None:
    assert [hit for path in DOC_FILES for hit in other_python_fences(path)] == []


def test_readme_links_to_every_documentation_page() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    pages = sorted(p.name for p in (ROOT / "docs").glob("*.md"))
    assert [name for name in pages if f"docs/{name}" not in readme] == []
