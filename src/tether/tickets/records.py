"""The tickets domain's records: one attrs class per result shape, fields in column order,
and the typed input records of the batch writes. Statuses, issue types and priorities
come out as the StrEnums below, which compare equal to their labels
(IssueType.EPIC == "Epic")."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from collections.abc import Iterable
from decimal import Decimal
from typing import Any, TypeVar

from attrs import field, frozen
from attrs.validators import optional

from tether.errors import InvalidValue
from tether.records import builder, is_a, rows_of

R = TypeVar("R")


class SessionStatus(enum.StrEnum):
    """`tickets.sessions.status`."""

    ACTIVE = "active"
    EXPORTED = "exported"
    ARCHIVED = "archived"


class TaskStatus(enum.StrEnum):
    """`tickets.session_tasks.status`, in the order a task moves through it."""

    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"


class IssueType(enum.StrEnum):
    """`tickets.tickets.issue_type`, as Jira names them."""

    EPIC = "Epic"
    STORY = "Story"
    TASK = "Task"
    BUG = "Bug"
    SUBTASK = "Subtask"


class Priority(enum.StrEnum):
    """`tickets.tickets.priority`, as Jira names them, highest first."""

    HIGHEST = "Highest"
    HIGH = "High"
    MEDIUM = "Medium"
    LOW = "Low"
    LOWEST = "Lowest"


def _row(record: type[R], row: Any) -> R | None:
    """A nested row (`row(...)` in the query) as a record; None for NULL."""
    return None if row is None or isinstance(row, record) else builder(record).one(row)


@frozen
class Session:
    id: uuid.UUID
    jira_user_id: str | None
    title: str | None
    status: SessionStatus = field(converter=SessionStatus)
    created_at: dt.datetime
    updated_at: dt.datetime


@frozen
class UploadedFile:
    id: uuid.UUID
    session_id: uuid.UUID
    filename: str
    file_path: str
    content_type: str
    size_bytes: int
    uploaded_at: dt.datetime


@frozen
class SessionTask:
    """The session's background job: pending, running, completed or failed."""

    id: uuid.UUID
    session_id: uuid.UUID
    status: TaskStatus = field(converter=TaskStatus)
    stage: str | None
    progress: int
    error: str | None
    started_at: dt.datetime
    updated_at: dt.datetime


@frozen
class SessionValidation:
    id: uuid.UUID
    session_id: uuid.UUID
    is_valid: bool
    errors: list[Any]
    validated_at: dt.datetime


@frozen
class ProjectContext:
    """What the session last fetched from Jira about its project."""

    session_id: uuid.UUID
    project_key: str
    project_name: str
    issue_types: list[Any]
    priorities: list[Any]
    fetched_at: dt.datetime


def _session(row: Any) -> Session:
    session = _row(Session, row)
    assert session is not None, "a session aggregate has its session"
    return session


def _files(rows: Iterable[Any] | None) -> tuple[UploadedFile, ...]:
    return rows_of(UploadedFile, rows)


def _task(row: Any) -> SessionTask | None:
    return _row(SessionTask, row)


def _validation(row: Any) -> SessionValidation | None:
    return _row(SessionValidation, row)


def _project_context(row: Any) -> ProjectContext | None:
    return _row(ProjectContext, row)


@frozen
class SessionAggregate:
    """A session with its files (in upload order) and its task, validation and Jira
    project context (None where there is none yet), read in one round trip."""

    session: Session = field(converter=_session)
    files: tuple[UploadedFile, ...] = field(converter=_files)
    task: SessionTask | None = field(converter=_task)
    validation: SessionValidation | None = field(converter=_validation)
    project_context: ProjectContext | None = field(converter=_project_context)


@frozen
class Ticket:
    id: uuid.UUID
    session_id: uuid.UUID
    summary: str
    description: str | None
    issue_type: IssueType = field(converter=IssueType)
    priority: Priority = field(converter=Priority)
    story_points: Decimal | None
    jira_key: str | None
    position: int
    created_at: dt.datetime
    updated_at: dt.datetime


def _depends_on(ids: Iterable[uuid.UUID] | None) -> tuple[uuid.UUID, ...]:
    return () if ids is None else tuple(ids)


def _ticket(row: Any) -> Ticket:
    ticket = _row(Ticket, row)
    assert ticket is not None, "an exported ticket has its ticket"
    return ticket


@frozen
class ExportedTicket:
    """A ticket in export order, with the tickets it depends on (each earlier in the
    order, by position)."""

    ticket: Ticket = field(converter=_ticket)
    depends_on: tuple[uuid.UUID, ...] = field(converter=_depends_on)


@frozen
class Dependency:
    """`ticket_id` depends on `depends_on_ticket_id`: that one is exported first."""

    ticket_id: uuid.UUID
    depends_on_ticket_id: uuid.UUID
    session_id: uuid.UUID
    created_at: dt.datetime


@frozen
class Attachment:
    id: uuid.UUID
    session_id: uuid.UUID
    ticket_id: uuid.UUID
    filename: str
    content_type: str
    file_path: str
    created_at: dt.datetime


