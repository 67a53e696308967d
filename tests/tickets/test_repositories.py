"""The tickets repositories against a real database, from the demo's generated session:
the aggregate in one round trip, tasks, validations, project context, files, tickets and
their pages, attachments, errors with optional file/ticket, the audit log; every refused
write as the right tether error naming table and rule, nothing written; what a session's
deletion takes and what it leaves, counted by PostgreSQL."""

import asyncio
import datetime as dt
import uuid
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tether import Conflict, InvalidValue, MissingReference, NotFound
from tether.testing import expect_changes
from tether.tickets import (
    AppendOnly,
    AttachmentRepository,
    AuditRepository,
    ErrorRepository,
    FileRepository,
    JiraTokenRepository,
    NewTicket,
    ProjectContextRepository,
    SessionRepository,
    TaskRepository,
    TicketRepository,
    ValidationRepository,
)
from tether.tickets.story import build_generated_session

from .checks import counts, refusal, statements_sent


@pytest.fixture
async def made(tether_db):
    """The demo's session: two files, a completed task, a validation, the project context,
    six tickets with seven dependencies, two audit events."""
    return await build_generated_session(tether_db)


async def test_the_aggregate_is_the_session_with_its_files_task_validation_and_context(
    made, tether_db
):
    view = await SessionRepository(tether_db).aggregate(made.session.id)
    assert view.session.id == made.session.id
    assert view.session.title == "Checkout redesign, Q3"
    assert [f.filename for f in view.files] == ["requirements.pdf", "checkout.png"]
    assert view.files[0] == made.requirements
    assert (view.task.status, view.task.stage, view.task.progress) == (
        "completed",
        "generating tickets",
        100,
    )
    assert (view.validation.is_valid, view.validation.errors) == (True, [])
    assert view.project_context.project_key == "SHOP"
    assert view.project_context.issue_types[1] == {"id": "10002", "name": "Story"}


async def test_a_bare_session_has_no_files_task_validation_or_context(tether_db):
    session = await SessionRepository(tether_db).create()
    view = await SessionRepository(tether_db).aggregate(session.id)
    assert (view.session, view.files, view.task, view.validation, view.project_context) == (
        session,
        (),
        None,
        None,
        None,
    )
    assert session.status == "active"
    with pytest.raises(NotFound, match=r"tickets\.sessions"):
        await SessionRepository(tether_db).aggregate(uuid.uuid4())


async def test_the_aggregate_is_one_round_trip(made, tether_db):
    sent = await statements_sent(
        tether_db, lambda conn: SessionRepository(conn).aggregate(made.session.id)
    )
    assert len(sent) == 1


async def test_status_moves_and_updated_at_follows(made, tether_db):
    sessions = SessionRepository(tether_db)
    exported = await sessions.set_status(made.session.id, "exported")
    assert exported.status == "exported"
    assert exported.updated_at > made.session.updated_at
    with pytest.raises(InvalidValue) as refused:
        await sessions.set_status(made.session.id, "done")
    assert refused.value.constraint == "sessions_status_check"
    assert "active, exported or archived" in str(refused.value)
    with pytest.raises(NotFound):
        await sessions.set_status(uuid.uuid4(), "archived")


async def test_the_task_is_queued_reported_completed_or_failed(tether_db):
    session = await SessionRepository(tether_db).create()
    tasks = TaskRepository(tether_db)
    queued = await tasks.queue(session.id, stage="waiting")
    assert (queued.status, queued.stage, queued.progress, queued.error) == (
        "pending",
        "waiting",
        0,
        None,
    )
    running = await tasks.report(session.id, stage="parsing", progress=40)
    assert (running.status, running.stage, running.progress) == ("running", "parsing", 40)
    kept = await tasks.report(session.id, progress=60)
    assert (kept.stage, kept.progress) == ("parsing", 60)
    failed = await tasks.fail(session.id, "the model timed out")
    assert (failed.status, failed.progress, failed.error) == ("failed", 60, "the model timed out")
    again = await tasks.queue(session.id)
    assert (again.id, again.status, again.progress, again.error) == (queued.id, "pending", 0, None)
    assert (await tasks.complete(session.id)).progress == 100
    with pytest.raises(InvalidValue) as refused:
        await tasks.report(session.id, progress=101)
    assert refused.value.constraint == "session_tasks_progress_check"
    with pytest.raises(NotFound, match=r"tickets\.session_tasks"):
        await tasks.report(uuid.uuid4(), progress=1)
    with pytest.raises(MissingReference) as refused:
        await tasks.queue(uuid.uuid4())
    assert refused.value.constraint == "session_tasks_session_id_fkey"


