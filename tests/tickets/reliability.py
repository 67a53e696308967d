"""The tickets domain's entry in the reliability suite (see tests/reliability/model.py):
a session owning a file, a ticket and a task; every repository method taking text or
JSON; the SQL counting a session's rows; the Jira tokens that must never be stored in
clear."""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from typing import Any

from attrs import frozen
from hypothesis import strategies as st

from reliability.model import JSON_OBJECTS, Domain, Secret, TextInput
from tether import Database
from tether.tickets import (
    AttachmentRepository,
    AuditRepository,
    ErrorRepository,
    FileRepository,
    JiraTokenRepository,
    KeyRing,
    NewTicket,
    ProjectContextRepository,
    SessionRepository,
    TaskRepository,
    TicketRepository,
    ValidationRepository,
)

# The key ring the token inputs are encrypted with, made up for the suite.
KEYS = KeyRing([("k1", secrets.token_bytes(32))])


@frozen
class Owner:
    """The rows every text input hangs off: a session with a file, a ticket and a task."""

    session_id: uuid.UUID
    file_id: uuid.UUID
    ticket_id: uuid.UUID


async def make_owner(db: Database) -> Owner:
    session = await SessionRepository(db).create("owner-jira-user", "Owner's session")
    file = await FileRepository(db).add(session.id, "spec.md", "up/spec.md", "text/markdown", 10)
    ticket = await TicketRepository(db).create(session.id, NewTicket("Owner's ticket", 0))
    await TaskRepository(db).queue(session.id)
    return Owner(session.id, file.id, ticket.id)


LATER = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)


async def _session_title(db: Database, owner: Owner, value: Any) -> uuid.UUID:
    return (await SessionRepository(db).create(None, value)).id


async def _session_status(db: Database, owner: Owner, value: Any) -> uuid.UUID:
    return (await SessionRepository(db).set_status(owner.session_id, value)).id


async def _file_name(db: Database, owner: Owner, value: Any) -> uuid.UUID:
    return (await FileRepository(db).add(owner.session_id, value, "up/f", "text/plain", 1)).id


async def _task_stage(db: Database, owner: Owner, value: Any) -> uuid.UUID:
    return (await TaskRepository(db).report(owner.session_id, stage=value)).id


async def _task_error(db: Database, owner: Owner, value: Any) -> uuid.UUID:
    return (await TaskRepository(db).fail(owner.session_id, value)).id


async def _validation_errors(db: Database, owner: Owner, value: Any) -> uuid.UUID:
    return (await ValidationRepository(db).record(owner.session_id, False, value)).id


async def _project_key(db: Database, owner: Owner, value: Any) -> uuid.UUID:
    context = await ProjectContextRepository(db).store(owner.session_id, value, "Shop", [], [])
    return context.session_id


async def _ticket_summary(db: Database, owner: Owner, value: Any) -> uuid.UUID:
    return (await TicketRepository(db).create(owner.session_id, NewTicket(value, 1))).id


async def _jira_key(db: Database, owner: Owner, value: Any) -> uuid.UUID:
    return (await TicketRepository(db).set_jira_key(owner.ticket_id, value)).id


async def _attachment_path(db: Database, owner: Owner, value: Any) -> uuid.UUID:
    attachment = await AttachmentRepository(db).attach(
        owner.session_id, owner.ticket_id, "a.png", "image/png", value
    )
    return attachment.id


async def _error_details(db: Database, owner: Owner, value: Any) -> uuid.UUID:
    return (await ErrorRepository(db).log(owner.session_id, "parse", "failed", value)).id


async def _audit_action(db: Database, owner: Owner, value: Any) -> int:
    return (await AuditRepository(db).append(value, session_id=owner.session_id)).id


async def _token_access(db: Database, owner: Owner, value: Any) -> None:
    await JiraTokenRepository(db, keys=KEYS).upsert("jira-user", value, None, LATER)


async def _token_get(db: Database, owner: Owner, value: Any) -> None:
    await JiraTokenRepository(db, keys=KEYS).get(value)


def _read(table: str, column: str, key: str = "id") -> Any:
    return f"select array[{column}] from tickets.{table} where {key} = $1"


