"""SQLAlchemy 2 mappings of the study tables, as seed 003 configures them and tuned.

Both map onto the tables tether's migrations made (`schema="study"`); neither ever
creates a table or a type. `seed` follows the seed: PostgreSQL enums through
`Enum(...)`, `ARRAY(Text)` and `ARRAY(UUID)`, pgvector's SQLAlchemy `Vector(768)`,
and relationships with `cascade="all, delete-orphan"`; `tuned` adds
`passive_deletes=True`. The seed's own columns only: `messages.seq` (tether's) is
left unmapped, as the seed orders a chat's messages by created_at.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

from attrs import frozen
from pgvector.sqlalchemy import Vector
from sqlalchemy import ARRAY, Computed, Enum, ForeignKey, Text, Uuid, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from tether.study import ChatType, ChunkType, NewChunk, ProcessingStatus, SessionStatus


def _enum(kind: type[Any], name: str) -> Enum:
    return Enum(
        kind,
        name=name,
        schema="study",
        create_type=False,
        values_callable=lambda members: [m.value for m in members],
    )


@frozen
class Models:
    Profile: type
    StudySession: type
    Document: type
    Topic: type
    Chat: type
    Message: type
    DocumentChunk: type


def mapped(*, passive_deletes: bool) -> Models:
    """A fresh set of mapped classes (their own registry) over the study tables."""
    children = {"cascade": "all, delete-orphan", "passive_deletes": passive_deletes}

    class Base(DeclarativeBase):
        """What every study table has: its schema, a uuid key, a creation time."""

        __table_args__ = {"schema": "study"}  # noqa: RUF012 (SQLAlchemy reads it as is)

        id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
        created_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())

    class Profile(Base):
        __tablename__ = "profiles"

        email: Mapped[str] = mapped_column(Text)
        password_hash: Mapped[str] = mapped_column(Text)

        sessions: Mapped[list[StudySession]] = relationship(back_populates="profile", **children)

    class StudySession(Base):
        __tablename__ = "study_sessions"

        profile_id: Mapped[uuid.UUID] = mapped_column(
            ForeignKey("study.profiles.id", ondelete="CASCADE")
        )
        title: Mapped[str] = mapped_column(Text)
        description: Mapped[str | None] = mapped_column(Text)
        status: Mapped[SessionStatus] = mapped_column(
            _enum(SessionStatus, "session_status"), default=SessionStatus.UPLOADING
        )
        draft_plan: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
        updated_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())

        profile: Mapped[Profile] = relationship(back_populates="sessions")
        documents: Mapped[list[Document]] = relationship(
            back_populates="session", order_by=lambda: Document.created_at, **children
        )
        topics: Mapped[list[Topic]] = relationship(back_populates="session", **children)
        chats: Mapped[list[Chat]] = relationship(back_populates="session", **children)
        chunks: Mapped[list[DocumentChunk]] = relationship(back_populates="session", **children)

    class Document(Base):
        __tablename__ = "documents"

        session_id: Mapped[uuid.UUID] = mapped_column(
            ForeignKey("study.study_sessions.id", ondelete="CASCADE")
        )
        file_name: Mapped[str] = mapped_column(Text)
        file_path: Mapped[str] = mapped_column(Text)
        file_description: Mapped[str | None] = mapped_column(Text)
        content_text: Mapped[str | None] = mapped_column(Text)
        content_length: Mapped[int] = mapped_column(
            Computed("coalesce(length(content_text), 0)", persisted=True)
        )
        processing_status: Mapped[ProcessingStatus] = mapped_column(
            _enum(ProcessingStatus, "processing_status"), default=ProcessingStatus.PENDING
        )

        session: Mapped[StudySession] = relationship(back_populates="documents")
        chunks: Mapped[list[DocumentChunk]] = relationship(back_populates="document", **children)

    class Topic(Base):
        __tablename__ = "topics"

        session_id: Mapped[uuid.UUID] = mapped_column(
            ForeignKey("study.study_sessions.id", ondelete="CASCADE")
        )
        title: Mapped[str] = mapped_column(Text)
        subtopics: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list)
        order_index: Mapped[int]
        is_completed: Mapped[bool] = mapped_column(default=False)
        updated_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())

        session: Mapped[StudySession] = relationship(back_populates="topics")

    class Chat(Base):
        __tablename__ = "chats"

        session_id: Mapped[uuid.UUID] = mapped_column(
            ForeignKey("study.study_sessions.id", ondelete="CASCADE")
        )
        type: Mapped[ChatType] = mapped_column(_enum(ChatType, "chat_type"))
        topic_id: Mapped[uuid.UUID | None] = mapped_column(
            ForeignKey("study.topics.id", ondelete="CASCADE")
        )
        is_started: Mapped[bool] = mapped_column(default=False)
        updated_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())

        session: Mapped[StudySession] = relationship(back_populates="chats")
        messages: Mapped[list[Message]] = relationship(
            back_populates="chat", order_by=lambda: Message.created_at, **children
        )

    class Message(Base):
        __tablename__ = "messages"

        chat_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("study.chats.id", ondelete="CASCADE"))
        role: Mapped[str] = mapped_column(Text)
        content: Mapped[str] = mapped_column(Text)

        chat: Mapped[Chat] = relationship(back_populates="messages")

    class DocumentChunk(Base):
        __tablename__ = "document_chunks"

        document_id: Mapped[uuid.UUID] = mapped_column(
            ForeignKey("study.documents.id", ondelete="CASCADE")
        )
        session_id: Mapped[uuid.UUID] = mapped_column(
            ForeignKey("study.study_sessions.id", ondelete="CASCADE")
        )
        parent_chunk_id: Mapped[uuid.UUID | None] = mapped_column(
            ForeignKey("study.document_chunks.id", ondelete="CASCADE")
        )
        chunk_text: Mapped[str] = mapped_column(Text)
        embedding: Mapped[Any] = mapped_column(Vector(768), nullable=True)
        type: Mapped[ChunkType] = mapped_column(_enum(ChunkType, "chunk_type"))
        related_topic_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(Uuid), default=list)

        session: Mapped[StudySession] = relationship(back_populates="chunks")
        document: Mapped[Document] = relationship(back_populates="chunks")
        parent: Mapped[DocumentChunk | None] = relationship(remote_side=lambda: [DocumentChunk.id])

    return Models(Profile, StudySession, Document, Topic, Chat, Message, DocumentChunk)


def chunk_objects(
    Chunk: type, chunks: Sequence[NewChunk], session_id: uuid.UUID, document_id: uuid.UUID
) -> list[Any]:
    """The chunks as the seed's service makes them: mapped objects, each CHILD holding
    its PARENT object (the unit of work writes parents first)."""
    made: dict[uuid.UUID, Any] = {}
    for c in chunks:
        made[c.id] = Chunk(
            id=c.id,
            document_id=document_id,
            session_id=session_id,
            parent=made.get(c.parent_chunk_id) if c.parent_chunk_id else None,
            chunk_text=c.chunk_text,
            embedding=c.embedding,
            type=c.type,
            related_topic_ids=list(c.related_topic_ids),
        )
    return list(made.values())
