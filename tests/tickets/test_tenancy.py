"""The tickets domain's tenancy (SPEC "Tenancy"): a session is the tenant. Scoped to
session A (`db.tenant(a)`), every table but the global jira_auth_tokens shows A's rows
only; B's rows cannot be read, changed, deleted or referenced; tether_service with no
tenants sees none; the composite foreign keys keep even a hand-written INSERT inside
one session. The dependency cycle check and the export order work scoped; deleting a
session clears its audit rows' session_id (the append-only log's one allowed change),
after which those rows belong to no tenant."""

from __future__ import annotations

import uuid

import pytest
from attrs import define

from tenancy_checks import (
    assert_isolated,
    assert_tenant_tables,
    grants,
    hand_written,
    unscoped_service,
)
from tether import Conflict, Database, MissingReference, NotFound, OutOfScope
from tether.testing import expect_changes
from tether.tickets import (
    AttachmentRepository,
    AuditRepository,
    DependencyRepository,
    ErrorRepository,
    FileRepository,
    NewTicket,
    ProjectContextRepository,
    SessionRepository,
    TaskRepository,
    TicketRepository,
    ValidationRepository,
)

from .checks import refusal

# Every tenant table and the column holding its session (the root: its id).
TENANT_TABLES = {
    "sessions": "id",
    "session_tasks": "session_id",
    "session_validations": "session_id",
    "uploaded_files": "session_id",
    "tickets": "session_id",
    "ticket_dependencies": "session_id",
    "attachments": "session_id",
    "jira_project_context": "session_id",
    "session_errors": "session_id",
    "audit_log": "session_id",
}


@define
class Tree:
    session: uuid.UUID
    file: uuid.UUID
    tickets: list[uuid.UUID]


async def make_tree(db: Database, title: str) -> Tree:
    """A session with a row in every tenant table: three tickets in a chain."""
    session = (await SessionRepository(db).create("jira-ada", title)).id
    await TaskRepository(db).queue(session, "parsing")
    await ValidationRepository(db).record(session, True)
    file = (await FileRepository(db).add(session, "spec.md", "/f/spec.md", "text/markdown", 10)).id
    made = await TicketRepository(db).create_many(
        session,
        [
            NewTicket("Design", 0),
            NewTicket("Build", 1, depends_on=(0,)),
            NewTicket("Ship", 2, depends_on=(1,)),
        ],
    )
    tickets = [t.id for t in made]
    await AttachmentRepository(db).attach(session, tickets[0], "a.png", "image/png", "/f/a.png")
    await ProjectContextRepository(db).store(session, "ADA", "Ada's project", [], [])
    await ErrorRepository(db).log(session, "parse", "bad line", file_id=file)
    await AuditRepository(db).append("created", session_id=session, actor="ada")
    return Tree(session, file, tickets)


async def counts(conn, session: uuid.UUID | None = None) -> dict[str, int]:
    """Rows per tenant table that `conn` sees; with `session`, only that session's."""
    counted = {}
    for table, key in TENANT_TABLES.items():
        where = f"where {key} = $1" if session is not None else "where $1::uuid is null"
        counted[table] = await conn.fetchval(
            f"select count(*) from tickets.{table} {where}", session
        )
    return counted


@define
class Two:
    db: Database
    a: Tree
    b: Tree


@pytest.fixture
async def two(tether_db: Database) -> Two:
    a = await make_tree(tether_db, "A")
    b = await make_tree(tether_db, "B")
    await tether_db.pool.execute(
        "insert into tickets.jira_auth_tokens (jira_user_id, access_token, expires_at) "
        "values ('jira-ada', '\\x00', now() + interval '1 hour')"
    )
    return Two(tether_db, a, b)


async def test_every_table_but_jira_tokens_is_a_tenant_table_with_only_the_grants_it_needs(
    tether_db,
):
    await assert_tenant_tables(tether_db, "tickets", TENANT_TABLES)
    written_once = ["INSERT", "SELECT"]
    upserted = ["INSERT", "SELECT", "UPDATE"]
    every_dml = ["DELETE", "INSERT", "SELECT", "UPDATE"]
    assert await grants(tether_db, "tickets") == {
        "sessions": every_dml,
        "session_tasks": upserted,
        "session_validations": upserted,
        "uploaded_files": ["DELETE", "INSERT", "SELECT"],
        "tickets": every_dml,
        "ticket_dependencies": ["DELETE", "INSERT", "SELECT"],
        "attachments": ["DELETE", "INSERT", "SELECT"],
        "jira_project_context": upserted,
        "session_errors": written_once,
        "audit_log": written_once,
        "jira_auth_tokens": every_dml,
    }


