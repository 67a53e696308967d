"""SQLAlchemy 2 mappings of the tutor tables, as seed 000 configures them and tuned.

Both map onto the tables tether's migrations made (`schema="tutor"`); neither ever
creates a table. `seed` follows the seed: `cascade="all, delete-orphan"` on every
collection and no `passive_deletes`, so deleting a week makes the ORM load and
delete its readings, chunks, summaries, conversations and audio itself. `tuned`
adds `passive_deletes=True` everywhere, leaving the cascade to the database.

Where the seed had to change to map these tables at all:
- `AudioBlob.blob_data` is `LargeBinary` (bytea): the seed's `Text` ("store as
  base64") was the bug the SPEC fixed; `timestamp` is `recorded_at`, and
  `Chunk.meta_json` is `meta` (jsonb), as the SPEC renamed them.
- `Week.jobs` gets no delete cascade: the seed's `all, delete-orphan` there
  deletes a week's jobs, against its own `ondelete="SET NULL"` (and the SPEC).
  Left to SQLAlchemy's default, the ORM sets their week_id to NULL itself.
- `Job.attempt` and `Job.lease_expires_at` are mapped: the table refuses a running
  job without a lease, so the ORM's claim sets one as tether's does.
- `Week.conversations` exists (the seed maps `Conversation.week` one way only),
  with the seed's cascade, so that the ORM deletes conversations with their week
  as the database does.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from attrs import frozen
from sqlalchemy import BigInteger, ForeignKey, Integer, LargeBinary, Text, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


@frozen
class Models:
    User: type
    Course: type
    Week: type
    Reading: type
    Job: type
    Chunk: type
    Summary: type
    Conversation: type
    AudioBlob: type


def mapped(*, passive_deletes: bool) -> Models:
    """A fresh set of mapped classes (their own registry) over the tutor tables."""
    children: dict[str, Any] = {
        "cascade": "all, delete-orphan",
        "passive_deletes": passive_deletes,
    }

    class Base(DeclarativeBase):
        """What every tutor table has: its schema and an identity key."""

        __table_args__ = {"schema": "tutor"}  # noqa: RUF012 (SQLAlchemy reads it as is)

        id: Mapped[int] = mapped_column(BigInteger, primary_key=True)

    class User(Base):
        __tablename__ = "users"

        email: Mapped[str] = mapped_column(Text)
        name: Mapped[str] = mapped_column(Text)
        role: Mapped[str] = mapped_column(Text, server_default="student")
        created_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())

        courses: Mapped[list[Course]] = relationship(back_populates="professor", **children)
        summaries: Mapped[list[Summary]] = relationship(back_populates="created_by", **children)
        conversations: Mapped[list[Conversation]] = relationship(back_populates="user", **children)

    class Course(Base):
        __tablename__ = "courses"

        name: Mapped[str] = mapped_column(Text)
        code: Mapped[str] = mapped_column(Text)
        professor_id: Mapped[int] = mapped_column(ForeignKey("tutor.users.id", ondelete="CASCADE"))
        created_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())

        professor: Mapped[User] = relationship(back_populates="courses")
        weeks: Mapped[list[Week]] = relationship(back_populates="course", **children)

    class Week(Base):
        __tablename__ = "weeks"

        course_id: Mapped[int] = mapped_column(ForeignKey("tutor.courses.id", ondelete="CASCADE"))
        number: Mapped[int] = mapped_column(Integer)
        title: Mapped[str | None] = mapped_column(Text)
        created_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())

        course: Mapped[Course] = relationship(back_populates="weeks")
        readings: Mapped[list[Reading]] = relationship(back_populates="week", **children)
        summaries: Mapped[list[Summary]] = relationship(back_populates="week", **children)
        conversations: Mapped[list[Conversation]] = relationship(back_populates="week", **children)
        jobs: Mapped[list[Job]] = relationship(
            back_populates="week", passive_deletes=passive_deletes
        )

    class Reading(Base):
        __tablename__ = "readings"

        week_id: Mapped[int] = mapped_column(ForeignKey("tutor.weeks.id", ondelete="CASCADE"))
        filename: Mapped[str] = mapped_column(Text)
        file_path: Mapped[str] = mapped_column(Text)
        uploaded_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())

        week: Mapped[Week] = relationship(back_populates="readings")
        chunks: Mapped[list[Chunk]] = relationship(back_populates="reading", **children)

    class Job(Base):
        __tablename__ = "jobs"

        kind: Mapped[str] = mapped_column(Text)
        status: Mapped[str] = mapped_column(Text, server_default="pending")
        progress: Mapped[int] = mapped_column(Integer, server_default="0")
        error: Mapped[str | None] = mapped_column(Text)
        week_id: Mapped[int | None] = mapped_column(
            ForeignKey("tutor.weeks.id", ondelete="SET NULL")
        )
        payload: Mapped[Any] = mapped_column(JSONB, server_default="{}")
        created_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
        updated_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
        # The claim token and lease (not in the seed): the table holds a running job
        # to having a lease, so the ORM's claim must set one too.
        attempt: Mapped[int] = mapped_column(Integer, server_default="0")
        lease_expires_at: Mapped[dt.datetime | None]

        week: Mapped[Week | None] = relationship(back_populates="jobs")

    class Chunk(Base):
        __tablename__ = "chunks"

        reading_id: Mapped[int] = mapped_column(ForeignKey("tutor.readings.id", ondelete="CASCADE"))
        idx: Mapped[int] = mapped_column(Integer)
        content: Mapped[str] = mapped_column(Text)
        meta: Mapped[Any] = mapped_column(JSONB)

        reading: Mapped[Reading] = relationship(back_populates="chunks")

    class Summary(Base):
        __tablename__ = "summaries"

        week_id: Mapped[int] = mapped_column(ForeignKey("tutor.weeks.id", ondelete="CASCADE"))
        created_by_id: Mapped[int] = mapped_column(ForeignKey("tutor.users.id", ondelete="CASCADE"))
        content: Mapped[str] = mapped_column(Text)
        created_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
        updated_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())

        week: Mapped[Week] = relationship(back_populates="summaries")
        created_by: Mapped[User] = relationship(back_populates="summaries")

    class Conversation(Base):
        __tablename__ = "conversations"

        user_id: Mapped[int] = mapped_column(ForeignKey("tutor.users.id", ondelete="CASCADE"))
        week_id: Mapped[int] = mapped_column(ForeignKey("tutor.weeks.id", ondelete="CASCADE"))
        session_id: Mapped[str] = mapped_column(Text)
        started_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
        ended_at: Mapped[dt.datetime | None]
        duration_seconds: Mapped[int | None] = mapped_column(Integer)

        user: Mapped[User] = relationship(back_populates="conversations")
        week: Mapped[Week] = relationship(back_populates="conversations")
        audio_blobs: Mapped[list[AudioBlob]] = relationship(
            back_populates="conversation", **children
        )

    class AudioBlob(Base):
        __tablename__ = "audio_blobs"

        conversation_id: Mapped[int] = mapped_column(
            ForeignKey("tutor.conversations.id", ondelete="CASCADE")
        )
        blob_data: Mapped[bytes] = mapped_column(LargeBinary)
        recorded_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
        duration_ms: Mapped[int | None] = mapped_column(Integer)

        conversation: Mapped[Conversation] = relationship(back_populates="audio_blobs")

    return Models(User, Course, Week, Reading, Job, Chunk, Summary, Conversation, AudioBlob)
