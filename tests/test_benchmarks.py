"""`python -m benchmarks` runs for real, on tiny data and one round, and reports every
domain's scenarios (each domain's own expectations live in tests/<domain>/).

No timing is asserted: speed goals never live in unit tests (a shared CI machine
makes any threshold flaky). What is asserted holds on any machine: every scenario
has finite ratios and counted round trips, on held connections and on pools (the
service path), every domain has scenarios, and the
committed full run is the one docs/benchmarks.md shows.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from tether import domains

ROOT = Path(__file__).resolve().parent.parent
CONTENDERS = {"floor", "tether", "orm", "orm_tuned"}
# The smoke run is scoped too (--scoped): a scenario that names its tenant has two more.
SCOPED = {"tether_tx", "tether_scoped"}
RATIOS = ("tether_vs_floor", "orm_vs_tether", "orm_tuned_vs_tether")

pytestmark = pytest.mark.slow


def test_every_domain_has_scenarios_with_finite_ratios_and_round_trips(bench_smoke):
    _, results = bench_smoke
    named = {name.partition(".")[0] for name in results["scenarios"]}
    assert named == {domain.name for domain in domains.DOMAINS}
    for name, scenario in results["scenarios"].items():
        for ratio in RATIOS:
            values = [scenario[ratio][key] for key in ("median", "min", "max")]
            assert all(math.isfinite(v) and v > 0 for v in values), (name, ratio, values)
        extra = SCOPED if "scoped_vs_unscoped" in scenario else set()
        assert set(scenario["median_us"]) == CONTENDERS | extra
        assert set(scenario["round_trips"]) == CONTENDERS | extra
        assert all(n >= 1 for n in scenario["round_trips"].values()), (name, scenario)


def test_every_scenario_is_also_measured_on_pools(bench_smoke):
    """The service path: each scenario on bare asyncpg's pool (with and without its
    reset) and on a tether Database, beside the held connections, in one rotation."""
    _, results = bench_smoke
    assert set(results["service"]) == set(results["scenarios"])
    for name, scenario in results["service"].items():
        assert set(scenario["median_us"]) == {
            "floor",
            "tether",
            "floor_pool",
            "floor_pool_bare",
            "tether_pool",
        }
        assert set(scenario["round_trips"]) == {"floor", "tether"}  # pools are not counted
        for ratio in ("tether_pool_vs_tether", "tether_pool_vs_floor_pool", "floor_pool_vs_floor"):
            values = [scenario[ratio][key] for key in ("median", "min", "max")]
            assert all(math.isfinite(v) and v > 0 for v in values), (name, ratio, values)


def test_figures_say_what_they_compare(bench_smoke):
    _, results = bench_smoke
    # What scoping a request costs is the core's figure (tenancy), not a domain's.
    for figure in results["figures"]:
        assert figure["domain"] in {domain.name for domain in domains.DOMAINS} | {"tenancy"}
        assert figure["values"] and figure["unit"], figure
        assert all(math.isfinite(v) for v in figure["values"].values()), figure


def test_the_report_names_versions_and_prints_the_table(bench_smoke):
    stdout, results = bench_smoke
    assert results["mode"] == "smoke"
    assert set(results["versions"]) >= {"postgresql", "pgvector", "asyncpg", "sqlalchemy", "python"}
    assert all(results["versions"].values())
    for name in results["scenarios"]:
        assert f"| {name}:" in stdout


def test_the_docs_show_the_committed_full_run():
    results = json.loads((ROOT / "benchmarks" / "results.json").read_text())
    if results["mode"] != "full":
        pytest.skip(
            "benchmarks/results.json holds a local run; `git checkout benchmarks/results.json` "
            "brings back the full run docs/benchmarks.md shows"
        )
    shown = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--show"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert shown in (ROOT / "docs" / "benchmarks.md").read_text(), (
        "docs/benchmarks.md's tables are not benchmarks/results.json's: "
        "paste the output of `python -m benchmarks --show`"
    )
