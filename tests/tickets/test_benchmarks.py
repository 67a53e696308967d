"""The tickets benchmark scenarios and figures, from the suite's one smoke run
(tests/conftest.py). No speed is asserted: only what holds on any machine."""

TICKETS = {
    "tickets.session_aggregate",
    "tickets.add_dependency",
    "tickets.export_order",
    "tickets.audit_append",
}


def test_the_tickets_domain_has_its_scenarios(bench_smoke):
    _, results = bench_smoke
    assert {name for name in results["scenarios"] if name.startswith("tickets.")} == TICKETS


def test_tether_makes_one_round_trip_per_operation(bench_smoke):
    _, results = bench_smoke
    for name in TICKETS:
        trips = results["scenarios"][name]["round_trips"]
        assert trips["floor"] == trips["tether"] == 1, (name, trips)


def test_the_seed_mapping_needs_several_round_trips(bench_smoke):
    _, results = bench_smoke
    scenarios = results["scenarios"]
    # BEGIN, the joined SELECT, ROLLBACK: the seed's joined eager loads are one query,
    # the session's transaction two more.
    assert scenarios["tickets.session_aggregate"]["round_trips"]["orm"] == 3
    # The seed's lazy="select" dependencies: one query per ticket of the smoke graph (23),
    # besides the session, its tickets, BEGIN and ROLLBACK.
    assert scenarios["tickets.export_order"]["round_trips"]["orm"] == 27
    assert scenarios["tickets.export_order"]["round_trips"]["orm_tuned"] == 4


def test_the_tickets_figures(bench_smoke):
    _, results = bench_smoke
    figures = {f["name"]: f for f in results["figures"] if f["domain"] == "tickets"}
    assert set(figures) == {
        "add_dependency_near",
        "add_dependency_far",
        "audit_append_throughput",
    }
    assert list(figures["add_dependency_near"]["values"]) == ["10/24", "20/54"]
    assert figures["add_dependency_near"]["met"] in (True, False)
    assert set(figures["audit_append_throughput"]["values"]) == {"F", "L", "O1", "O2"}
