"""The tickets domain's repositories: one method per use case, one query per method
(rotating the Jira keys takes two).

Each works on a `Database`, a pool, or a connection inside the caller's
transaction. Integrity is the database's: same-session references, the acyclic
dependency graph, the append-only audit log and every cascade are enforced by the
schema; these methods never check a reference before writing it nor delete children.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import Any

from tether import queries
from tether.paging import Page
from tether.repository import Repository
from tether.tickets.records import (
    Attachment,
    AuditEvent,
    Dependency,
    ExportedTicket,
    NewDependency,
    NewTicket,
    ProjectContext,
    Session,
    SessionAggregate,
    SessionError,
    SessionStatus,
    SessionTask,
    SessionValidation,
    TaskStatus,
    Ticket,
    UploadedFile,
    batch_edges,
    new_ticket_batch,
)

Q = queries.load("tickets")

# The JSON a method stores when it is given none: no details, no errors.
NO_DETAILS: Mapping[str, Any] = MappingProxyType({})


def _json(value: Any) -> Any:
    """A JSON object or array as asyncpg's json encoder takes it; anything else as it is
    (the database then refuses it by the column's check, or NULL by NOT NULL)."""
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, list | tuple):
        return list(value)
    return value


class SessionRepository(Repository):
    INSERT_SESSION = Q.insert_session.returning(Session)
    GET_SESSION = Q.get_session.returning(Session)
    SESSION_AGGREGATE = Q.session_aggregate.returning(SessionAggregate)
    SET_SESSION_STATUS = Q.set_session_status.returning(Session)
    DELETE_SESSION = Q.delete_session

    async def create(self, jira_user_id: str | None = None, title: str | None = None) -> Session:
        return await self._returning(self.INSERT_SESSION, jira_user_id=jira_user_id, title=title)

    async def get(self, session_id: uuid.UUID) -> Session:
        return await self._get(self.GET_SESSION, "tickets.sessions", id=session_id)

    async def aggregate(self, session_id: uuid.UUID) -> SessionAggregate:
        """The session with its files, task, validation and project context, in one
        round trip; NotFound if there is no such session."""
        return await self._get(self.SESSION_AGGREGATE, "tickets.sessions", id=session_id)

    async def set_status(self, session_id: uuid.UUID, status: SessionStatus) -> Session:
        """active, exported or archived; NotFound if there is no such session."""
        return await self._get(
            self.SET_SESSION_STATUS, "tickets.sessions", id=session_id, status=status
        )

    async def delete(self, session_id: uuid.UUID) -> bool:
        """Delete a session and, by cascade, everything of it but its audit events (kept,
        their session_id cleared); False if there was none."""
        return await self._execrows(self.DELETE_SESSION, id=session_id) > 0


class FileRepository(Repository):
    INSERT_FILE = Q.insert_file.returning(UploadedFile)
    DELETE_FILE = Q.delete_file

    async def add(
        self,
        session_id: uuid.UUID,
        filename: str,
        file_path: str,
        content_type: str,
        size_bytes: int,
    ) -> UploadedFile:
        return await self._returning(
            self.INSERT_FILE,
            session_id=session_id,
            filename=filename,
            file_path=file_path,
            content_type=content_type,
            size_bytes=size_bytes,
        )

    async def delete(self, file_id: uuid.UUID) -> bool:
        """Delete a file; errors about it stay, their related_file_id cleared."""
        return await self._execrows(self.DELETE_FILE, id=file_id) > 0


class TaskRepository(Repository):
    """The session's one background task: queued, reported on, completed or failed."""

    UPSERT_TASK = Q.upsert_task.returning(SessionTask)
    UPDATE_TASK = Q.update_task.returning(SessionTask)

    async def queue(self, session_id: uuid.UUID, stage: str | None = None) -> SessionTask:
        """The session's task, new or started over: pending, progress 0, no error."""
        return await self._returning(self.UPSERT_TASK, session_id=session_id, stage=stage)

    async def report(
        self, session_id: uuid.UUID, *, stage: str | None = None, progress: int | None = None
    ) -> SessionTask:
        """The task is running; a stage or progress left out keeps the one it had."""
        return await self._update(session_id, TaskStatus.RUNNING, stage, progress, None)

    async def complete(self, session_id: uuid.UUID) -> SessionTask:
        return await self._update(session_id, TaskStatus.COMPLETED, None, 100, None)

    async def fail(self, session_id: uuid.UUID, error: str) -> SessionTask:
        return await self._update(session_id, TaskStatus.FAILED, None, None, error)

    async def _update(
        self,
        session_id: uuid.UUID,
        status: TaskStatus,
        stage: str | None,
        progress: int | None,
        error: str | None,
    ) -> SessionTask:
        return await self._get(
            self.UPDATE_TASK,
            "tickets.session_tasks",
            session_id=session_id,
            status=status,
            stage=stage,
            progress=progress,
            error=error,
        )


