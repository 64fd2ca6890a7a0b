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
from pathlib import Path

import pytest

HERE = Path(__file__).parent / "typing"
OK = ["async_ok.py", "sync_ok.py"]
ERRORS = ["async_errors.py", "sync_errors.py"]


def _checker(name: str) -> list[str]:
    if name == "mypy":
        return [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--show-error-codes"]
    pyright = shutil.which("pyright", path=str(Path(sys.executable).parent)) or shutil.which("pyright")
    if pyright is None:
        if os.environ.get("CI"):
            pytest.fail("CI needs pyright (the test extra installs it)", pytrace=False)
        pytest.skip("PYRIGHT NOT INSTALLED: pip install pyright")
    return [pyright, "--pythonpath", sys.executable]


def _flagged_lines(checker: str, files: list[str]) -> tuple[set[tuple[str, int]], str]:
    proc = subprocess.run(
        [*_checker(checker), *files], cwd=HERE, capture_output=True, text=True, timeout=300, check=False
    )
    output = proc.stdout + proc.stderr
    pattern = (
        r"([a-z_]+\.py):(\d+):(?:\d+ - )?\s*error" if checker == "pyright" else r"([a-z_]+\.py):(\d+): error"
    )
    found = {(Path(f).name, int(line)) for f, line in re.findall(pattern, output)}
    return found, output


def _marked_lines(files: list[str]) -> set[tuple[str, int]]:
    marked = set()
    for name in files:
        for number, line in enumerate((HERE / name).read_text().splitlines(), start=1):
            if line.rstrip().endswith("# error"):
                marked.add((name, number))
    return marked


@pytest.mark.parametrize("checker", ["mypy", "pyright"])
def test_typed_user_code_passes_strict_type_checking(checker):
    found, output = _flagged_lines(checker, OK)
    assert found == set(), output


@pytest.mark.parametrize("checker", ["mypy", "pyright"])
def test_mistakes_in_typed_user_code_are_flagged(checker):
    found, output = _flagged_lines(checker, ERRORS)
    assert found == _marked_lines(ERRORS), output


@pytest.mark.parametrize("name", OK)
def test_typed_user_code_runs(name):
    runpy.run_path(str(HERE / name), run_name="__main__")


def _mypy_with_plugin(files: list[str]) -> tuple[set[tuple[str, int]], str]:
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", "mypy_plugin.ini", "--no-incremental", *files],
        cwd=HERE,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = proc.stdout + proc.stderr
    return {
        (Path(f).name, int(line)) for f, line in re.findall(r"([a-z_]+\.py):(\d+): error", output)
    }, output


def test_plain_annotations_type_check_with_the_mypy_plugin():
    found, output = _mypy_with_plugin(["plain_ok.py"])
    assert found == set(), output


def test_the_mypy_plugin_still_flags_mistakes_with_plain_annotations():
    found, output = _mypy_with_plugin(["plain_errors.py"])
    assert found == _marked_lines(["plain_errors.py"]), output
