"""The suite uses tether's own pytest plugin (tether.testing): `tether_db` gives each
test a freshly migrated database of its own. `bench_smoke` runs the benchmarks once,
on tiny data, for every domain's expectations of them. `--hostile-depth` sets how many
values the hostile-input properties generate per method (tests/reliability)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from reliability.model import HOSTILE_DEPTH

ROOT = Path(__file__).resolve().parent.parent


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--hostile-depth",
        choices=sorted(HOSTILE_DEPTH),
        default="cheap",
        help="values generated per method by the hostile-input properties (default: cheap)",
    )


def pytest_configure(config: pytest.Config) -> None:
    hostile, valid = HOSTILE_DEPTH[config.getoption("hostile_depth")]
    # Each example resets and refills the tables: slow by hypothesis's measure, by design.
    quiet = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
    settings.register_profile(
        "hostile", max_examples=hostile, deadline=None, suppress_health_check=quiet
    )
    settings.register_profile(
        "hostile-valid", max_examples=valid, deadline=None, suppress_health_check=quiet
    )


@pytest.fixture(scope="session")
def bench_smoke(tether_server_url, tmp_path_factory):
    """`python -m benchmarks --smoke`: its printed tables and its results.json."""
    pytest.importorskip(
        "sqlalchemy", reason="the benchmarks need the bench extra (pip install -e '.[bench]')"
    )
    output = tmp_path_factory.mktemp("bench") / "results.json"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks",
            "--smoke",
            "--database",
            f"tether_bench_t{os.getpid()}",
            "--output",
            str(output),
        ],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": tether_server_url},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout, json.loads(output.read_text())