@frozen
class SessionError:
    """An error met while working on a session, about one of its files or tickets or
    neither (the reference is cleared when the file or ticket is deleted)."""

    id: uuid.UUID
    session_id: uuid.UUID
    related_file_id: uuid.UUID | None
    related_ticket_id: uuid.UUID | None
    error_type: str
    message: str
    details: dict[str, Any]
    created_at: dt.datetime


@frozen
class AuditEvent:
    """One entry of the append-only audit log. `session_id` is None once the session
    is deleted; `recorded_session_id` keeps the session it was about."""

    id: int
    session_id: uuid.UUID | None
    action: str
    actor: str | None
    details: dict[str, Any]
    created_at: dt.datetime
    recorded_session_id: uuid.UUID | None


def _scopes(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(values)


@frozen
class StoredToken:
    """A row of tickets.jira_auth_tokens as the database holds it: the tokens encrypted,
    under the key `key_id`. `JiraTokenRepository` opens it into a `JiraToken`."""

    jira_user_id: str
    access_token: bytes = field(repr=False)
    refresh_token: bytes | None = field(repr=False)
    expires_at: dt.datetime
    scopes: tuple[str, ...] = field(converter=_scopes)
    updated_at: dt.datetime
    key_id: str | None
    version: int | None  # None: written before rows had versions (tickets_0003)


@frozen
class JiraToken:
    """A Jira user's OAuth tokens, decrypted. The tokens never show in a repr."""

    jira_user_id: str
    access_token: str = field(repr=False)
    refresh_token: str | None = field(repr=False)
    expires_at: dt.datetime
    scopes: tuple[str, ...]
    updated_at: dt.datetime
    key_id: str


@frozen
class SkippedToken:
    """A token `rotate()` left as it was, and why: it does not decrypt with the ring,
    or its row has no key id."""

    jira_user_id: str
    why: str


@frozen
class TokenRotation:
    """What `JiraTokenRepository.rotate()` did: the rows it encrypted again under the
    current key, and those it skipped (each with why)."""

    rotated: int
    skipped: tuple[SkippedToken, ...]


TICKETS = "tickets.tickets"


def _story_points(value: Any) -> Decimal | None:
    """Story points as the numeric column takes them: int, Decimal or float (0.5)."""
    if value is None or isinstance(value, Decimal):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    raise InvalidValue(
        f"{TICKETS}: story_points must be a number, not {type(value).__name__}", table=TICKETS
    )


def _places(values: Iterable[Any]) -> tuple[int, ...]:
    places = tuple(values)
    for place in places:
        if not isinstance(place, int) or isinstance(place, bool):
            raise InvalidValue(
                f"tickets.ticket_dependencies: depends_on holds places in the batch (int), "
                f"not {type(place).__name__}",
                table="tickets.ticket_dependencies",
            )
    return places


@frozen
class NewTicket:
    """A ticket to create in a batch. `depends_on` names other tickets of the same
    batch by their place in it (0 for the first), which the database then keeps
    acyclic like every dependency."""

    summary: str = field(validator=is_a(str, TICKETS))
    position: int = field(validator=is_a(int, TICKETS))
    issue_type: IssueType = field(default=IssueType.TASK, validator=is_a(str, TICKETS))
    priority: Priority = field(default=Priority.MEDIUM, validator=is_a(str, TICKETS))
    description: str | None = field(default=None, validator=optional(is_a(str, TICKETS)))
    story_points: Decimal | None = field(default=None, converter=_story_points)
    depends_on: tuple[int, ...] = field(default=(), converter=_places)


def new_ticket_batch(tickets: Iterable[Any]) -> list[NewTicket]:
    """The tickets of a batch, each a NewTicket (anything else is an InvalidValue)."""
    batch = list(tickets)
    for ticket in batch:
        if not isinstance(ticket, NewTicket):
            raise InvalidValue(
                f"{TICKETS}: expected NewTicket items, not {type(ticket).__name__}", table=TICKETS
            )
    return batch


def batch_edges(batch: list[NewTicket]) -> list[tuple[int, int]]:
    """The batch's dependencies as (dependent, dependency) places counted from 1, as the
    insert query numbers its rows; a place outside the batch is an InvalidValue."""
    edges = []
    for place, ticket in enumerate(batch):
        for other in ticket.depends_on:
            if not 0 <= other < len(batch):
                raise InvalidValue(
                    f"tickets.ticket_dependencies: depends_on place {other} is not in this "
                    f"batch of {len(batch)} tickets (places count from 0)",
                    table="tickets.ticket_dependencies",
                )
            edges.append((place + 1, other + 1))
    return edges


@frozen
class NewDependency:
    """`ticket_id` depends on `depends_on_ticket_id` (both existing tickets)."""

    ticket_id: uuid.UUID = field(validator=is_a(uuid.UUID, "tickets.ticket_dependencies"))
    depends_on_ticket_id: uuid.UUID = field(
        validator=is_a(uuid.UUID, "tickets.ticket_dependencies")
    )
