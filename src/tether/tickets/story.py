"""The tickets domain's demo story (seed 004), played by `tether demo tickets`.

A product owner uploads a requirements document and wireframes; the generator
works through its stages and writes six tickets with their dependencies in one
statement. Closing a cycle is refused by the database; the export order puts every
ticket after what it depends on. A ticket gets its attachment, an error is logged
about a file, the owner's Jira tokens are stored encrypted, read back and
re-encrypted under a new key. Finally the session is deleted: the database's own
counters show what cascaded, and the audit trail stays. The tickets tests start
from the same session (`build_generated_session`).
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid

from attrs import define, frozen

from tether import queries
from tether.changes import track
from tether.database import Database
from tether.demo import Out, RowCount, StoryLookups, changes_table, table
from tether.tickets.errors import DependencyCycle
from tether.tickets.records import IssueType, NewTicket, Priority, Session, Ticket, UploadedFile
from tether.tickets.repositories import (
    AttachmentRepository,
    AuditRepository,
    DependencyRepository,
    ErrorRepository,
    FileRepository,
    ProjectContextRepository,
    SessionRepository,
    TaskRepository,
    TicketRepository,
    ValidationRepository,
)
from tether.tickets.tokens import KEYS_VARIABLE, JiraTokenRepository, KeyRing

Q = queries.load("tickets")

JIRA_USER = "557058:f2b1c0de-demo"
OWNER = "olivia@example.com"

# The generator's output: (summary, issue type, priority, story points, depends on).
# "Payment form" (position 2) depends on "Payment API client" (position 3), so the
# export order moves it after the client.
GENERATED = [
    NewTicket("Checkout redesign", 0, IssueType.EPIC, Priority.HIGH),
    NewTicket(
        "Cart summary panel", 1, IssueType.STORY, Priority.HIGH, story_points=3, depends_on=(0,)
    ),
    NewTicket(
        "Payment form", 2, IssueType.STORY, Priority.HIGHEST, story_points=5, depends_on=(0, 3)
    ),
    NewTicket(
        "Payment API client", 3, IssueType.TASK, Priority.HIGH, story_points=3, depends_on=(0,)
    ),
    NewTicket(
        "Order confirmation email",
        4,
        IssueType.TASK,
        Priority.MEDIUM,
        story_points=2,
        depends_on=(1, 2),
    ),
    NewTicket(
        "Totals rounded wrongly", 5, IssueType.BUG, Priority.LOW, story_points=1, depends_on=(1,)
    ),
]


@define
class GeneratedSession:
    """What the story made before the deletion (the tests start from it too)."""

    session: Session
    requirements: UploadedFile
    wireframes: UploadedFile
    tickets: list[Ticket]

    def ticket(self, summary: str) -> Ticket:
        return next(t for t in self.tickets if t.summary == summary)


async def build_generated_session(db: Database) -> GeneratedSession:
    """A session with two uploaded files, its task run to completion, a validation, the
    Jira project context, and the six generated tickets with their dependencies."""
    session = await SessionRepository(db).create(JIRA_USER, "Checkout redesign, Q3")
    audit = AuditRepository(db)
    await audit.append("session.created", session_id=session.id, actor=OWNER)
    files, folder = FileRepository(db), f"uploads/{session.id}"
    requirements = await files.add(
        session.id, "requirements.pdf", f"{folder}/requirements.pdf", "application/pdf", 482_113
    )
    wireframes = await files.add(
        session.id, "checkout.png", f"{folder}/checkout.png", "image/png", 96_204
    )
    tasks = TaskRepository(db)
    await tasks.queue(session.id)
    await tasks.report(session.id, stage="reading documents", progress=30)
    await tasks.report(session.id, stage="generating tickets", progress=70)
    tickets = await TicketRepository(db).create_many(session.id, GENERATED)
    await tasks.complete(session.id)
    await ValidationRepository(db).record(session.id, True, [])
    await ProjectContextRepository(db).store(
        session.id,
        "SHOP",
        "Web shop",
        [{"id": "10001", "name": "Epic"}, {"id": "10002", "name": "Story"}],
        [{"id": "1", "name": "Highest"}, {"id": "3", "name": "Medium"}],
    )
    await audit.append(
        "tickets.generated", session_id=session.id, details={"tickets": len(tickets)}
    )
    return GeneratedSession(session, requirements, wireframes, tickets)


@frozen
class TokenAtRest:
    key_id: str | None
    access_size: int
    refresh_size: int | None
    raw_text_found: bool


class Lookups(StoryLookups):
    """The story's own look-ups (sql/tickets/story.sql)."""

    ROWS_OF_SESSION = Q.rows_of_session.returning(RowCount)
    TOKEN_AT_REST = Q.token_at_rest.returning(TokenAtRest)

    async def rows_of_session(self, session_id: uuid.UUID) -> str:
        return await self._rows_left(self.ROWS_OF_SESSION, session_id=session_id)

    async def token_at_rest(self, jira_user_id: str, raw: str) -> TokenAtRest | None:
        return await self._one(self.TOKEN_AT_REST, jira_user_id=jira_user_id, raw=raw)


def tickets_table(tickets: list[Ticket]) -> str:
    return table(
        ("position", "type", "priority", "points", "summary"),
        [(t.position, t.issue_type, t.priority, t.story_points or "", t.summary) for t in tickets],
    )


