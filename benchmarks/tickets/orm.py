"""SQLAlchemy 2 mappings of the tickets tables, as seed 004 configures them and tuned.

Both map onto the tables tether's migrations made (`schema="tickets"`); neither
ever creates a table. `seed` follows the seed's relationship audit: the session's
files and its three 1:1s `lazy="joined"`, its tickets, errors and audit events
`lazy="select"`, a ticket's dependencies `lazy="select"`, `cascade="all,
delete-orphan"` without `passive_deletes`. SQLAlchemy's asyncio extension cannot
load lazily behind an attribute, so a lazy load is written as the seed's service
would reach it, `await obj.awaitable_attrs.<relationship>` (AsyncAttrs): one
SELECT per access. `tuned` adds `passive_deletes=True` and maps
ticket_dependencies.session_id, so a session's edges load in one query.

Two corrections to the seed were needed for it to work at all: its
`Attachment.ticket` names "Attachment" as its target (it must be "Ticket"), and
its `TicketDependency.created_at` default is a naive `datetime.utcnow`, where the
column is timestamptz with a server default (the mapping leaves it to the server).
The seed's model has no `session_id` on dependencies: the database fills it.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from attrs import frozen
from sqlalchemy import ForeignKey, Text, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncAttrs
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


@frozen
class Models:
    Session: type
    SessionTask: type
    SessionValidation: type
    UploadedFile: type
    Ticket: type
    TicketDependency: type
    Attachment: type
    JiraProjectContext: type
    SessionError: type
    AuditLog: type


def mapped(*, tuned: bool) -> Models:
    """A fresh set of mapped classes (their own registry) over the tickets tables."""
    children: dict[str, Any] = {"cascade": "all, delete-orphan", "passive_deletes": tuned}
    table_args = {"schema": "tickets"}

    class Base(AsyncAttrs, DeclarativeBase):
        __table_args__ = table_args

    class UuidKey:
        """The key of every table whose seed model used UUIDs, drawn by the server."""

        id: Mapped[uuid.UUID] = mapped_column(
            primary_key=True, server_default=func.gen_random_uuid()
        )

    class Session(UuidKey, Base):
        __tablename__ = "sessions"

        id: Mapped[uuid.UUID] = mapped_column(
            primary_key=True, server_default=func.gen_random_uuid()
        )
        jira_user_id: Mapped[str | None] = mapped_column(Text)
        title: Mapped[str | None] = mapped_column(Text)
        status: Mapped[str] = mapped_column(Text, server_default="active")
        created_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
        updated_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())

        # Small collections and the 1:1s, always needed: eager, joined.
        uploaded_files: Mapped[list[UploadedFile]] = relationship(
            back_populates="session", lazy="joined", **children
        )
        session_task: Mapped[SessionTask | None] = relationship(
            back_populates="session", lazy="joined", uselist=False, **children
        )
        session_validation: Mapped[SessionValidation | None] = relationship(
            back_populates="session", lazy="joined", uselist=False, **children
        )
        project_context: Mapped[JiraProjectContext | None] = relationship(
            back_populates="session", lazy="joined", uselist=False, **children
        )
        # Large collections: loaded on demand.
        tickets: Mapped[list[Ticket]] = relationship(
            back_populates="session", lazy="select", **children
        )
        session_errors: Mapped[list[SessionError]] = relationship(
            back_populates="session", lazy="select", **children
        )
        audit_events: Mapped[list[AuditLog]] = relationship(
            back_populates="session", lazy="select", passive_deletes=tuned
        )

    class SessionTask(UuidKey, Base):
        __tablename__ = "session_tasks"

        id: Mapped[uuid.UUID] = mapped_column(
            primary_key=True, server_default=func.gen_random_uuid()
        )
        session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tickets.sessions.id"))
        status: Mapped[str] = mapped_column(Text)
        stage: Mapped[str | None] = mapped_column(Text)
        progress: Mapped[int]
        error: Mapped[str | None] = mapped_column(Text)
        started_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
        updated_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())

        session: Mapped[Session] = relationship(back_populates="session_task")

    class SessionValidation(UuidKey, Base):
        __tablename__ = "session_validations"

        id: Mapped[uuid.UUID] = mapped_column(
            primary_key=True, server_default=func.gen_random_uuid()
        )
        session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tickets.sessions.id"))
        is_valid: Mapped[bool]
        errors: Mapped[list[Any]] = mapped_column(JSONB)
        validated_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())

        session: Mapped[Session] = relationship(back_populates="session_validation")

    class UploadedFile(UuidKey, Base):
        __tablename__ = "uploaded_files"

        id: Mapped[uuid.UUID] = mapped_column(
            primary_key=True, server_default=func.gen_random_uuid()
        )
        session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tickets.sessions.id"))
        filename: Mapped[str] = mapped_column(Text)
        file_path: Mapped[str] = mapped_column(Text)
        content_type: Mapped[str] = mapped_column(Text)
        size_bytes: Mapped[int]
        uploaded_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())

        session: Mapped[Session] = relationship(back_populates="uploaded_files")

    class Ticket(UuidKey, Base):
        __tablename__ = "tickets"

        id: Mapped[uuid.UUID] = mapped_column(
            primary_key=True, server_default=func.gen_random_uuid()
        )
        session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tickets.sessions.id"))
        summary: Mapped[str] = mapped_column(Text)
        description: Mapped[str | None] = mapped_column(Text)
        issue_type: Mapped[str] = mapped_column(Text)
        priority: Mapped[str] = mapped_column(Text)
        story_points: Mapped[Decimal | None]
        jira_key: Mapped[str | None] = mapped_column(Text)
        position: Mapped[int]
        created_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
        updated_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())

        session: Mapped[Session] = relationship(back_populates="tickets")
        attachment: Mapped[Attachment | None] = relationship(
            back_populates="ticket", uselist=False, **children
        )
        dependencies: Mapped[list[TicketDependency]] = relationship(
            foreign_keys="TicketDependency.ticket_id",
            back_populates="dependent_ticket",
            **children,
        )
        depends_on: Mapped[list[TicketDependency]] = relationship(
            foreign_keys="TicketDependency.depends_on_ticket_id",
            back_populates="dependency_ticket",
            **children,
        )

    class TicketDependency(Base):
        __tablename__ = "ticket_dependencies"

        ticket_id: Mapped[uuid.UUID] = mapped_column(
            ForeignKey("tickets.tickets.id"), primary_key=True
        )
        depends_on_ticket_id: Mapped[uuid.UUID] = mapped_column(
            ForeignKey("tickets.tickets.id"), primary_key=True
        )
        created_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
        if tuned:
            session_id: Mapped[uuid.UUID | None] = mapped_column()

        dependent_ticket: Mapped[Ticket] = relationship(
            foreign_keys=[ticket_id], back_populates="dependencies"
        )
        dependency_ticket: Mapped[Ticket] = relationship(
            foreign_keys=[depends_on_ticket_id], back_populates="depends_on"
        )

    class Attachment(UuidKey, Base):
        __tablename__ = "attachments"

        id: Mapped[uuid.UUID] = mapped_column(
            primary_key=True, server_default=func.gen_random_uuid()
        )
        session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tickets.sessions.id"))
        ticket_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tickets.tickets.id"), unique=True)
        filename: Mapped[str] = mapped_column(Text)
        content_type: Mapped[str] = mapped_column(Text)
        file_path: Mapped[str] = mapped_column(Text)
        created_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())

        ticket: Mapped[Ticket] = relationship(back_populates="attachment")
        session: Mapped[Session] = relationship()

    class JiraProjectContext(Base):
        __tablename__ = "jira_project_context"

        session_id: Mapped[uuid.UUID] = mapped_column(
            ForeignKey("tickets.sessions.id"), primary_key=True
        )
        project_key: Mapped[str] = mapped_column(Text)
        project_name: Mapped[str] = mapped_column(Text)
        issue_types: Mapped[list[Any]] = mapped_column(JSONB)
        priorities: Mapped[list[Any]] = mapped_column(JSONB)
        fetched_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())

        session: Mapped[Session] = relationship(back_populates="project_context")

    class SessionError(UuidKey, Base):
        __tablename__ = "session_errors"

        id: Mapped[uuid.UUID] = mapped_column(
            primary_key=True, server_default=func.gen_random_uuid()
        )
        session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tickets.sessions.id"))
        related_file_id: Mapped[uuid.UUID | None] = mapped_column(
            ForeignKey("tickets.uploaded_files.id")
        )
        related_ticket_id: Mapped[uuid.UUID | None] = mapped_column(
            ForeignKey("tickets.tickets.id")
        )
        error_type: Mapped[str] = mapped_column(Text)
        message: Mapped[str] = mapped_column(Text)
        details: Mapped[dict[str, Any]] = mapped_column(JSONB)
        created_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())

        session: Mapped[Session] = relationship(back_populates="session_errors")

    class AuditLog(Base):
        __tablename__ = "audit_log"

        id: Mapped[int] = mapped_column(primary_key=True)
        session_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("tickets.sessions.id"))
        action: Mapped[str] = mapped_column(Text)
        actor: Mapped[str | None] = mapped_column(Text)
        details: Mapped[dict[str, Any]] = mapped_column(JSONB)
        created_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())

        session: Mapped[Session | None] = relationship(back_populates="audit_events")

    return Models(
        Session,
        SessionTask,
        SessionValidation,
        UploadedFile,
        Ticket,
        TicketDependency,
        Attachment,
        JiraProjectContext,
        SessionError,
        AuditLog,
    )
