"""SQLAlchemy 2 mappings of the planner tables, as seed 001 configures them and tuned.

Both map onto the tables tether's migrations made (`schema="planner"`); neither
ever creates a table. `seed` follows the seed: `cascade="all, delete-orphan"`
and no `passive_deletes`, so deleting a user makes the ORM load and delete
every descendant itself. `tuned` adds `passive_deletes=True` everywhere,
leaving the cascade to the database's ON DELETE CASCADE.

One change to the seed was needed for `seed` to work at all: the seed gives
`User.subjects` and `User.feedbacks` no cascade, and then deleting a user makes
the ORM run `update subjects set student_id = null`, which the database refuses
(the column is NOT NULL, and a subject's owner never changes). They get the same
`all, delete-orphan` as `User.plans` here.
"""

from __future__ import annotations

import datetime as dt
import uuid

from attrs import frozen
from sqlalchemy import BigInteger, ForeignKey, SmallInteger, Text, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


@frozen
class Models:
    User: type
    Subject: type
    Plan: type
    AITask: type
    Feedback: type


def mapped(*, passive_deletes: bool) -> Models:
    """A fresh set of mapped classes (their own registry) over the planner tables."""
    children = {"cascade": "all, delete-orphan", "passive_deletes": passive_deletes}

    class Base(DeclarativeBase):
        """What every planner table has: its schema, an identity key, a creation time."""

        __table_args__ = {"schema": "planner"}  # noqa: RUF012 (SQLAlchemy reads it as is)

        id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
        created_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())

    class User(Base):
        __tablename__ = "users"

        email: Mapped[str] = mapped_column(Text)
        name: Mapped[str | None] = mapped_column(Text)

        plans: Mapped[list[Plan]] = relationship(back_populates="user", **children)
        subjects: Mapped[list[Subject]] = relationship(back_populates="student", **children)
        feedbacks: Mapped[list[Feedback]] = relationship(back_populates="user", **children)

    class Subject(Base):
        __tablename__ = "subjects"

        student_id: Mapped[int] = mapped_column(ForeignKey("planner.users.id", ondelete="CASCADE"))
        name: Mapped[str] = mapped_column(Text)

        student: Mapped[User] = relationship(back_populates="subjects")
        ai_tasks: Mapped[list[AITask]] = relationship(back_populates="subject", **children)

    class Plan(Base):
        __tablename__ = "plans"

        user_id: Mapped[int] = mapped_column(ForeignKey("planner.users.id", ondelete="CASCADE"))
        date: Mapped[dt.date]
        generation_id: Mapped[uuid.UUID]

        user: Mapped[User] = relationship(back_populates="plans")
        # A calendar day lists its tasks most urgent first, as tether's calendar does.
        ai_tasks: Mapped[list[AITask]] = relationship(
            back_populates="plan",
            order_by=lambda: (AITask.priority.desc(), AITask.id),
            **children,
        )

    class AITask(Base):
        __tablename__ = "ai_tasks"

        plan_id: Mapped[int] = mapped_column(ForeignKey("planner.plans.id", ondelete="CASCADE"))
        subject_id: Mapped[int] = mapped_column(
            ForeignKey("planner.subjects.id", ondelete="CASCADE")
        )
        ai_task_name: Mapped[str] = mapped_column(Text)
        difficulty: Mapped[int] = mapped_column(SmallInteger)
        priority: Mapped[int] = mapped_column(SmallInteger)

        plan: Mapped[Plan] = relationship(back_populates="ai_tasks")
        subject: Mapped[Subject] = relationship(back_populates="ai_tasks")

    class Feedback(Base):
        __tablename__ = "feedback"

        user_id: Mapped[int] = mapped_column(ForeignKey("planner.users.id", ondelete="CASCADE"))
        generation_id: Mapped[uuid.UUID]
        content: Mapped[str] = mapped_column(Text)

        user: Mapped[User] = relationship(back_populates="feedbacks")

    return Models(User, Subject, Plan, AITask, Feedback)