class ValidationRepository(Repository):
    UPSERT_VALIDATION = Q.upsert_validation.returning(SessionValidation)

    async def record(
        self, session_id: uuid.UUID, is_valid: bool, errors: Sequence[Any] = ()
    ) -> SessionValidation:
        """The session's latest validation (it replaces the one before); `errors` is
        stored as a JSON array."""
        return await self._returning(
            self.UPSERT_VALIDATION, session_id=session_id, is_valid=is_valid, errors=_json(errors)
        )


class ProjectContextRepository(Repository):
    UPSERT_PROJECT_CONTEXT = Q.upsert_project_context.returning(ProjectContext)

    async def store(
        self,
        session_id: uuid.UUID,
        project_key: str,
        project_name: str,
        issue_types: Sequence[Any],
        priorities: Sequence[Any],
    ) -> ProjectContext:
        """What was fetched from Jira about the session's project (replaces what was
        there); issue types and priorities are JSON arrays as Jira gives them."""
        return await self._returning(
            self.UPSERT_PROJECT_CONTEXT,
            session_id=session_id,
            project_key=project_key,
            project_name=project_name,
            issue_types=_json(issue_types),
            priorities=_json(priorities),
        )


class TicketRepository(Repository):
    INSERT_TICKETS = Q.insert_tickets.returning(Ticket)
    GET_TICKET = Q.get_ticket.returning(Ticket)
    TICKETS_PAGE = Q.tickets_page.returning(Ticket)
    SET_JIRA_KEY = Q.set_jira_key.returning(Ticket)
    DELETE_TICKET = Q.delete_ticket
    EXPORT_ORDER = Q.export_order.returning(ExportedTicket)

    async def create_many(
        self, session_id: uuid.UUID, tickets: Sequence[NewTicket]
    ) -> list[Ticket]:
        """Create a batch of tickets and the dependencies among them (`depends_on`, by
        place in the batch) in one statement, whole or not at all; return the tickets
        in batch order. A cycle among them is a DependencyCycle."""
        batch = new_ticket_batch(tickets)
        edges = batch_edges(batch)
        return await self._many(
            self.INSERT_TICKETS,
            session_id=session_id,
            summaries=[t.summary for t in batch],
            descriptions=[t.description for t in batch],
            issue_types=[t.issue_type for t in batch],
            priorities=[t.priority for t in batch],
            story_points=[t.story_points for t in batch],
            positions=[t.position for t in batch],
            dependents=[dependent for dependent, _ in edges],
            dependencies=[dependency for _, dependency in edges],
        )

    async def create(self, session_id: uuid.UUID, ticket: NewTicket) -> Ticket:
        [created] = await self.create_many(session_id, [ticket])
        return created

    async def get(self, ticket_id: uuid.UUID) -> Ticket:
        return await self._get(self.GET_TICKET, "tickets.tickets", id=ticket_id)

    async def page_of_session(
        self, session_id: uuid.UUID, *, limit: int = 50, after: str | None = None
    ) -> Page[Ticket]:
        """A session's tickets in position order, `limit` at a time (keyset: `after` is
        the `next` of the page before)."""
        return await self._page(
            self.TICKETS_PAGE,
            key=("position", "id"),
            limit=limit,
            after=after,
            session_id=session_id,
        )

    async def set_jira_key(self, ticket_id: uuid.UUID, jira_key: str | None) -> Ticket:
        """Record the key Jira gave the ticket (unique across sessions); NotFound if no ticket."""
        return await self._get(
            self.SET_JIRA_KEY, "tickets.tickets", id=ticket_id, jira_key=jira_key
        )

    async def delete(self, ticket_id: uuid.UUID) -> bool:
        """Delete a ticket, its dependencies both ways and its attachment; errors about it
        stay, their related_ticket_id cleared."""
        return await self._execrows(self.DELETE_TICKET, id=ticket_id) > 0

    async def export_order(self, session_id: uuid.UUID) -> list[ExportedTicket]:
        """Every ticket of the session in dependency order, each with the tickets it
        depends on, in one query (see sql/tickets/tickets.sql for the order)."""
        return await self._many(self.EXPORT_ORDER, session_id=session_id)


