"""`python -m benchmarks --scoped` (in the suite's smoke run, conftest's bench_smoke): the
scenarios that name their tenant also run inside an open transaction as the owner (Lt)
and scoped by db.tenant() (Ls), in the same round trips but for a COPY, which a scoped
role stages; the flows that run before a tenant is known, or with none, do not; what
scoping a request costs by itself, and what a derived tenant key costs a single insert,
are figures. A smoke run: its numbers mean nothing."""

# Sign-up, sign-in by e-mail and token rotation run before a tenant is known; the queue's
# worker claims any course's jobs, and the bulk enqueue's jobs belong to no week.
UNSCOPED_FLOWS = {
    "planner.insert_user",
    "chat.find_user_by_email",
    "chat.rotate_token",
    "tutor.claim_and_succeed",
    "tutor.bulk_enqueue",
}
# COPY FROM is refused under row-level security: a scoped COPY makes a temporary table
# and inserts from it, two round trips more (tether.repository._copy_staged).
STAGED_COPIES = {"tutor.bulk_chunks", "study.write_chunks"}


def test_a_scoped_smoke_run_measures_every_tenant_scenario_both_ways(bench_smoke):
    printed, results = bench_smoke
    scoped = {name for name, s in results["scenarios"].items() if "scoped_vs_unscoped" in s}
    assert scoped == set(results["scenarios"]) - UNSCOPED_FLOWS
    assert {name.split(".")[0] for name in scoped} == {
        "planner",
        "chat",
        "tutor",
        "study",
        "tickets",
    }
    for name in scoped:
        trips = results["scenarios"][name]["round_trips"]
        assert trips["tether_tx"] == trips["tether"], name
        staged = 2 if name in STAGED_COPIES else 0
        assert trips["tether_scoped"] == trips["tether"] + staged, name
    [cost] = [f for f in results["figures"] if f["name"] == "scoping_cost"]
    assert set(cost["values"]) == {"db.transaction()", "db.tenant(key)"}
    derived = {f["name"]: f for f in results["figures"] if f["name"].startswith("derived_key")}
    assert set(derived) == {"derived_key_cost.planner.ai_tasks", "derived_key_cost.chat.messages"}
    for figure in derived.values():
        assert set(figure["values"]) == {"key derived", "key named"}
        assert figure["goal"] == "at most 1.10x" and figure["met"] in (True, False)
    assert "| scenario | Lt µs | Ls µs | Ls/Lt |" in printed