async def play(db: Database, out: Out) -> None:
    out("\n== Olivia's session: two uploads, the generator's task, six tickets ==")
    made = await build_generated_session(db)
    session_id = made.session.id
    view = await SessionRepository(db).aggregate(session_id)
    out(f"session {session_id}: {view.session.title!r}, {view.session.status}")
    out("the aggregate, in one round trip (session, files, task, validation, project):")
    out(
        table(
            ("file", "type", "bytes"),
            [(f.filename, f.content_type, f"{f.size_bytes:,}") for f in view.files],
        )
    )
    assert view.task is not None
    assert view.validation is not None
    assert view.project_context is not None
    out(
        f"task: {view.task.status}, stage {view.task.stage!r}, {view.task.progress}%; "
        f"validation: {'valid' if view.validation.is_valid else 'invalid'}; "
        f"Jira project: {view.project_context.project_key} ({view.project_context.project_name})"
    )
    summaries = {t.id: t.summary for t in made.tickets}
    out("\ngenerated in one statement, dependencies included:")
    out(tickets_table(made.tickets))

    out("\n== A dependency that would close a cycle ==")
    epic, email = made.ticket("Checkout redesign"), made.ticket("Order confirmation email")
    try:
        await DependencyRepository(db).add(epic.id, email.id)
    except DependencyCycle as refused:
        out(f"'{epic.summary}' depending on '{email.summary}': refused by the database:")
        out(f"  {type(refused).__name__}: {refused}")

    out("\n== Export order: nothing before what it depends on, ties by position ==")
    order = await TicketRepository(db).export_order(session_id)
    out(
        table(
            ("#", "position", "summary", "depends on"),
            [
                (
                    number,
                    item.ticket.position,
                    item.ticket.summary,
                    ", ".join(summaries[d] for d in item.depends_on),
                )
                for number, item in enumerate(order, start=1)
            ],
        )
    )
    audit = AuditRepository(db)
    await audit.append("tickets.ordered", session_id=session_id, details={"count": len(order)})

    out("\n== An attachment, and an error about a file ==")
    form = made.ticket("Payment form")
    attachment = await AttachmentRepository(db).attach(
        session_id, form.id, "checkout.png", "image/png", made.wireframes.file_path
    )
    out(f"'{form.summary}' has attachment {attachment.filename}")
    error = await ErrorRepository(db).log(
        session_id,
        "parse_warning",
        "page 7 holds a table that could not be read",
        {"page": 7},
        file_id=made.requirements.id,
    )
    out(f"error logged: {error.error_type} about {made.requirements.filename}: {error.message}")

    out("\n== Olivia's Jira tokens, encrypted before they leave Python ==")
    first_key = ("demo-1", secrets.token_bytes(32))
    out(
        f"(the key ring is made up by the demo, key {first_key[0]!r}, and handed to the "
        f"repository; a service's comes from ${KEYS_VARIABLE}, read once)"
    )
    raw_access = f"demo-access-{uuid.uuid4().hex}"
    tokens = JiraTokenRepository(db, keys=KeyRing([first_key]))
    stored = await tokens.upsert(
        JIRA_USER,
        raw_access,
        f"demo-refresh-{uuid.uuid4().hex}",
        dt.datetime.now(dt.UTC) + dt.timedelta(hours=1),
        ["read:jira-work", "write:jira-work"],
    )
    await audit.append("jira.tokens_stored", session_id=session_id, actor=OWNER)
    out(f"stored: {stored!r}")
    lookups = Lookups(db)
    await _show_at_rest(out, lookups, raw_access)
    read = await tokens.get(JIRA_USER)
    out(f"read back and decrypted: the same access token: {read.access_token == raw_access}")
    # A new key first in the ring, the old one kept to decrypt what it encrypted.
    ring = KeyRing([("demo-2", secrets.token_bytes(32)), first_key])
    tokens = JiraTokenRepository(db, keys=ring)
    rotation = await tokens.rotate()
    out(
        f"a new key {ring.current!r} first in the ring, rotate(): {rotation.rotated} row "
        f"re-encrypted, {len(rotation.skipped)} skipped"
    )
    await _show_at_rest(out, lookups, raw_access)
    out(f"still the same token: {(await tokens.get(JIRA_USER)).access_token == raw_access}")

    out("\n== Delete the session: everything of it goes but its audit trail ==")
    async with db.connection() as conn:
        async with track(conn) as changes:
            await SessionRepository(conn).delete(session_id)
        out("what the database cascaded (pg_stat_xact_user_tables):")
        out(changes_table(changes))
    out("rows of the session left: " + await lookups.rows_of_session(session_id))
    trail = await audit.page_of_session(session_id)
    out("its audit trail, newest first (session_id cleared, recorded_session_id kept):")
    out(
        table(
            ("id", "action", "actor", "session_id"),
            [(e.id, e.action, e.actor or "", e.session_id) for e in trail],
        )
    )
    out(f"the Jira tokens are not the session's: still there: {(await tokens.get(JIRA_USER))!r}")


async def _show_at_rest(out: Out, lookups: Lookups, raw: str) -> None:
    at_rest = await lookups.token_at_rest(JIRA_USER, raw)
    assert at_rest is not None
    out(
        f"in the database: key id {at_rest.key_id!r}, {at_rest.access_size} + "
        f"{at_rest.refresh_size} bytes of ciphertext; the token in clear found in "
        f"the table: {'yes' if at_rest.raw_text_found else 'no'}"
    )