async def test_a_second_task_or_validation_for_a_session_is_a_conflict(made, tether_db):
    for table, statement in (
        ("session_tasks", "insert into tickets.session_tasks (session_id) values ($1)"),
        (
            "session_validations",
            "insert into tickets.session_validations (session_id, is_valid) values ($1, true)",
        ),
    ):
        refused = await refusal(tether_db, statement, made.session.id)
        assert isinstance(refused, Conflict), refused
        assert (refused.table, refused.constraint) == (
            f"tickets.{table}",
            f"{table}_session_id_key",
        )


async def test_validation_and_project_context_replace_what_was_there(made, tether_db):
    validation = await ValidationRepository(tether_db).record(
        made.session.id, False, [{"ticket": 2, "problem": "no summary"}]
    )
    assert (validation.is_valid, validation.errors) == (
        False,
        [{"ticket": 2, "problem": "no summary"}],
    )
    context = await ProjectContextRepository(tether_db).store(
        made.session.id, "WEB", "Web", [{"name": "Bug"}], []
    )
    view = await SessionRepository(tether_db).aggregate(made.session.id)
    assert view.validation == validation
    assert view.project_context == context
    assert (await counts(tether_db))["session_validations"] == 1
    with pytest.raises(InvalidValue) as refused:
        await ValidationRepository(tether_db).record(made.session.id, False, {"not": "a list"})
    assert refused.value.constraint == "session_validations_errors_check"
    with pytest.raises(InvalidValue) as refused:
        await ProjectContextRepository(tether_db).store(made.session.id, "web", "Web", [], [])
    assert refused.value.constraint == "jira_project_context_project_key_check"


@pytest.mark.parametrize(
    ("args", "constraint"),
    [
        (("", "up/x", "text/plain", 1), "uploaded_files_filename_check"),
        (("x" * 256, "up/x", "text/plain", 1), "uploaded_files_filename_check"),
        (("x", "p" * 1025, "text/plain", 1), "uploaded_files_file_path_check"),
        (("x", "up/x", " ", 1), "uploaded_files_content_type_check"),
        (("x", "up/x", "text/plain", -1), "uploaded_files_size_bytes_check"),
    ],
)
async def test_bad_files_are_refused(made, tether_db, args, constraint):
    before = await counts(tether_db)
    with pytest.raises(InvalidValue) as refused:
        await FileRepository(tether_db).add(made.session.id, *args)
    assert (refused.value.table, refused.value.constraint) == ("tickets.uploaded_files", constraint)
    assert await counts(tether_db) == before


async def test_tickets_come_back_in_batch_order_and_page_by_position(made, tether_db):
    tickets = TicketRepository(tether_db)
    created = await tickets.create_many(
        made.session.id,
        [NewTicket(f"Extra {n}", 10 + (n * 7) % 5, story_points=0.5) for n in range(5)],
    )
    assert [t.summary for t in created] == [f"Extra {n}" for n in range(5)]
    assert created[0].story_points == Decimal("0.5")
    assert await tickets.get(created[3].id) == created[3]
    seen = []
    page = await tickets.page_of_session(made.session.id, limit=4)
    while True:
        seen += [(t.position, t.id) for t in page]
        if page.next is None:
            break
        page = await tickets.page_of_session(made.session.id, limit=4, after=page.next)
    assert len(seen) == 11
    assert seen == sorted(seen)


async def test_jira_keys_are_unique_when_set(made, tether_db):
    tickets = TicketRepository(tether_db)
    first, second = made.tickets[0], made.tickets[1]
    assert (await tickets.set_jira_key(first.id, "SHOP-1")).jira_key == "SHOP-1"
    with pytest.raises(Conflict) as refused:
        await tickets.set_jira_key(second.id, "SHOP-1")
    assert (refused.value.table, refused.value.constraint) == (
        "tickets.tickets",
        "tickets_jira_key_key",
    )
    assert "another ticket already has this Jira key" in str(refused.value)
    with pytest.raises(InvalidValue) as refused:
        await tickets.set_jira_key(second.id, "shop 2")
    assert refused.value.constraint == "tickets_jira_key_check"
    assert (await tickets.set_jira_key(first.id, None)).jira_key is None
    assert (await tickets.set_jira_key(second.id, "SHOP-1")).jira_key == "SHOP-1"