class DependencyRepository(Repository):
    """Dependencies between tickets of one session: the database refuses a ticket of
    another session, a self-dependency and any cycle, also between racing writers."""

    INSERT_DEPENDENCY = Q.insert_dependency.returning(Dependency)
    INSERT_DEPENDENCIES = Q.insert_dependencies
    DELETE_DEPENDENCY = Q.delete_dependency

    async def add(self, ticket_id: uuid.UUID, depends_on_ticket_id: uuid.UUID) -> Dependency:
        """`ticket_id` depends on `depends_on_ticket_id`; DependencyCycle if the other one
        already depends on it, directly or not."""
        return await self._returning(
            self.INSERT_DEPENDENCY, ticket_id=ticket_id, depends_on_ticket_id=depends_on_ticket_id
        )

    async def add_many(self, edges: Iterable[tuple[uuid.UUID, uuid.UUID]]) -> int:
        """Many (ticket, depends on) pairs in one statement, all or none; how many."""
        new = [NewDependency(*edge) for edge in edges]
        return await self._execrows(
            self.INSERT_DEPENDENCIES,
            ticket_ids=[e.ticket_id for e in new],
            depends_on_ticket_ids=[e.depends_on_ticket_id for e in new],
        )

    async def remove(self, ticket_id: uuid.UUID, depends_on_ticket_id: uuid.UUID) -> bool:
        return (
            await self._execrows(
                self.DELETE_DEPENDENCY,
                ticket_id=ticket_id,
                depends_on_ticket_id=depends_on_ticket_id,
            )
            > 0
        )


class AttachmentRepository(Repository):
    INSERT_ATTACHMENT = Q.insert_attachment.returning(Attachment)
    ATTACHMENT_OF_TICKET = Q.attachment_of_ticket.returning(Attachment)
    DELETE_ATTACHMENT = Q.delete_attachment

    async def attach(
        self,
        session_id: uuid.UUID,
        ticket_id: uuid.UUID,
        filename: str,
        content_type: str,
        file_path: str,
    ) -> Attachment:
        """The ticket's one attachment (Conflict if it has one); the ticket must be of
        the session (MissingReference otherwise)."""
        return await self._returning(
            self.INSERT_ATTACHMENT,
            session_id=session_id,
            ticket_id=ticket_id,
            filename=filename,
            content_type=content_type,
            file_path=file_path,
        )

    async def of_ticket(self, ticket_id: uuid.UUID) -> Attachment | None:
        return await self._one(self.ATTACHMENT_OF_TICKET, ticket_id=ticket_id)

    async def delete(self, attachment_id: uuid.UUID) -> bool:
        return await self._execrows(self.DELETE_ATTACHMENT, id=attachment_id) > 0


class ErrorRepository(Repository):
    INSERT_ERROR = Q.insert_error.returning(SessionError)
    ERRORS_PAGE = Q.errors_page.returning(SessionError)

    async def log(
        self,
        session_id: uuid.UUID,
        error_type: str,
        message: str,
        details: Mapping[str, Any] = NO_DETAILS,
        *,
        file_id: uuid.UUID | None = None,
        ticket_id: uuid.UUID | None = None,
    ) -> SessionError:
        """Log an error of the session, about one of its files or tickets or neither
        (MissingReference for a file or ticket of another session)."""
        return await self._returning(
            self.INSERT_ERROR,
            session_id=session_id,
            related_file_id=file_id,
            related_ticket_id=ticket_id,
            error_type=error_type,
            message=message,
            details=_json(details),
        )

    async def page_of_session(
        self, session_id: uuid.UUID, *, limit: int = 50, after: str | None = None
    ) -> Page[SessionError]:
        """A session's errors, newest first (keyset)."""
        return await self._page(
            self.ERRORS_PAGE,
            key=("created_at", "id"),
            limit=limit,
            after=after,
            session_id=session_id,
        )


class AuditRepository(Repository):
    """The append-only audit log: append and read; the database refuses any change."""

    INSERT_AUDIT_EVENT = Q.insert_audit_event.returning(AuditEvent)
    AUDIT_PAGE_OF_SESSION = Q.audit_page_of_session.returning(AuditEvent)
    AUDIT_PAGE = Q.audit_page.returning(AuditEvent)

    async def append(
        self,
        action: str,
        *,
        session_id: uuid.UUID | None = None,
        actor: str | None = None,
        details: Mapping[str, Any] = NO_DETAILS,
    ) -> AuditEvent:
        """Append an event (about a session, or none); `details` is a JSON object."""
        return await self._returning(
            self.INSERT_AUDIT_EVENT,
            session_id=session_id,
            action=action,
            actor=actor,
            details=_json(details),
        )

    async def page_of_session(
        self, session_id: uuid.UUID, *, limit: int = 50, after: str | None = None
    ) -> Page[AuditEvent]:
        """The events recorded about a session, newest first, also once it is deleted."""
        return await self._page(
            self.AUDIT_PAGE_OF_SESSION,
            key=("id",),
            limit=limit,
            after=after,
            session_id=session_id,
        )

    async def page(self, *, limit: int = 50, after: str | None = None) -> Page[AuditEvent]:
        """Every event, newest first."""
        return await self._page(self.AUDIT_PAGE, key=("id",), limit=limit, after=after)
