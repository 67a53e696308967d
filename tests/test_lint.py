"""Lint and types are part of the suite: ruff (rules and format) and mypy --strict."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

pytestmark = pytest.mark.slow

PYTHON_FOLDERS = [name for name in ("src", "tests", "benchmarks") if (ROOT / name).is_dir()]


@pytest.mark.parametrize(
    "command",
    [
        ["ruff", "check", *PYTHON_FOLDERS],
        ["ruff", "format", "--check", *PYTHON_FOLDERS],
        ["mypy"],
    ],
    ids=["ruff", "ruff-format", "mypy"],
)
def test_clean(command):
    done = subprocess.run(
        [str(BIN / command[0]), *command[1:]],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