@pytest.mark.parametrize(
    ("ticket", "error", "constraint"),
    [
        (NewTicket(" ", 0), InvalidValue, "tickets_summary_check"),
        (NewTicket("x" * 256, 0), InvalidValue, "tickets_summary_check"),
        (NewTicket("x", 0, "Feature"), InvalidValue, "tickets_issue_type_check"),
        (NewTicket("x", 0, priority="Urgent"), InvalidValue, "tickets_priority_check"),
        (NewTicket("x", 0, story_points=-1), InvalidValue, "tickets_story_points_check"),
        (
            NewTicket("x", 0, story_points=Decimal("NaN")),
            InvalidValue,
            "tickets_story_points_check",
        ),
        (NewTicket("x", 0, story_points=float("inf")), InvalidValue, "tickets_story_points_check"),
        (NewTicket("x", -1), InvalidValue, "tickets_position_check"),
    ],
)
async def test_bad_tickets_refuse_the_whole_batch(made, tether_db, ticket, error, constraint):
    before = await counts(tether_db)
    with pytest.raises(error) as refused:
        await TicketRepository(tether_db).create_many(
            made.session.id, [NewTicket("Fine", 20), ticket]
        )
    assert (refused.value.table, refused.value.constraint) == ("tickets.tickets", constraint)
    assert await counts(tether_db) == before


async def test_tickets_of_a_missing_session_are_a_missing_reference(tether_db):
    with pytest.raises(MissingReference) as refused:
        await TicketRepository(tether_db).create(uuid.uuid4(), NewTicket("x", 0))
    assert refused.value.constraint == "tickets_session_id_fkey"
    assert "the ticket's session must exist" in str(refused.value)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: NewTicket(["a"], 0), "tickets.tickets: summary must be str, not list"),
        (lambda: NewTicket("a", "0"), "tickets.tickets: position must be int, not str"),
        (lambda: NewTicket("a", True), "tickets.tickets: position must be int, not bool"),
        (lambda: NewTicket("a", 0, description=1), "description must be str, not int"),
        (lambda: NewTicket("a", 0, story_points="3"), "story_points must be a number, not str"),
        (lambda: NewTicket("a", 0, depends_on=["0"]), "places in the batch \\(int\\), not str"),
    ],
)
def test_ticket_inputs_are_typed(build, message):
    """Tickets travel as parallel arrays, where a list would become one more dimension:
    the input records refuse wrong types before anything is sent."""
    with pytest.raises(InvalidValue, match=message):
        build()


async def test_a_dependency_outside_the_batch_is_refused_before_sending(made, tether_db):
    with pytest.raises(InvalidValue, match="depends_on place 2 is not in this batch of 2"):
        await TicketRepository(tether_db).create_many(
            made.session.id, [NewTicket("a", 0), NewTicket("b", 1, depends_on=(2,))]
        )
    with pytest.raises(InvalidValue, match="expected NewTicket items, not dict"):
        await TicketRepository(tether_db).create_many(made.session.id, [{"summary": "a"}])


async def test_one_attachment_per_ticket_of_the_same_session(made, tether_db):
    attachments = AttachmentRepository(tether_db)
    form = made.ticket("Payment form")
    attachment = await attachments.attach(made.session.id, form.id, "a.png", "image/png", "up/a")
    assert await attachments.of_ticket(form.id) == attachment
    assert await attachments.of_ticket(made.tickets[0].id) is None
    with pytest.raises(Conflict) as refused:
        await attachments.attach(made.session.id, form.id, "b.png", "image/png", "up/b")
    assert refused.value.constraint == "attachments_ticket_id_key"
    assert "already has an attachment" in str(refused.value)
    other = await SessionRepository(tether_db).create()
    with pytest.raises(MissingReference) as refused:
        await attachments.attach(other.id, made.tickets[0].id, "c.png", "image/png", "up/c")
    assert (refused.value.table, refused.value.constraint) == (
        "tickets.attachments",
        "attachments_ticket_id_fkey",
    )
    assert "in the attachment's session" in str(refused.value)
    assert (await counts(tether_db))["attachments"] == 1
    assert await attachments.delete(attachment.id)
    assert not await attachments.delete(attachment.id)


async def test_deleting_a_ticket_takes_its_dependencies_and_attachment(made, tether_db):
    form = made.ticket("Payment form")
    await AttachmentRepository(tether_db).attach(made.session.id, form.id, "a", "image/png", "p")
    error = await ErrorRepository(tether_db).log(made.session.id, "x", "y", ticket_id=form.id)
    async with (
        tether_db.connection() as conn,
        expect_changes(
            conn,
            # depends on the epic and the API client; the e-mail depends on it
            deleted={
                "tickets.tickets": 1,
                "tickets.ticket_dependencies": 3,
                "tickets.attachments": 1,
            },
            updated={"tickets.session_errors": 1},
        ),
    ):
        assert await TicketRepository(conn).delete(form.id)
    [kept] = (await ErrorRepository(tether_db).page_of_session(made.session.id)).items
    assert (kept.id, kept.related_ticket_id, kept.session_id) == (error.id, None, made.session.id)
    assert not await TicketRepository(tether_db).delete(form.id)


