"""The tutor's benchmark scenarios and figures, from the suite's one smoke run
(tests/conftest.py): every one runs, with the round trips and the queue behaviour
they are there to show (smoke numbers are no measure of speed)."""

TUTOR = {
    "tutor.weeks_of_course",
    "tutor.chunks_page",
    "tutor.enqueue_job",
    "tutor.claim_and_succeed",
    "tutor.bulk_enqueue",
    "tutor.bulk_chunks",
    "tutor.delete_week",
}


def figures_of(results):
    return {f["name"]: f for f in results["figures"] if f["domain"] == "tutor"}


def test_the_tutor_has_its_scenarios_and_figures(bench_smoke):
    _, results = bench_smoke
    assert {name for name in results["scenarios"] if name.startswith("tutor.")} == TUTOR
    assert set(figures_of(results)) == {
        "queue_throughput",
        "claim_before_after",
        "claims_among_finished",
        "queue_prune",
        "retry_spacing",
        "worker_connections",
        "queue_rescue",
        "queue_zombie",
        "enqueue_notify",
        "bulk_enqueue",
        "bulk_chunks",
        "audio_stream_memory",
    }


def test_tether_makes_the_floors_round_trips_and_one_more_to_write_chunks(bench_smoke):
    _, results = bench_smoke
    for name in TUTOR:
        trips = results["scenarios"][name]["round_trips"]
        expected = 2 if name == "tutor.claim_and_succeed" else 1
        # A chunk write looks its reading's course up first, then COPYs rows carrying it.
        ours = expected + 1 if name == "tutor.bulk_chunks" else expected
        assert (trips["floor"], trips["tether"]) == (expected, ours), (name, trips)


def test_the_seeds_cascade_loads_what_passive_deletes_leave_to_the_database(bench_smoke):
    _, results = bench_smoke
    trips = results["scenarios"]["tutor.delete_week"]["round_trips"]
    # O2: begin, get the week, delete it, commit; O1 also loads every descendant.
    assert trips["orm_tuned"] == 4
    assert trips["orm"] > trips["orm_tuned"]


def test_the_queue_is_measured_beside_pgqueuer_and_procrastinate(bench_smoke):
    _, results = bench_smoke
    figures = figures_of(results)
    assert set(figures["queue_throughput"]["values"]) == {
        "tether b1",
        "tether b10",
        "tether b50",
        "pgqueuer b1",
        "pgqueuer b10",
        "pgqueuer b50",
        "procrastinate c4",
    }
    assert all(v > 0 for v in figures["queue_throughput"]["values"].values())
    # A dead worker's job: tether and pgqueuer claim it again; procrastinate never does.
    assert set(figures["queue_rescue"]["values"]) == {"tether", "pgqueuer"}
    assert "procrastinate never re-claims" in figures["queue_rescue"]["note"]
    # Its late success: tether refuses it; pgqueuer takes it (and drops the rescued job).
    assert figures["queue_zombie"]["values"] == {"tether": 1.0, "pgqueuer": 0.0}
    assert figures["audio_stream_memory"]["met"]


def test_the_queue_features_are_measured(bench_smoke):
    """Smoke sizes: the behaviour holds (every retry in its range, everything pruned);
    the speeds are the quick run's, in docs/tutor.md."""
    _, results = bench_smoke
    figures = figures_of(results)
    assert figures["retry_spacing"]["met"], figures["retry_spacing"]["values"]
    assert figures["queue_prune"]["met"]
    assert set(figures["claim_before_after"]["values"]) == {
        "before b1",
        "after b1",
        "before b10",
        "after b10",
    }
    assert set(figures["worker_connections"]["values"]) == {
        "dedicated b1",
        "shared pool b1",
        "dedicated b10",
        "shared pool b10",
    }
