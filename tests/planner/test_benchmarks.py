"""The planner's benchmark scenarios, from the suite's one smoke run (tests/conftest.py)."""

PLANNER = {
    "planner.get_user",
    "planner.subjects_page",
    "planner.insert_user",
    "planner.bulk_generation",
    "planner.calendar",
    "planner.cascade_delete",
}


def test_the_planner_has_its_scenarios(bench_smoke):
    _, results = bench_smoke
    assert {name for name in results["scenarios"] if name.startswith("planner.")} == PLANNER


def test_tether_makes_one_round_trip_per_operation(bench_smoke):
    _, results = bench_smoke
    for name in PLANNER:
        trips = results["scenarios"][name]["round_trips"]
        assert trips["floor"] == trips["tether"] == 1, (name, trips)


def test_the_seed_cascade_loads_what_passive_deletes_leaves_to_the_database(bench_smoke):
    _, results = bench_smoke
    trips = results["scenarios"]["planner.cascade_delete"]["round_trips"]
    # O2: begin, get the user, delete it, commit; O1 also loads and deletes every descendant.
    assert trips["orm_tuned"] == 4
    assert trips["orm"] > trips["orm_tuned"]


def test_the_scale_figures_put_heavy_users_beside_light_ones(bench_smoke):
    _, results = bench_smoke
    figures = {f["name"]: f for f in results["figures"] if f["domain"] == "planner"}
    assert {name: list(f["values"]) for name, f in figures.items()} == {
        "generations_page": ["light", "mid", "heavy"],
        "latest_feedback": ["light", "heavy"],
        "latest_calendar": ["newest", "light", "heavy"],
    }
    # The smoke run's tiny data judges nothing; the goal is still stated.
    assert all(f["met"] is None and f["goal"] for f in figures.values())