async def _issue_access_token(db: Database) -> str:
    raw = f"jira-access-{uuid.uuid4().hex}"
    await JiraTokenRepository(db, keys=KEYS).upsert("secret-user", raw, "refresh-" + raw, LATER)
    return raw


async def _issue_refresh_token(db: Database) -> str:
    raw = f"jira-refresh-{uuid.uuid4().hex}"
    await JiraTokenRepository(db, keys=KEYS).upsert("secret-user", "access-" + raw, raw, LATER)
    return raw


DOMAIN = Domain(
    schema="tickets",
    make_owner=make_owner,
    text_inputs=(
        TextInput("tickets.sessions.title", _session_title, _read("sessions", "title"), 1),
        TextInput(
            "tickets.sessions.status",
            _session_status,
            _read("sessions", "status"),
            0,
            valid=st.sampled_from(["active", "exported", "archived"]),
        ),
        TextInput(
            "tickets.uploaded_files.filename",
            _file_name,
            _read("uploaded_files", "filename"),
            1,
        ),
        TextInput("tickets.session_tasks.stage", _task_stage, _read("session_tasks", "stage"), 0),
        TextInput("tickets.session_tasks.error", _task_error, _read("session_tasks", "error"), 0),
        # JSON reads back as text on the suite's plain connection, so the JSON inputs
        # are judged on refusals and row counts (tests/tickets reads them back as JSON).
        TextInput(
            "tickets.session_validations.errors (JSON)",
            _validation_errors,
            None,
            1,
            valid=st.lists(JSON_OBJECTS, max_size=3),
        ),
        TextInput(
            "tickets.jira_project_context.project_key",
            _project_key,
            _read("jira_project_context", "project_key", "session_id"),
            1,
            valid=st.from_regex(r"[A-Z][A-Z0-9_]{0,20}", fullmatch=True),
        ),
        TextInput("tickets.tickets.summary", _ticket_summary, _read("tickets", "summary"), 1),
        TextInput(
            "tickets.tickets.jira_key",
            _jira_key,
            _read("tickets", "jira_key"),
            0,
            valid=st.from_regex(r"[A-Z][A-Z0-9_]{0,9}-[1-9][0-9]{0,5}", fullmatch=True),
        ),
        TextInput(
            "tickets.attachments.file_path",
            _attachment_path,
            _read("attachments", "file_path"),
            1,
        ),
        TextInput(
            "tickets.session_errors.details (JSON)", _error_details, None, 1, valid=JSON_OBJECTS
        ),
        TextInput("tickets.audit_log.action", _audit_action, _read("audit_log", "action"), 1),
        # The token row and its user's version mark (jira_auth_token_high_water).
        TextInput("tickets.jira_auth_tokens.access_token", _token_access, None, 2),
        # The owner stores no token, so every lookup is NotFound: no value to see accepted.
        TextInput("tickets.jira_auth_tokens.get", _token_get, None, 0, valid=None),
    ),
    rows_of_owner="""
        select 'tickets.sessions' as table_name, count(*) from tickets.sessions where id = $1
        union all
        select 'tickets.uploaded_files', count(*) from tickets.uploaded_files
        where session_id = $1
        union all
        select 'tickets.session_tasks', count(*) from tickets.session_tasks where session_id = $1
        union all
        select 'tickets.session_validations', count(*) from tickets.session_validations
        where session_id = $1
        union all
        select 'tickets.jira_project_context', count(*) from tickets.jira_project_context
        where session_id = $1
        union all
        select 'tickets.tickets', count(*) from tickets.tickets where session_id = $1
        union all
        select 'tickets.ticket_dependencies', count(*) from tickets.ticket_dependencies d
        where d.session_id = $1
           or d.ticket_id in (select id from tickets.tickets where session_id = $1)
           or d.depends_on_ticket_id in (select id from tickets.tickets where session_id = $1)
        union all
        select 'tickets.attachments', count(*) from tickets.attachments
        where session_id = $1
           or ticket_id in (select id from tickets.tickets where session_id = $1)
        union all
        select 'tickets.session_errors', count(*) from tickets.session_errors
        where session_id = $1
        union all
        select 'tickets.audit_log', count(*) from tickets.audit_log
        where session_id = $1
    """,
    secrets=(
        Secret("jira access token", _issue_access_token),
        Secret("jira refresh token", _issue_refresh_token),
    ),
)
