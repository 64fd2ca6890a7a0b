"""Generate the synchronous face of redis-pydantic from its asyncio source.

``python setup_unasync.py`` rewrites ``redis_pydantic/_sync/`` and ``tests/_sync/``
from their ``_async`` twins with `unasync`, adds a "generated" header to each file
and lints (safe fixes only) and formats the result with ruff.

``python setup_unasync.py --check`` regenerates into a temporary directory and
fails (exit 1) when the committed folders differ, when a replacement rule is never
used, or when a source holds a construct unasync cannot translate.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import importlib.util
import itertools
import os
import subprocess
import sys
import tempfile
import tokenize
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import tokenize_rt
import unasync

# Token replacements applied on top of unasync's defaults (``__aenter__``,
# ``AsyncIterator``, ...). unasync replaces a NAME token, or the body of a STRING
# token, only when it equals a key exactly. Every key must be used by a source.
REPLACEMENTS: dict[str, str] = {
    "_async": "_sync",
    "AsyncRedis": "SyncRedis",
    "AsyncLock": "SyncLock",
    "AsyncFakeRedis": "SyncFakeRedis",
    "AsyncRawFakeRedis": "SyncRawFakeRedis",
    "AsyncRedisCluster": "SyncRedisCluster",
    "AsyncRetry": "SyncRetry",
    "async_sleep": "sync_sleep",
    "async_release_client": "sync_release_client",
    "async_loop_key": "sync_loop_key",
    "async_close_with_loop": "sync_close_with_loop",
    "async_default_client": "sync_default_client",
    "async_check_blocking_call": "sync_check_blocking_call",
    "async_face_blocks": "sync_face_blocks",
    "async_lock_holder": "sync_lock_holder",
    "async_default_cluster_client": "sync_default_cluster_client",
    "async_send_per_node": "sync_send_per_node",
    "aclose": "close",
    "AbstractAsyncContextManager": "AbstractContextManager",
    "AsyncLeaseKeeper": "SyncLeaseKeeper",
    "async_command_sender": "sync_command_sender",
    "async_idle_pipeline": "sync_idle_pipeline",
    "async_face_coalesces": "sync_face_coalesces",
    "real_async_client": "real_sync_client",
    "AsyncResult": "SyncResult",
}

ROOT = Path(__file__).resolve().parent
HEADER = "# This file is generated from {source} by setup_unasync.py. Do not edit it by hand.\n"


@dataclass(frozen=True)
class Tree:
    """One source folder and the folder generated from it (repo-relative)."""

    source: str
    target: str


TREES: tuple[Tree, ...] = (
    Tree("redis_pydantic/_async", "redis_pydantic/_sync"),
    Tree("tests/_async", "tests/_sync"),
)


def python_files(folder: Path) -> list[Path]:
    """Return the ``.py`` files under ``folder``, sorted, skipping ``__pycache__``."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.rglob("*.py") if p.is_file() and "__pycache__" not in p.parts)


def rel(path: Path) -> str:
    """Return ``path`` relative to the repository root, in POSIX form."""
    return path.relative_to(ROOT).as_posix()


def read_source(path: Path) -> str:
    """Read a Python source file with its declared encoding, like unasync does."""
    with tokenize.open(path) as f:
        return f.read()


def ruff_available() -> bool:
    """Tell whether ``python -m ruff`` can run in this interpreter."""
    return importlib.util.find_spec("ruff") is not None


def _ruff(args: list[str], text: str, filename: Path) -> str:
    """Pipe ``text`` through ``ruff <args>`` as if it were the file ``filename``."""
    proc = subprocess.run(
        [sys.executable, "-m", "ruff", *args, "--stdin-filename", str(filename), "-"],
        input=text,
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"ruff {args[0]} failed on {rel(filename)}:\n{proc.stderr}")
    return proc.stdout


def ruff_format(text: str, filename: Path) -> str:
    """Apply the project's safe ruff fixes (e.g. import sorting), then format.

    ``filename`` is the target path, so ruff uses the settings that apply to it.
    """
    fixed = _ruff(["check", "--fix-only", "--exit-zero", "--quiet"], text, filename)
    return _ruff(["format", "--quiet"], fixed, filename)