async def test_scoped_to_a_session_every_table_shows_exactly_its_rows(two):
    await assert_isolated(two.db, "tickets", TENANT_TABLES, two.a.session, two.b.session)
    async with two.db.tenant(two.a.session) as conn:
        # Jira tokens are global: a session reads its user's token whoever made it.
        assert await conn.fetchval("select count(*) from tickets.jira_auth_tokens") == 1


async def test_another_sessions_rows_cannot_be_read_changed_or_deleted(two):
    b = two.b
    async with two.db.tenant(two.a.session) as conn:
        with pytest.raises(NotFound):
            await SessionRepository(conn).get(b.session)
        with pytest.raises(NotFound):
            await TicketRepository(conn).get(b.tickets[0])
        assert await AttachmentRepository(conn).of_ticket(b.tickets[0]) is None
        assert (await ErrorRepository(conn).page_of_session(b.session)).items == ()
        assert (await AuditRepository(conn).page_of_session(b.session)).items == ()
        assert await TicketRepository(conn).export_order(b.session) == []
        with pytest.raises(NotFound):
            await SessionRepository(conn).set_status(b.session, "archived")
        with pytest.raises(NotFound):
            await TicketRepository(conn).set_jira_key(b.tickets[0], "ADA-1")
        for table in ("session_tasks", "session_validations", "jira_project_context"):
            done = await conn.execute(
                f"update tickets.{table} set session_id = session_id where session_id = $1",
                b.session,
            )
            assert done == "UPDATE 0", table
        assert not await DependencyRepository(conn).remove(b.tickets[1], b.tickets[0])
        assert not await AttachmentRepository(conn).delete(
            await two.db.pool.fetchval(
                "select id from tickets.attachments where session_id = $1", b.session
            )
        )
        assert not await FileRepository(conn).delete(b.file)
        assert not await TicketRepository(conn).delete(b.tickets[2])
        assert not await SessionRepository(conn).delete(b.session)
    async with two.db.connection() as conn:
        assert (await counts(conn, b.session))["tickets"] == 3
        assert (
            await conn.fetchval("select status from tickets.sessions where id = $1", b.session)
            == "active"
        )


async def test_another_sessions_rows_cannot_be_referenced(two):
    a, b = two.a, two.b
    # A row naming B's session itself: the policy refuses it.
    writes = [
        lambda c: FileRepository(c).add(b.session, "x", "/x", "text/plain", 1),
        lambda c: TicketRepository(c).create(b.session, NewTicket("x", 9)),
        lambda c: ErrorRepository(c).log(b.session, "x", "x"),
        lambda c: AuditRepository(c).append("x", session_id=b.session),
        lambda c: TaskRepository(c).queue(b.session),
    ]
    for write in writes:
        async with two.db.tenant(a.session) as conn:
            with pytest.raises(OutOfScope, match="row-level security"):
                await write(conn)
    # A's row naming B's ticket or file: the composite foreign keys refuse it.
    references = [
        (
            lambda c: AttachmentRepository(c).attach(a.session, b.tickets[1], "x", "x/y", "/x"),
            "attachments_ticket_id_fkey",
        ),
        (
            lambda c: ErrorRepository(c).log(a.session, "x", "x", file_id=b.file),
            "session_errors_related_file_id_fkey",
        ),
        (
            lambda c: DependencyRepository(c).add(b.tickets[2], b.tickets[0]),
            "ticket_dependencies_ticket_id_fkey",
        ),
        (
            lambda c: DependencyRepository(c).add(a.tickets[2], b.tickets[0]),
            "ticket_dependencies_depends_on_ticket_id_fkey",
        ),
    ]
    for write, constraint in references:
        async with two.db.tenant(a.session) as conn:
            with pytest.raises(MissingReference) as refused:
                await write(conn)
            assert refused.value.constraint == constraint
    async with two.db.connection() as conn:
        assert await counts(conn, b.session) == {
            **dict.fromkeys(TENANT_TABLES, 1),
            "tickets": 3,
            "ticket_dependencies": 2,
        }


