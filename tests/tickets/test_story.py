"""`tether demo tickets` plays the seed-004 story in a database holding `common` and the
tickets domain only: the aggregate, the generated tickets, a refused cycle, the export
order, the tokens encrypted and rotated, then the deletion that keeps the audit trail."""

import os

import pytest

from domain_checks import story
from tether.tickets import KEYS_VARIABLE

# What deleting the session cascaded, as PostgreSQL counted it, and the rows left: every
# table's line in full, so that one count off fails. The audit log keeps its 4 rows.
SESSION_DELETED = """\
tickets.attachments           1             0
tickets.audit_log             0             4
tickets.jira_project_context  1             0
tickets.session_errors        1             0
tickets.session_tasks         1             0
tickets.session_validations   1             0
tickets.sessions              1             0
tickets.ticket_dependencies   7             0
tickets.tickets               6             0
tickets.uploaded_files        2             0
rows of the session left: sessions 0, uploaded_files 0, session_tasks 0, session_validations 0, \
jira_project_context 0, tickets 0, ticket_dependencies 0, attachments 0, session_errors 0, \
audit_log 4
"""


def check_deletion(text: str) -> None:
    assert SESSION_DELETED in text.split("== Delete the session")[1]


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
    check_deletion(text)
    # One count off is caught (the attachment cascaded told as none: the old check
    # looked at three of the ten tables).
    wrong = text.replace("tickets.attachments           1 ", "tickets.attachments           0 ")
    assert wrong != text
    with pytest.raises(AssertionError):
        check_deletion(wrong)
    assert "demo-access-" not in text and "demo-refresh-" not in text  # no token printed
    assert KEYS_VARIABLE not in os.environ  # the made-up ring is gone with the demo