def add_header(text: str, source: str) -> str:
    """Insert the "generated" comment at the top, after a shebang line if any."""
    header = HEADER.format(source=source)
    if text.startswith("#!"):
        first, _, rest = text.partition("\n")
        return f"{first}\n{header}{rest}"
    return header + text


def generate(out_root: Path, *, fmt: bool) -> dict[str, str]:
    """Unasync every tree into ``out_root``; return ``{repo-relative target: text}``."""
    result: dict[str, str] = {}
    for tree in TREES:
        sources = python_files(ROOT / tree.source)
        if not sources:
            continue
        rule = unasync.Rule(
            fromdir=f"{ROOT / tree.source}/",
            todir=f"{out_root / tree.target}/",
            additional_replacements=REPLACEMENTS,
        )
        unasync.unasync_files([str(p) for p in sources], [rule])
        for src in sources:
            sub = src.relative_to(ROOT / tree.source)
            text = (out_root / tree.target / sub).read_text(encoding="utf-8")
            text = add_header(text, rel(src))
            target = ROOT / tree.target / sub
            result[rel(target)] = ruff_format(text, target) if fmt else text
    return result


def committed() -> dict[str, str]:
    """Return the generated files currently in the repository."""
    return {rel(p): p.read_text(encoding="utf-8") for tree in TREES for p in python_files(ROOT / tree.target)}


def unasync_names(tokens: list[tokenize_rt.Token]) -> list[tokenize_rt.Token]:
    """Return the tokens unasync passes to its renamer (NAME and STRING tokens).

    Mirrors ``unasync.Rule._unasync_tokens``: the token following ``async`` or
    ``await`` is dropped unseen.
    """
    seen: list[tokenize_rt.Token] = []
    skip_next = False
    for token in tokens:
        if skip_next:
            skip_next = False
        elif token.src in ("async", "await"):
            skip_next = True
        elif token.name in ("NAME", "STRING"):
            seen.append(token)
    return seen


def rule_usage(sources: list[Path]) -> Counter[str]:
    """Count how often each REPLACEMENTS key would be applied by unasync."""
    counts: Counter[str] = Counter()
    for path in sources:
        for token in unasync_names(tokenize_rt.src_to_tokens(read_source(path))):
            word = token.src if token.name == "NAME" else token.src[1:-1]
            if word in REPLACEMENTS:
                counts[word] += 1
    return counts


def implicit_renames(sources: list[Path]) -> set[str]:
    """Return names renamed only by unasync's ``Async[A-Z]...`` -> ``Sync...`` rule."""
    rule = unasync.Rule("/", "/", additional_replacements=REPLACEMENTS)
    found: set[str] = set()
    for path in sources:
        for token in unasync_names(tokenize_rt.src_to_tokens(read_source(path))):
            word = token.src if token.name == "NAME" else token.src[1:-1]
            if word not in rule.token_replacements and rule._unasync_name(word) != word:
                found.add(word)
    return found


def untranslatable(path: Path) -> list[str]:
    """List constructs unasync would leave in place or break in ``path``."""
    text = read_source(path)
    problems: list[str] = []
    tokens = tokenize_rt.src_to_tokens(text)
    for token, following in itertools.pairwise(tokens):
        keyword = token.name == "NAME" and token.src in ("async", "await")
        if keyword and following.name != "UNIMPORTANT_WS":
            problems.append(
                f"{rel(path)}:{token.line}: `{token.src}{following.src}` "
                f"(unasync drops the token after `{token.src}`)"
            )
    try:
        module = ast.parse(text, filename=str(path))
    except SyntaxError as exc:
        return [*problems, f"{rel(path)}:{exc.lineno}: syntax error: {exc.msg}"]
    for node in ast.walk(module):
        if not isinstance(node, ast.JoinedStr):
            continue
        for inner in ast.walk(node):
            is_async_comp = isinstance(inner, ast.comprehension) and inner.is_async
            if isinstance(inner, ast.Await) or is_async_comp:
                problems.append(
                    f"{rel(path)}:{node.lineno}: await/async inside an f-string (unasync leaves it in place)"
                )
                break
    return problems