async def test_tether_service_without_tenants_sees_no_session_rows(two):
    async with unscoped_service(two.db) as conn:
        assert set((await counts(conn)).values()) == {0}
        assert await conn.fetchval("select count(*) from tickets.jira_auth_tokens") == 1


async def test_a_hand_written_insert_cannot_point_into_another_session(two):
    a, b = two.a, two.b
    with pytest.raises(MissingReference, match="must") as refused:
        await hand_written(
            two.db.pool,
            "tickets",
            "insert into tickets.attachments "
            "(session_id, ticket_id, filename, content_type, file_path) "
            "values ($1, $2, 'x', 'x/y', '/x')",
            a.session,
            b.tickets[1],
        )
    assert refused.value.constraint == "attachments_ticket_id_fkey"
    with pytest.raises(MissingReference) as refused:
        await hand_written(
            two.db.pool,
            "tickets",
            "insert into tickets.ticket_dependencies "
            "(ticket_id, depends_on_ticket_id, session_id) values ($1, $2, $3)",
            a.tickets[2],
            b.tickets[0],
            a.session,
        )
    assert refused.value.constraint == "ticket_dependencies_depends_on_ticket_id_fkey"


async def test_a_dependency_naming_only_its_tickets_gets_their_session(two):
    a = two.a
    async with two.db.tenant(a.session) as conn:
        await conn.execute(
            "insert into tickets.ticket_dependencies (ticket_id, depends_on_ticket_id) "
            "values ($1, $2)",
            a.tickets[2],
            a.tickets[0],
        )
        assert (
            await conn.fetchval(
                "select session_id from tickets.ticket_dependencies "
                "where ticket_id = $1 and depends_on_ticket_id = $2",
                a.tickets[2],
                a.tickets[0],
            )
            == a.session
        )


async def test_the_cycle_check_and_the_export_order_hold_scoped(two):
    a = two.a
    async with two.db.tenant(a.session) as conn:
        with pytest.raises(Conflict) as refused:
            await DependencyRepository(conn).add(a.tickets[0], a.tickets[2])
        assert refused.value.constraint == "ticket_dependencies_no_cycle"
    async with two.db.tenant(a.session) as conn:
        order = await TicketRepository(conn).export_order(a.session)
    assert [t.ticket.id for t in order] == a.tickets
    async with two.db.connection() as conn:
        assert (
            await conn.fetchval(
                "select count(*) from tickets.ticket_dependencies where session_id = $1", a.session
            )
            == 2
        )


async def test_deleting_a_session_removes_its_tree_and_keeps_its_audit_rows_unscoped(two):
    a, b = two.a, two.b
    tree = {
        "tickets.sessions": 1,
        "tickets.session_tasks": 1,
        "tickets.session_validations": 1,
        "tickets.uploaded_files": 1,
        "tickets.tickets": 3,
        "tickets.ticket_dependencies": 2,
        "tickets.attachments": 1,
        "tickets.jira_project_context": 1,
        "tickets.session_errors": 1,
    }
    async with (
        two.db.tenant(a.session) as conn,
        expect_changes(conn, deleted=tree, updated={"tickets.audit_log": 1}),
    ):
        assert await SessionRepository(conn).delete(a.session)
    async with (
        two.db.transaction() as conn,
        expect_changes(conn, deleted=tree, updated={"tickets.audit_log": 1}),
    ):
        assert await SessionRepository(conn).delete(b.session)
    async with two.db.connection() as conn:
        kept = await conn.fetch(
            "select session_id, recorded_session_id from tickets.audit_log order by id"
        )
        assert [(r["session_id"], r["recorded_session_id"]) for r in kept] == [
            (None, a.session),
            (None, b.session),
        ]
    # Without a session the audit rows belong to no tenant: only unscoped readers see them.
    async with two.db.tenant(a.session) as conn:
        assert (await AuditRepository(conn).page_of_session(a.session)).items == ()
    assert len((await AuditRepository(two.db).page_of_session(a.session)).items) == 1
    # And they stay append-only.
    refused = await refusal(two.db, "update tickets.audit_log set action = 'changed'")
    assert refused.constraint == "audit_log_append_only"
