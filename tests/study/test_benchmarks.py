"""The study's benchmark scenarios and figures, from the suite's one smoke run
(tests/conftest.py): no timing is asserted, only what holds on any machine."""

STUDY = {"study.session_with_documents", "study.search", "study.write_chunks"}


def test_the_study_has_its_scenarios(bench_smoke):
    _, results = bench_smoke
    assert {name for name in results["scenarios"] if name.startswith("study.")} == STUDY


def test_tether_makes_one_round_trip_per_operation(bench_smoke):
    _, results = bench_smoke
    for name in STUDY:
        trips = results["scenarios"][name]["round_trips"]
        assert trips["floor"] == trips["tether"] == 1, (name, trips)
    # The seed's ORM: BEGIN, the session, its documents (selectinload), ROLLBACK.
    assert results["scenarios"]["study.session_with_documents"]["round_trips"]["orm"] == 4


def test_the_figures_cover_every_selectivity_and_tether_returns_k(bench_smoke):
    _, results = bench_smoke
    figures = {f["name"]: f for f in results["figures"] if f["domain"] == "study"}
    for kind in ("clustered", "random"):
        for piece in ("100 %", "10 %", "1 %", "0.1 %", "0.1 %, a session"):
            figure = figures[f"search {kind}, {piece}"]
            assert figure["values"]["tether fewest rows"] == 10, figure
            assert 0 <= figure["values"]["tether recall@10"] <= 1
        assert f"unfiltered speed-up, {kind}" in figures
    assert set(figures["write chunks"]["values"]) == {
        "binary COPY (tether)",
        "text literals (executemany)",
        "SQLAlchemy + pgvector type",
    }
    assert set(figures["HNSW build"]["values"]) == {"clustered", "random"}
