"""The tickets domain on a database built as a deployment builds it: plain `yoyo apply`
of migrations/common and migrations/tickets, nothing of tether involved. Every rule of
the SPEC holds there: same-session references, cascades and SET NULL, no cycle even
between racing writers, the append-only audit log, tokens never in clear; the aggregate
is one query; and the schema is the one tether's own migrations build."""

import asyncio
import datetime as dt
import uuid

import pytest

from domain_checks import yoyo_built
from reliability.test_stairway import facts_of, schema_of
from tether import Database, MissingReference
from tether.testing import expect_changes
from tether.tickets import (
    AppendOnly,
    AuditRepository,
    DependencyCycle,
    DependencyRepository,
    ErrorRepository,
    JiraTokenRepository,
    NewTicket,
    SessionRepository,
    TicketRepository,
)
from tether.tickets.story import build_generated_session

from .checks import refusal, statements_sent

pytestmark = pytest.mark.slow


@pytest.fixture
async def yoyo_db(tether_server_url):
    """A database migrated by the yoyo command line alone, common and tickets only."""
    async with yoyo_built(tether_server_url, "tickets") as url, Database(url) as db:
        yield db


async def test_the_schema_is_the_one_tether_builds(yoyo_db, tether_url):
    built = facts_of(await schema_of(yoyo_db.url), "tickets")
    assert built and built == facts_of(await schema_of(tether_url), "tickets")
    assert not any("planner" in fact for fact in await schema_of(yoyo_db.url))


async def test_every_rule_holds_on_a_yoyo_built_database(yoyo_db, keys):
    db = yoyo_db
    made = await build_generated_session(db)
    other = await SessionRepository(db).create()
    epic, email = made.ticket("Checkout redesign"), made.ticket("Order confirmation email")

    with pytest.raises(DependencyCycle):
        await DependencyRepository(db).add(epic.id, email.id)
    with pytest.raises(MissingReference):  # a ticket of another session
        await ErrorRepository(db).log(other.id, "x", "y", ticket_id=epic.id)
    assert isinstance(await refusal(db, "delete from tickets.audit_log"), AppendOnly)

    exported = await TicketRepository(db).export_order(made.session.id)
    order = [item.ticket.summary for item in exported]
    assert order.index("Payment API client") < order.index("Payment form")

    raw = f"access-{uuid.uuid4().hex}"
    await JiraTokenRepository(db).upsert("jira-1", raw, None, dt.datetime.now(dt.UTC))
    holding = await db.pool.fetchval(
        "select count(*) from tickets.jira_auth_tokens t where strpos(t::text, $1) > 0", raw
    )
    assert holding == 0

    sent = await statements_sent(
        db, lambda conn: SessionRepository(conn).aggregate(made.session.id)
    )
    assert len(sent) == 1

    async with (
        db.connection() as conn,
        expect_changes(
            conn,
            deleted={
                "tickets.sessions": 1,
                "tickets.uploaded_files": 2,
                "tickets.session_tasks": 1,
                "tickets.session_validations": 1,
                "tickets.jira_project_context": 1,
                "tickets.tickets": 6,
                "tickets.ticket_dependencies": 7,
            },
            updated={"tickets.audit_log": 2},
        ),
    ):
        assert await SessionRepository(conn).delete(made.session.id)
    trail = await AuditRepository(db).page_of_session(made.session.id)
    assert [e.session_id for e in trail] == [None, None]


async def test_racing_writers_leave_no_cycle_on_a_yoyo_built_database(yoyo_db):
    session = await SessionRepository(yoyo_db).create()
    a, b, c = (
        t.id
        for t in await TicketRepository(yoyo_db).create_many(
            session.id, [NewTicket(name, n) for n, name in enumerate("abc")]
        )
    )
    dependencies = DependencyRepository(yoyo_db)
    results = await asyncio.gather(
        dependencies.add(b, a),
        dependencies.add(c, b),
        dependencies.add(a, c),
        return_exceptions=True,
    )
    assert sorted(type(r).__name__ for r in results) == [
        "Dependency",
        "Dependency",
        "DependencyCycle",
    ]
