"""User code written with the typed annotations type-checks, and mistakes in it are flagged.

``tests/typing/*_ok.py`` must pass ``mypy --strict`` and pyright in strict mode with no error;
in ``tests/typing/*_errors.py`` exactly the lines marked ``# error`` must be flagged, by both.
The ``*_ok.py`` files also run, against an in-process fake Redis.
"""

from __future__ import annotations

import os
import re
import runpy
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

HERE = Path(__file__).parent / "typing"
OK = ["async_ok.py", "sync_ok.py"]
ERRORS = ["async_errors.py", "sync_errors.py"]
PLAIN_OK = ["plain_ok.py"]
PLAIN_ERRORS = ["plain_errors.py"]


def _checker(name: str) -> list[str]:
    # No cache read (--no-incremental) and none written (the cache directory mypy documents for
    # that): matrix legs run side by side, and every leg would write tests/typing/.mypy_cache.
    mypy = [sys.executable, "-m", "mypy", "--no-incremental", "--cache-dir", os.devnull]
    if name == "mypy":
        return [*mypy, "--strict", "--show-error-codes"]
    if name == "mypy-plugin":
        return [*mypy, "--config-file", "mypy_plugin.ini"]
    pyright = shutil.which("pyright", path=str(Path(sys.executable).parent)) or shutil.which("pyright")
    if pyright is None:
        if os.environ.get("CI"):
            pytest.fail("CI needs pyright (the test extra installs it)", pytrace=False)
        pytest.skip("PYRIGHT NOT INSTALLED: pip install pyright")
    return [pyright, "--pythonpath", sys.executable]


class Report:
    """What one run of a checker flagged in each file it was given."""

    def __init__(self, checker: str, files: list[str]) -> None:
        proc = subprocess.run(
            [*_checker(checker), *files], cwd=HERE, capture_output=True, text=True, timeout=300, check=False
        )
        self.output = proc.stdout + proc.stderr
        pattern = (
            r"([a-z_]+\.py):(\d+):(?:\d+ - )?\s*error"
            if checker == "pyright"
            else r"([a-z_]+\.py):(\d+): error"
        )
        self.flagged = {(Path(f).name, int(line)) for f, line in re.findall(pattern, self.output)}

    def lines_flagged_in(self, files: list[str]) -> set[tuple[str, int]]:
        return {(name, line) for name, line in self.flagged if name in files}


@pytest.fixture(scope="module")
def report() -> Callable[[str], Report]:
    """The report of a checker, run once over the files of both tests that read it.

    The files do not import each other, so a file is flagged the same alone or with the others;
    and a run over several files takes about as long as a run over one (most of it goes into
    reading pydantic and redis-py).
    """
    reports: dict[str, Report] = {}

    def run(checker: str) -> Report:
        if checker not in reports:
            files = PLAIN_OK + PLAIN_ERRORS if checker == "mypy-plugin" else OK + ERRORS
            reports[checker] = Report(checker, files)
        return reports[checker]

    return run


def _marked_lines(files: list[str]) -> set[tuple[str, int]]:
    marked = set()
    for name in files:
        for number, line in enumerate((HERE / name).read_text().splitlines(), start=1):
            if line.rstrip().endswith("# error"):
                marked.add((name, number))
    return marked


@pytest.mark.parametrize("checker", ["mypy", "pyright"])
def test_typed_user_code_passes_strict_type_checking(report, checker):
    flagged = report(checker)
    assert flagged.lines_flagged_in(OK) == set(), flagged.output


@pytest.mark.parametrize("checker", ["mypy", "pyright"])
def test_mistakes_in_typed_user_code_are_flagged(report, checker):
    flagged = report(checker)
    assert flagged.lines_flagged_in(ERRORS) == _marked_lines(ERRORS), flagged.output


@pytest.mark.parametrize("name", OK)
def test_typed_user_code_runs(name):
    runpy.run_path(str(HERE / name), run_name="__main__")


def test_plain_annotations_type_check_with_the_mypy_plugin(report):
    flagged = report("mypy-plugin")
    assert flagged.lines_flagged_in(PLAIN_OK) == set(), flagged.output


def test_the_mypy_plugin_still_flags_mistakes_with_plain_annotations(report):
    flagged = report("mypy-plugin")
    assert flagged.lines_flagged_in(PLAIN_ERRORS) == _marked_lines(PLAIN_ERRORS), flagged.output
