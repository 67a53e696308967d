"""The planner's demo story (seed 001), played by `tether demo planner`.

John plans three days of Calculus, Physics and Computer Science, gives feedback,
and gets a regenerated first day. Then a plan, a subject and finally John are
deleted; after each deletion the database's own counters show what cascaded,
and Mary's data, in the same tables, is shown untouched. The planner's tests
start from the same story (`build_first_generation`, `build_regeneration`).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Awaitable, Callable

import asyncpg
from attrs import define

from tether import queries
from tether.changes import track
from tether.database import Database
from tether.demo import Out, RowCount, StoryLookups, changes_table, table
from tether.planner.records import Calendar, DayPlan, NewTask, Subject, User
from tether.planner.repositories import (
    FeedbackRepository,
    PlanRepository,
    SubjectRepository,
    UserRepository,
)

Q = queries.load("planner")


def calendar_table(calendar: Calendar) -> str:
    rows = [
        (day.date.strftime("%a %Y-%m-%d"), t.subject_name, t.ai_task_name, t.difficulty, t.priority)
        for day in calendar.days
        for t in day.tasks
    ]
    return table(("day", "subject", "task", "difficulty", "priority"), rows)


DAY1 = dt.date(2026, 1, 13)
DAY2, DAY3 = DAY1 + dt.timedelta(days=1), DAY1 + dt.timedelta(days=2)


@define
class SeedStory:
    """Who and what the seed-001 story made (the tests start from it too)."""

    john: User
    mary: User
    calculus: Subject
    physics: Subject
    cs: Subject
    chemistry: Subject
    first: uuid.UUID
    second: uuid.UUID | None = None


async def build_first_generation(db: Database) -> SeedStory:
    """John, his three subjects and his first generation (three days, six tasks);
    Mary, with one plan of her own in the same tables."""
    users, subjects, plans = UserRepository(db), SubjectRepository(db), PlanRepository(db)
    john = await users.create("john@example.com", "John")
    calculus = await subjects.create(john.id, "Calculus")
    physics = await subjects.create(john.id, "Physics")
    cs = await subjects.create(john.id, "Computer Science")
    mary = await users.create("mary@example.com", "Mary")
    chemistry = await subjects.create(mary.id, "Chemistry")
    first = await plans.create_generation(
        john.id,
        [
            DayPlan(
                DAY1,
                [
                    NewTask(calculus.id, "Calculus Chapter 3", 3, 8),
                    NewTask(physics.id, "Physics Lab Report", 4, 9),
                    NewTask(cs.id, "CS Project Review", 2, 5),
                ],
            ),
            DayPlan(
                DAY2,
                [
                    NewTask(calculus.id, "Calculus Problem Set", 3, 7),
                    NewTask(physics.id, "Physics Lecture Notes", 2, 6),
                ],
            ),
            DayPlan(DAY3, [NewTask(cs.id, "CS Midterm Prep", 5, 10)]),
        ],
    )
    await plans.create_generation(
        mary.id, [DayPlan(DAY1, [NewTask(chemistry.id, "Titration Lab", 3, 7)])]
    )
    return SeedStory(john, mary, calculus, physics, cs, chemistry, first)


async def build_regeneration(db: Database, story: SeedStory) -> None:
    """John's feedback on his first generation, then a lighter first day as a new one."""
    john = story.john
    await FeedbackRepository(db).submit(
        john.id, story.first, "The first day is too heavy; less Physics, please."
    )
    story.second = await PlanRepository(db).create_generation(
        john.id,
        [
            DayPlan(
                DAY1,
                [
                    NewTask(story.calculus.id, "Calculus Chapter 3", 3, 6),
                    NewTask(story.physics.id, "Physics Prep", 2, 4),
                ],
            )
        ],
    )


class Lookups(StoryLookups):
    """The story's own look-ups (sql/planner/story.sql)."""

    PLAN_OF_DAY = Q.plan_of_day
    ROWS_OF_USER = Q.rows_of_user.returning(RowCount)

    async def plan_of_day(self, generation_id: uuid.UUID, date: dt.date) -> int:
        plan_id: int = await self._val(self.PLAN_OF_DAY, generation_id=generation_id, date=date)
        return plan_id

    async def rows_of_user(self, user_id: int) -> str:
        return await self._rows_left(self.ROWS_OF_USER, user_id=user_id)


async def play(db: Database, out: Out) -> None:
    plans = PlanRepository(db)
    out("\n== John's first generation: three days, six tasks ==")
    story = await build_first_generation(db)
    john = story.john
    calendar = await plans.latest_calendar(john.id)
    assert calendar is not None
    out(f"generation {story.first}\n{calendar_table(calendar)}")

    out("\n== John's feedback, then a regenerated, lighter first day ==")
    await build_regeneration(db, story)
    calendar = await plans.latest_calendar(john.id)
    assert calendar is not None
    out(f"generation {story.second}\n{calendar_table(calendar)}")
    generations = await plans.page_of_user(john.id)
    out("\nJohn's generations, newest first (old ones stay for history):")
    out(
        table(
            ("generation", "days", "plans", "tasks", "feedback"),
            [
                (
                    g.generation_id,
                    f"{g.first_date} .. {g.last_date}",
                    g.plan_count,
                    g.task_count,
                    "yes" if g.has_feedback else "no",
                )
                for g in generations
            ],
        )
    )

    lookups = Lookups(db)
    first_day3 = await lookups.plan_of_day(story.first, DAY3)
    steps: list[tuple[str, Callable[[asyncpg.Connection], Awaitable[object]]]] = [
        (
            "a plan (first generation, 15 January): its task goes, the feedback stays",
            lambda conn: PlanRepository(conn).delete_plan(first_day3),
        ),
        (
            "the subject Computer Science: its tasks go, in every generation",
            lambda conn: SubjectRepository(conn).delete(story.cs.id),
        ),
        (
            "John: everything of his goes, nothing of Mary's",
            lambda conn: UserRepository(conn).delete(john.id),
        ),
    ]
    async with db.connection() as conn:
        for what, delete in steps:
            async with track(conn) as changes:
                await delete(conn)
            out(f"\n== delete {what} ==")
            out("what the database cascaded (pg_stat_xact_user_tables):")
            out(changes_table(changes))
            out("John's rows left: " + await lookups.rows_of_user(john.id))
    out("Mary's rows left: " + await lookups.rows_of_user(story.mary.id))
