"""`python -m benchmarks.replicas --smoke` runs for real: a private primary and standby,
every replica figure on tiny samples, and both servers gone afterwards. Only what holds
on any machine is asserted: the figures are there and finite, and no read after a
remote_apply commit missed it; never a speed."""

import math
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tether import embedded

ROOT = Path(__file__).resolve().parent.parent
FIGURES = ("lag", "stale", "read_cost", "throughput", "remote_apply")

pytestmark = pytest.mark.slow


def test_the_replica_figures_are_measured_and_cleaned_up():
    pytest.importorskip(
        "sqlalchemy", reason="the benchmarks need the bench extra (pip install -e '.[bench]')"
    )
    # A folder deep enough that sockets in it would pass the kernel's limit (they go
    # elsewhere), in the project's .tether/ rather than pytest's temporary folders: other
    # pytest sessions make /tmp/pytest-of-<user> private again, locking the servers'
    # user out mid-run.
    mine = embedded.home() / f"bench-test-{os.getpid()}"
    home = mine / ("deep-" * 12)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "benchmarks.replicas", "--smoke"],
            cwd=ROOT,
            env={**os.environ, "TETHER_HOME": str(home)},
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr
        rows = {
            match[1]: match[2]
            for match in re.finditer(
                r"^\| planner \| replicas\.(\w+): .*? \| (.*?) \|", done.stdout, re.M
            )
        }
        assert tuple(rows) == FIGURES, done.stdout
        for name, values in rows.items():
            numbers = [float(n.replace(",", "")) for n in re.findall(r" ([\d,.]+)(?= |$)", values)]
            assert numbers and all(math.isfinite(n) for n in numbers), (name, values)
        assert "| reads after a remote_apply commit never miss | yes |" in done.stdout
        assert not (home / "bench-replicas").exists()
    finally:
        shutil.rmtree(mine, ignore_errors=True)
