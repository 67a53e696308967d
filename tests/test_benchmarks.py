"""`python -m benchmarks` runs for real, on tiny data and one round, and reports every scenario.

No timing is asserted: speed goals never live in unit tests (a shared CI machine
makes any threshold flaky). What is asserted holds on any machine: every scenario
has finite ratios and counted round trips, and tether makes one round trip per
operation, as the floor does.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip(
    "sqlalchemy", reason="the benchmarks need the bench extra (pip install -e '.[bench]')"
)

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = {
    "get_user",
    "subjects_page",
    "insert_user",
    "bulk_generation",
    "calendar",
    "cascade_delete",
}
CONTENDERS = {"floor", "tether", "orm", "orm_tuned"}
RATIOS = ("tether_vs_floor", "orm_vs_tether", "orm_tuned_vs_tether")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def smoke_run(tether_server_url, tmp_path_factory):
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
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout, json.loads(output.read_text())


def test_every_scenario_has_finite_ratios_and_round_trips(smoke_run):
    _, results = smoke_run
    assert set(results["scenarios"]) == SCENARIOS
    for name, scenario in results["scenarios"].items():
        for ratio in RATIOS:
            values = [scenario[ratio][key] for key in ("median", "min", "max")]
            assert all(math.isfinite(v) and v > 0 for v in values), (name, ratio, values)
        assert set(scenario["median_us"]) == CONTENDERS
        assert set(scenario["round_trips"]) == CONTENDERS
        assert all(n >= 1 for n in scenario["round_trips"].values()), (name, scenario)


def test_tether_makes_one_round_trip_per_operation(smoke_run):
    _, results = smoke_run
    for name, scenario in results["scenarios"].items():
        trips = scenario["round_trips"]
        assert trips["floor"] == trips["tether"] == 1, (name, trips)


def test_the_seed_cascade_loads_what_passive_deletes_leaves_to_the_database(smoke_run):
    _, results = smoke_run
    trips = results["scenarios"]["cascade_delete"]["round_trips"]
    # O2: begin, get the user, delete it, commit; O1 also loads and deletes every descendant.
    assert trips["orm_tuned"] == 4
    assert trips["orm"] > trips["orm_tuned"]


def test_the_report_names_versions_and_prints_the_table(smoke_run):
    stdout, results = smoke_run
    assert results["mode"] == "smoke"
    assert set(results["versions"]) >= {"postgresql", "pgvector", "asyncpg", "sqlalchemy", "python"}
    assert all(results["versions"].values())
    for name in SCENARIOS:
        assert f"| {name}:" in stdout


def test_the_readme_shows_the_committed_full_run():
    results = json.loads((ROOT / "benchmarks" / "results.json").read_text())
    if results["mode"] != "full":
        pytest.skip(
            "benchmarks/results.json holds a local run; `git checkout benchmarks/results.json` "
            "brings back the full run the README shows"
        )
    assert set(results["scenarios"]) == SCENARIOS
    shown = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--show"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert shown in (ROOT / "README.md").read_text(), (
        "the README's benchmark table is not benchmarks/results.json's: "
        "paste the output of `python -m benchmarks --show`"
    )
