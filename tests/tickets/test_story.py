"""`tether demo tickets` plays the seed-004 story in a database holding `common` and the
tickets domain only: the aggregate, the generated tickets, a refused cycle, the export
order, the tokens encrypted and rotated, then the deletion that keeps the audit trail."""

import os

from domain_checks import story
from tether.tickets import KEYS_VARIABLE


async def test_the_story_is_told_with_the_databases_counts(tether_server_url, monkeypatch):
    monkeypatch.delenv(KEYS_VARIABLE, raising=False)
    text = await story(tether_server_url, "tickets")
    assert "applying common_0001_extensions" in text
    assert "applying tickets_0001_schema" in text
    assert "planner" not in text
    assert "requirements.pdf  application/pdf  482,113" in text
    assert (
        "DependencyCycle: tickets.ticket_dependencies: a dependency may not close a cycle" in text
    )
    order = text.split("== Export order")[1].split("\n== ")[0]
    assert order.index("Payment API client") < order.index("Payment form")
    assert "made up by the demo, key 'demo-1'" in text
    assert "the token in clear found in the table: no" in text
    assert "rotate(): 1 row re-encrypted" in text
    assert "key id 'demo-2'" in text
    assert "still the same token: True" in text
    deletion = text.split("== Delete the session")[1]
    for table, deleted in (("tickets", 6), ("ticket_dependencies", 7), ("uploaded_files", 2)):
        assert f"tickets.{table} " in deletion and f"  {deleted} " in deletion
    assert "tickets.audit_log             0             4" in deletion
    assert "session_errors 0, audit_log 4" in deletion
    assert "demo-access-" not in text and "demo-refresh-" not in text  # no token printed
    assert KEYS_VARIABLE not in os.environ  # the made-up ring is gone with the demo
