"""The planner's entry in the reliability suite (see tests/reliability/model.py), and the
generations the fault and load tests write: the planner is the domain they drive."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import asyncpg
from attrs import frozen

from reliability.model import EMAILS, Domain, TextInput
from tether import Database
from tether.planner import (
    DayPlan,
    FeedbackRepository,
    NewTask,
    PlanRepository,
    SubjectRepository,
    UserRepository,
)


@frozen
class Owner:
    """The rows every text input hangs off: a user and one of their subjects."""

    user_id: int
    subject_id: int


async def make_owner(db: Database, email: str = "owner@example.com") -> Owner:
    user = await UserRepository(db).create(email, "Owner")
    subject = await SubjectRepository(db).create(user.id, "Owner's subject")
    return Owner(user.id, subject.id)


# The shape of every generation the fault and load tests write, and the SQL that
# finds any generation that is not whole, or a task without its plan or subject.
DAYS, TASKS_PER_DAY = 3, 2
PARTIAL_GENERATIONS = """
select p.generation_id
from planner.plans p left join planner.ai_tasks t on t.plan_id = p.id
group by p.generation_id
having count(distinct p.id) <> $1 or count(t.id) <> $2
"""
ORPHAN_TASKS = """
select count(*) from planner.ai_tasks t
where not exists (select 1 from planner.plans p where p.id = t.plan_id)
   or not exists (select 1 from planner.subjects s where s.id = t.subject_id)
"""


def generation(subject_ids: list[int], serial: int) -> list[DayPlan]:
    """Generation number `serial`: DAYS days from a date it picks, TASKS_PER_DAY tasks
    a day, spread over the subjects."""
    first = dt.date(2026, 1, 1) + dt.timedelta(days=serial % 300)
    return [
        DayPlan(
            first + dt.timedelta(days=d),
            [
                NewTask(subject_ids[t % len(subject_ids)], f"task {serial}.{d}.{t}", 1 + t, 1 + d)
                for t in range(TASKS_PER_DAY)
            ],
        )
        for d in range(DAYS)
    ]


async def assert_whole_generations(conn: asyncpg.Connection) -> None:
    assert await conn.fetch(PARTIAL_GENERATIONS, DAYS, DAYS * TASKS_PER_DAY) == []
    assert await conn.fetchval(ORPHAN_TASKS) == 0


async def _user_email(db: Database, owner: Owner, value: Any) -> int:
    return (await UserRepository(db).create(value, "Hostile")).id


async def _user_name(db: Database, owner: Owner, value: Any) -> int:
    return (await UserRepository(db).create("hostile@example.com", value)).id


async def _find_by_email(db: Database, owner: Owner, value: Any) -> None:
    await UserRepository(db).find_by_email(value)


async def _subject_name(db: Database, owner: Owner, value: Any) -> int:
    return (await SubjectRepository(db).create(owner.user_id, value)).id


async def _task_name(db: Database, owner: Owner, value: Any) -> uuid.UUID:
    day = DayPlan(dt.date(2026, 3, 2), [NewTask(owner.subject_id, value, 3, 5)])
    return await PlanRepository(db).create_generation(owner.user_id, [day])


async def _feedback(db: Database, owner: Owner, value: Any) -> int:
    return (await FeedbackRepository(db).submit(owner.user_id, uuid.uuid4(), value)).id


DOMAIN = Domain(
    schema="planner",
    make_owner=make_owner,
    text_inputs=(
        TextInput(
            "planner.users.email",
            _user_email,
            "select array[email] from planner.users where id = $1",
            1,
            valid=EMAILS,
        ),
        TextInput(
            "planner.users.name",
            _user_name,
            "select array[name] from planner.users where id = $1",
            1,
        ),
        TextInput("planner.users.find_by_email", _find_by_email, None, 0, valid=EMAILS),
        TextInput(
            "planner.subjects.name",
            _subject_name,
            "select array[name] from planner.subjects where id = $1",
            1,
        ),
        TextInput(
            "planner.ai_tasks.ai_task_name",
            _task_name,
            """
            select array_agg(t.ai_task_name) from planner.ai_tasks t
            join planner.plans p on p.id = t.plan_id where p.generation_id = $1
            """,
            2,  # its plan and the task
        ),
        TextInput(
            "planner.feedback.content",
            _feedback,
            "select array[content] from planner.feedback where id = $1",
            1,
        ),
    ),
    rows_of_owner="""
        select 'planner.users' as table_name, count(*) from planner.users where id = $1
        union all
        select 'planner.subjects', count(*) from planner.subjects where student_id = $1
        union all
        select 'planner.plans', count(*) from planner.plans where user_id = $1
        union all
        select 'planner.ai_tasks', count(*) from planner.ai_tasks t
        where t.plan_id in (select id from planner.plans where user_id = $1)
           or t.subject_id in (select id from planner.subjects where student_id = $1)
        union all
        select 'planner.feedback', count(*) from planner.feedback where user_id = $1
    """,
)
