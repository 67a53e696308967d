"""The chat benchmark scenarios and figures, from the suite's one smoke run
(tests/conftest.py): what holds on any machine, never a speed."""

CHAT = {
    "chat.find_user_by_email",
    "chat.conversations_page",
    "chat.messages_page",
    "chat.append_message",
    "chat.stream_chunk",
    "chat.rotate_token",
    "chat.delete_conversation",
}


def test_the_chat_has_its_scenarios(bench_smoke):
    _, results = bench_smoke
    assert {name for name in results["scenarios"] if name.startswith("chat.")} == CHAT


def test_tether_makes_one_round_trip_per_operation(bench_smoke):
    _, results = bench_smoke
    for name in CHAT:
        trips = results["scenarios"][name]["round_trips"]
        assert trips["floor"] == trips["tether"] == 1, (name, trips)


def test_the_seed_cascade_loads_what_passive_deletes_leaves_to_the_database(bench_smoke):
    _, results = bench_smoke
    trips = results["scenarios"]["chat.delete_conversation"]["round_trips"]
    # O2: begin, delete the conversation, commit; O1 also loads and deletes each message.
    assert trips["orm_tuned"] == 3
    assert trips["orm"] > trips["orm_tuned"]


def test_the_figures_compare_what_the_issue_asks(bench_smoke):
    _, results = bench_smoke
    figures = {f["name"]: f for f in results["figures"] if f["domain"] == "chat"}
    assert set(figures) == {"append_with_counters", "hot_conversation", "deep_page"}
    assert set(figures["append_with_counters"]["values"]) == {
        "with the counting trigger",
        "without it",
    }
    assert set(figures["deep_page"]["values"]) == {
        "keyset in the database",
        "OFFSET in the database",
        "keyset (L)",
        "OFFSET (F)",
        "ORM OFFSET (O1)",
    }
    assert all(v > 0 for f in figures.values() for v in f["values"].values())
    # A smoke run's tiny sizes judge no goal.
    assert all(f["met"] is None for f in figures.values())
