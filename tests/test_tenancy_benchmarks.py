"""`python -m benchmarks --scoped`: the scenarios that name their tenant also run inside
an open transaction as the owner (Lt) and scoped by db.tenant() (Ls), in the same one
round trip; the flows that run before a tenant is known do not; and what scoping a
request costs by itself is a figure. A smoke run: its numbers mean nothing."""

import json
import os
import subprocess
import sys

import pytest

from test_readme import ROOT

UNSCOPED_FLOWS = {"planner.insert_user", "chat.find_user_by_email", "chat.rotate_token"}


def test_a_scoped_smoke_run_measures_every_tenant_scenario_both_ways(tether_server_url, tmp_path):
    pytest.importorskip("sqlalchemy", reason="the benchmarks need the bench extra")
    output = tmp_path / "results.json"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks",
            "planner",
            "chat",
            "--smoke",
            "--scoped",
            "--database",
            f"tether_bench_scoped_{os.getpid()}",
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
    results = json.loads(output.read_text())
    scoped = {name for name, s in results["scenarios"].items() if "scoped_vs_unscoped" in s}
    assert scoped == set(results["scenarios"]) - UNSCOPED_FLOWS
    for name in scoped:
        trips = results["scenarios"][name]["round_trips"]
        assert trips["tether_scoped"] == trips["tether_tx"] == trips["tether"], name
    [cost] = [f for f in results["figures"] if f["name"] == "scoping_cost"]
    assert set(cost["values"]) == {"db.transaction()", "db.tenant(key)"}
    assert "| scenario | Lt µs | Ls µs | Ls/Lt |" in done.stdout