def all_sources() -> list[Path]:
    """Return every source file of every tree."""
    return [p for tree in TREES for p in python_files(ROOT / tree.source)]


def source_problems(*, strict: bool) -> list[str]:
    """Collect unused rules and untranslatable constructs; print notes."""
    sources = all_sources()
    problems: list[str] = []
    for tree in TREES:
        if not python_files(ROOT / tree.source):
            msg = f"source folder {tree.source}/ has no .py files"
            if strict:
                problems.append(msg)
            else:
                print(f"warning: {msg}, skipped")
    usage = rule_usage(sources)
    unused = [key for key in REPLACEMENTS if usage[key] == 0]
    if unused:
        problems.append(
            "replacement rules never used by any source: "
            + ", ".join(f"{k!r} -> {REPLACEMENTS[k]!r}" for k in unused)
        )
    for path in sources:
        problems.extend(untranslatable(path))
    implicit = sorted(implicit_renames(sources))
    if implicit:
        print("note: renamed only by unasync's Async* rule: " + ", ".join(implicit))
    return problems


def write(generated: dict[str, str]) -> None:
    """Replace the target folders' ``.py`` files with ``generated``."""
    for tree in TREES:
        if not python_files(ROOT / tree.source):
            continue
        for stale in python_files(ROOT / tree.target):
            stale.unlink()
        for folder, _, _ in os.walk(ROOT / tree.target, topdown=False):
            if not os.listdir(folder):
                os.rmdir(folder)
    for name, text in generated.items():
        path = ROOT / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    print(f"wrote {len(generated)} generated files")


def compare(expected: dict[str, str], actual: dict[str, str]) -> list[str]:
    """Describe every difference between expected and committed files."""
    problems: list[str] = []
    for name in sorted(expected.keys() - actual.keys()):
        problems.append(f"missing generated file: {name}")
    for name in sorted(actual.keys() - expected.keys()):
        problems.append(f"extra file without an _async source: {name}")
    for name in sorted(expected.keys() & actual.keys()):
        if expected[name] != actual[name]:
            diff = difflib.unified_diff(
                actual[name].splitlines(),
                expected[name].splitlines(),
                f"{name} (committed)",
                f"{name} (generated)",
                lineterm="",
            )
            lines = list(diff)
            shown = "\n".join(f"    {line}" for line in lines[:30])
            more = f"\n    ... {len(lines) - 30} more diff lines" if len(lines) > 30 else ""
            problems.append(f"stale or hand-edited: {name}\n{shown}{more}")
    return problems


def report(problems: list[str], *, fatal: bool) -> int:
    """Print ``problems``; return the exit code (1 only when they are fatal)."""
    if not problems:
        return 0
    if not fatal:
        for problem in problems:
            print(f"warning: {problem}")
        return 0
    print(f"setup_unasync.py: {len(problems)} problem(s)")
    for problem in problems:
        print(f"  - {problem}")
    print("Fix the _async sources or REPLACEMENTS, then run: python setup_unasync.py")
    return 1


def main(argv: list[str] | None = None) -> int:
    """Run the generator (default) or the consistency check (``--check``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check",
        action="store_true",
        help="verify the committed _sync folders instead of rewriting them",
    )
    args = parser.parse_args(argv)
    if not ruff_available():
        # Without ruff the output would differ from the committed (formatted) files, so the
        # answer would depend on the machine: refuse instead.
        print("error: ruff is required (pip install -e '.[test]' installs the pinned version)")
        return 2
    fmt = True
    problems = source_problems(strict=args.check)
    generated: dict[str, str] | None = None
    with tempfile.TemporaryDirectory(prefix="unasync-") as tmp:
        try:
            generated = generate(Path(tmp), fmt=fmt)
        except RuntimeError as exc:
            problems.append(str(exc).strip())
    if generated is None:
        return report(problems, fatal=True)
    if not args.check:
        write(generated)
        return report(problems, fatal=False)
    problems.extend(compare(generated, committed()))
    if not problems:
        print(f"setup_unasync.py --check: {len(generated)} generated files up to date")
    return report(problems, fatal=True)


if __name__ == "__main__":
    sys.exit(main())
