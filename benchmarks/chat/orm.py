"""SQLAlchemy 2 mappings of the chat tables, as seed 002 configures them and tuned.

Both map onto the tables tether's migrations made (`schema="chat"`); neither ever
creates a table. `seed` follows the seed: UUID keys made in Python, JSON columns,
`Message.message_metadata` for the column `metadata` (the seed's rename: a
declarative class cannot have an attribute called `metadata`), and
`cascade="all, delete-orphan"` without `passive_deletes` on User.conversations and
Conversation.messages (ordered by created_at), so deleting a conversation makes the
ORM load and delete each message itself. `tuned` adds `passive_deletes=True`,
leaving the cascade to the database.

The seed keeps no last_message_at; the SPEC's column is mapped read-only here, as
messages_count is: the database keeps both (a write from the ORM is refused).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from attrs import frozen
from sqlalchemy import JSON, ForeignKey, Integer, String, Text, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


@frozen
class Models:
    User: type
    Conversation: type
    Message: type


def mapped(*, passive_deletes: bool) -> Models:
    """A fresh set of mapped classes (their own registry) over the chat tables."""
    children = {"cascade": "all, delete-orphan", "passive_deletes": passive_deletes}

    class Base(DeclarativeBase):
        """What every chat table has: its schema, a UUID key made in Python, a creation time."""

        __table_args__ = {"schema": "chat"}  # noqa: RUF012 (SQLAlchemy reads it as is)

        id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
        created_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())

    class User(Base):
        __tablename__ = "users"

        email: Mapped[str] = mapped_column(String(256))
        hashed_password: Mapped[str | None] = mapped_column(String)
        name: Mapped[str | None] = mapped_column(String(256))
        role: Mapped[str] = mapped_column(String, server_default="user")
        refresh_tokens: Mapped[list[dict[str, Any]]] = mapped_column(JSON, server_default="[]")

        conversations: Mapped[list[Conversation]] = relationship(back_populates="user", **children)

    class Conversation(Base):
        __tablename__ = "conversations"

        user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("chat.users.id", ondelete="CASCADE"))
        title: Mapped[str | None] = mapped_column(String(512))
        messages_count: Mapped[int] = mapped_column(Integer, server_default="0")
        last_message_at: Mapped[dt.datetime | None]

        user: Mapped[User] = relationship(back_populates="conversations")
        messages: Mapped[list[Message]] = relationship(
            back_populates="conversation",
            order_by=lambda: Message.created_at,
            **children,
        )

    class Message(Base):
        __tablename__ = "messages"

        conversation_id: Mapped[uuid.UUID] = mapped_column(
            ForeignKey("chat.conversations.id", ondelete="CASCADE")
        )
        sender: Mapped[str] = mapped_column(String)
        content: Mapped[str] = mapped_column(Text)
        status: Mapped[str] = mapped_column(String, server_default="sent")
        message_metadata: Mapped[dict[str, Any]] = mapped_column(
            "metadata", JSON, server_default="{}"
        )

        conversation: Mapped[Conversation] = relationship(back_populates="messages")

    return Models(User, Conversation, Message)