async def test_errors_about_a_file_a_ticket_or_neither(made, tether_db):
    errors = ErrorRepository(tether_db)
    about_file = await errors.log(
        made.session.id, "parse", "page 7", {"page": 7}, file_id=made.requirements.id
    )
    about_ticket = await errors.log(
        made.session.id, "export", "Jira said 400", ticket_id=made.tickets[0].id
    )
    plain = await errors.log(made.session.id, "quota", "too many requests")
    assert (about_file.related_file_id, about_file.related_ticket_id) == (
        made.requirements.id,
        None,
    )
    assert about_ticket.related_ticket_id == made.tickets[0].id
    assert (plain.related_file_id, plain.related_ticket_id, plain.details) == (None, None, {})
    assert about_file.details == {"page": 7}

    other = await SessionRepository(tether_db).create()
    for kwargs, constraint in (
        ({"file_id": made.requirements.id}, "session_errors_related_file_id_fkey"),
        ({"ticket_id": made.tickets[0].id}, "session_errors_related_ticket_id_fkey"),
        ({"file_id": uuid.uuid4()}, "session_errors_related_file_id_fkey"),
    ):
        with pytest.raises(MissingReference) as refused:
            await errors.log(other.id, "x", "y", **kwargs)
        assert (refused.value.table, refused.value.constraint) == (
            "tickets.session_errors",
            constraint,
        )
    for details, constraint in (([1], "session_errors_details_check"), (None, None)):
        with pytest.raises(InvalidValue) as refused:
            await errors.log(made.session.id, "x", "y", details)
        assert refused.value.constraint == constraint
    assert (await counts(tether_db))["session_errors"] == 3


async def test_deleting_a_file_clears_only_the_reference(made, tether_db):
    errors = ErrorRepository(tether_db)
    logged = await errors.log(made.session.id, "parse", "bad", file_id=made.requirements.id)
    async with (
        tether_db.connection() as conn,
        expect_changes(
            conn,
            deleted={"tickets.uploaded_files": 1},
            updated={"tickets.session_errors": 1},
        ),
    ):
        assert await FileRepository(conn).delete(made.requirements.id)
    [kept] = (await errors.page_of_session(made.session.id)).items
    assert (kept.id, kept.session_id, kept.related_file_id, kept.message) == (
        logged.id,
        made.session.id,
        None,
        "bad",
    )


async def test_errors_page_newest_first(made, tether_db):
    errors = ErrorRepository(tether_db)
    async with tether_db.transaction() as conn:  # one created_at: ties go by id
        logged = [await ErrorRepository(conn).log(made.session.id, "x", f"{n}") for n in range(5)]
    logged.append(await errors.log(made.session.id, "x", "latest"))
    first = await errors.page_of_session(made.session.id, limit=3)
    second = await errors.page_of_session(made.session.id, limit=3, after=first.next)
    assert second.next is None
    order = [e.id for e in (*first, *second)]
    assert order[0] == logged[-1].id
    expected = [logged[-1].id, *sorted((e.id for e in logged[:-1]), reverse=True)]
    assert order == expected


async def test_the_audit_log_is_appended_and_read_newest_first(made, tether_db):
    audit = AuditRepository(tether_db)
    event = await audit.append(
        "ticket.exported", session_id=made.session.id, actor="bot", details={"key": "SHOP-1"}
    )
    assert (event.session_id, event.recorded_session_id, event.details) == (
        made.session.id,
        made.session.id,
        {"key": "SHOP-1"},
    )
    unrelated = await audit.append("jira.login", actor="olivia@example.com")
    assert (unrelated.session_id, unrelated.recorded_session_id) == (None, None)
    page = await audit.page_of_session(made.session.id, limit=2)
    assert [e.action for e in page] == ["ticket.exported", "tickets.generated"]
    rest = await audit.page_of_session(made.session.id, limit=2, after=page.next)
    assert [e.action for e in rest] == ["session.created"] and rest.next is None
    assert [e.id for e in await audit.page(limit=2)] == [unrelated.id, event.id]
    with pytest.raises(InvalidValue) as refused:
        await audit.append(" ")
    assert refused.value.constraint == "audit_log_action_check"
    with pytest.raises(MissingReference) as refused:
        await audit.append("x", session_id=uuid.uuid4())
    assert refused.value.constraint == "audit_log_session_id_fkey"


