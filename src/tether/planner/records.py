"""The planner's records: one attrs class per result shape, fields in column order."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from typing import Any

from attrs import field, frozen

from tether.records import all_of, is_a, rows_of


@frozen
class User:
    id: int
    email: str
    name: str | None
    created_at: dt.datetime


@frozen
class Subject:
    id: int
    student_id: int
    name: str
    created_at: dt.datetime


@frozen
class Feedback:
    id: int
    user_id: int
    generation_id: uuid.UUID
    content: str
    created_at: dt.datetime


@frozen
class NewTask:
    """A task to schedule: which subject, what to do, how hard (1-5), how urgent (1-10)."""

    subject_id: int = field(validator=is_a(int, "planner.ai_tasks"))
    ai_task_name: str = field(validator=is_a(str, "planner.ai_tasks"))
    difficulty: int = field(validator=is_a(int, "planner.ai_tasks"))
    priority: int = field(validator=is_a(int, "planner.ai_tasks"))


def _new_tasks(tasks: Iterable[Any]) -> tuple[NewTask, ...]:
    return all_of(NewTask, "planner.ai_tasks", tasks)


@frozen
class DayPlan:
    """One calendar day of a generation to create, with its tasks (possibly none)."""

    date: dt.date = field(validator=is_a(dt.date, "planner.plans"))
    tasks: tuple[NewTask, ...] = field(default=(), converter=_new_tasks)


@frozen
class CalendarTask:
    id: int
    subject_id: int
    subject_name: str
    ai_task_name: str
    difficulty: int
    priority: int


def _calendar_tasks(rows: Iterable[Any] | None) -> tuple[CalendarTask, ...]:
    return rows_of(CalendarTask, rows)


@frozen
class CalendarDay:
    plan_id: int
    date: dt.date
    tasks: tuple[CalendarTask, ...] = field(converter=_calendar_tasks)


def _calendar_days(rows: Iterable[Any] | None) -> tuple[CalendarDay, ...]:
    return rows_of(CalendarDay, rows)


@frozen
class Calendar:
    """A user's generation as days in date order, each day's tasks by priority."""

    generation_id: uuid.UUID
    days: tuple[CalendarDay, ...] = field(converter=_calendar_days)


@frozen
class Generation:
    """A summary of one generation: when it was made, which days it spans, how big it
    is, whether the user gave feedback on it. `newest_plan_id` is the id of its newest
    plan: generations are listed newest first by it (it is the page cursor's key)."""

    generation_id: uuid.UUID
    created_at: dt.datetime
    first_date: dt.date
    last_date: dt.date
    plan_count: int
    task_count: int
    has_feedback: bool
    newest_plan_id: int