@pytest.mark.parametrize(
    "statement",
    [
        "update tickets.audit_log set action = 'rewritten'",
        "update tickets.audit_log set session_id = null",
        "update tickets.audit_log set recorded_session_id = gen_random_uuid()",
        "delete from tickets.audit_log",
        "delete from tickets.audit_log where action = 'session.created'",
        "truncate tickets.audit_log",
        "truncate tickets.sessions cascade",
    ],
)
async def test_the_audit_log_refuses_every_change(made, tether_db, statement):
    before = await counts(tether_db)
    refused = await refusal(tether_db, statement)
    assert isinstance(refused, AppendOnly)
    assert (refused.table, refused.constraint) == ("tickets.audit_log", "audit_log_append_only")
    assert "the audit log is append-only" in str(refused)
    assert await counts(tether_db) == before


async def test_deleting_a_session_takes_everything_of_it_but_audit_and_tokens(
    made, tether_db, keys
):
    tokens = JiraTokenRepository(tether_db)
    access = f"access-{uuid.uuid4()}"
    await tokens.upsert(made.session.jira_user_id, access, None, dt.datetime.now(dt.UTC))
    form = made.ticket("Payment form")
    await AttachmentRepository(tether_db).attach(made.session.id, form.id, "a", "image/png", "p")
    await ErrorRepository(tether_db).log(made.session.id, "x", "y", file_id=made.requirements.id)
    bystander = await build_generated_session(tether_db)
    before = await counts(tether_db)
    async with (
        tether_db.connection() as conn,
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
                "tickets.attachments": 1,
                "tickets.session_errors": 1,
            },
            updated={"tickets.audit_log": 2},  # session_id set NULL, nothing else
        ),
    ):
        assert await SessionRepository(conn).delete(made.session.id)
    after = await counts(tether_db)
    assert after == {
        **{table: before[table] // 2 for table in before},
        "attachments": 0,
        "session_errors": 0,
        "jira_auth_tokens": 1,
        "jira_auth_token_high_water": 1,  # global, like the tokens: a session takes none
        "audit_log": 4,
    }
    trail = await AuditRepository(tether_db).page_of_session(made.session.id)
    assert [(e.action, e.session_id) for e in trail] == [
        ("tickets.generated", None),
        ("session.created", None),
    ]
    assert all(e.recorded_session_id == made.session.id for e in trail)
    assert (await tokens.get(made.session.jira_user_id)).access_token == access
    assert len((await TicketRepository(tether_db).page_of_session(bystander.session.id)).items) == 6
    assert not await SessionRepository(tether_db).delete(made.session.id)


async def test_repositories_join_the_callers_transaction(made, tether_db):
    before = await counts(tether_db)

    async def change_of_mind():
        async with tether_db.transaction() as conn:
            await TicketRepository(conn).create(made.session.id, NewTicket("Extra", 9))
            await AuditRepository(conn).append("x", session_id=made.session.id)
            await SessionRepository(conn).delete(made.session.id)
            raise RuntimeError("the caller changes its mind")

    with pytest.raises(RuntimeError):
        await change_of_mind()
    assert await counts(tether_db) == before


async def test_two_attachments_racing_for_one_ticket_one_wins(made, tether_db):
    ticket = made.tickets[2]
    results = await asyncio.gather(
        *(
            AttachmentRepository(tether_db).attach(
                made.session.id, ticket.id, f"{n}.png", "image/png", f"up/{n}"
            )
            for n in range(4)
        ),
        return_exceptions=True,
    )
    assert sorted(type(r).__name__ for r in results) == ["Attachment", *["Conflict"] * 3]
    assert (await counts(tether_db))["attachments"] == 1


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)


def texts(value):
    """Every string in a JSON value, keys included."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from texts(item)
    elif isinstance(value, list):
        for item in value:
            yield from texts(item)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(details=st.dictionaries(st.text(), JSON, max_size=4))
async def test_json_details_read_back_as_given_or_are_refused(made, tether_db, details):
    """A JSON object of any text, numbers, lists: read back equal, or refused (a NUL or a
    lone surrogate, which PostgreSQL's jsonb cannot hold) as an InvalidValue, nothing
    written."""
    errors = ErrorRepository(tether_db)
    if any(c == "\x00" or "\ud800" <= c <= "\udfff" for text in texts(details) for c in text):
        with pytest.raises(InvalidValue) as refused:
            await errors.log(made.session.id, "x", "y", details)
        assert refused.value.sqlstate.startswith("22")
        return
    logged = await errors.log(made.session.id, "x", "y", details)
    [read] = (await errors.page_of_session(made.session.id, limit=1)).items
    assert read == logged
    assert read.details == details
