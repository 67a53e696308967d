"""The planner's scenarios, each written once per contender.

F runs the query object's own `.sql` (exactly what tether sends) and keeps the
raw Records; L calls the repository method a service would call; O1 and O2 use
a session per operation (a unit of work, as an application does) on their one
connection.
"""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, insert, select
from sqlalchemy.orm import selectinload

from tether.planner import DayPlan, NewTask, PlanRepository, SubjectRepository, UserRepository
from tether.planner.repositories import Q

from ..harness import Connections, Orm, Scenario
from .fixtures import FIRST_DAY, READER, B, History, load_users
from .orm import mapped

# The seed's mapping (O1) and the tuned one (O2), by `Orm.tuned`.
MODELS = {False: mapped(passive_deletes=False), True: mapped(passive_deletes=True)}

# A generation as the caller has it before any library sees it:
# [(day, [(subject_id, task name, difficulty, priority), ...]), ...]
GenerationRequest = Sequence[tuple[dt.date, Sequence[tuple[int, str, int, int]]]]


class PlannerScenario(Scenario):
    def __init__(self, connections: Connections) -> None:
        super().__init__(connections)
        self.users = UserRepository(connections.tether)
        self.subjects = SubjectRepository(connections.tether)
        self.plans = PlanRepository(connections.tether)


class ReadScenario(PlannerScenario):
    """Reads what the readers own (a page of subjects, a calendar): each operation the next's."""

    def __init__(self, connections: Connections, readers: Sequence[int]) -> None:
        super().__init__(connections)
        self.readers = readers

    async def argument(self, contender: str, number: int) -> int:
        return self.readers[number % len(self.readers)]

    def tenant(self, user_id: int) -> int:
        return user_id


class GetUser(ReadScenario):
    name = "get_user"
    what = "get one user by primary key"

    async def floor(self, user_id: int) -> object:
        return await self.db.floor.fetchrow(Q.get_user.sql, user_id)

    async def tether(self, user_id: int) -> object:
        return await self.users.get(user_id)

    async def orm(self, orm: Orm, user_id: int) -> object:
        async with orm.session() as session:
            return await session.get(MODELS[orm.tuned].User, user_id)


class SubjectsPage(ReadScenario):
    name = "subjects_page"
    what = f"a user's {READER.subjects} subjects, in name order (SubjectRepository.of_student)"

    async def floor(self, user_id: int) -> object:
        return await self.db.floor.fetch(Q.list_subjects.sql, user_id)

    async def tether(self, user_id: int) -> object:
        return await self.subjects.of_student(user_id)

    async def orm(self, orm: Orm, user_id: int) -> object:
        Subject = MODELS[orm.tuned].Subject
        query = select(Subject).where(Subject.student_id == user_id).order_by(Subject.name)
        async with orm.session() as session:
            return (await session.scalars(query)).all()


class InsertUser(PlannerScenario):
    name = "insert_user"
    what = "insert one user, in its own transaction"

    _numbers = itertools.count()

    async def argument(self, contender: str, number: int) -> str:
        return f"new-{contender}-{next(self._numbers)}@bench.test"

    async def floor(self, email: str) -> object:
        return await self.db.floor.fetchrow(Q.insert_user.sql, email, "New User")

    async def tether(self, email: str) -> object:
        return await self.users.create(email, "New User")

    async def orm(self, orm: Orm, email: str) -> object:
        async with orm.session() as session:
            user = MODELS[orm.tuned].User(email=email, name="New User")
            session.add(user)
            await session.commit()
            return user

    async def orm_tuned(self, orm: Orm, email: str) -> object:
        User = MODELS[orm.tuned].User
        async with orm.session() as session:
            user = await session.scalar(
                insert(User).returning(User), [{"email": email, "name": "New User"}]
            )
            await session.commit()
            return user


class BulkGeneration(PlannerScenario):
    """Each contender writes the generation the way its users write many rows.

    L: `PlanRepository.create_generation`, the planner's own bulk write (one
    statement, all plans and tasks or none); COPY is tether's tool for rows
    with no such domain operation. The timing includes turning the request into
    each library's input (NewTask records, ORM objects, dicts).
    """

    name = "bulk_generation"
    heavy = True

    def __init__(
        self,
        connections: Connections,
        user_id: int,
        subject_ids: Sequence[int],
        days: int,
        tasks_per_day: int,
    ) -> None:
        super().__init__(connections)
        self.user_id = user_id
        self.request: GenerationRequest = [
            (
                FIRST_DAY + dt.timedelta(days=d),
                [
                    (subject_ids[t % len(subject_ids)], f"task {t}", 1 + t % 5, 1 + t % 10)
                    for t in range(tasks_per_day)
                ],
            )
            for d in range(days)
        ]
        self.days = days
        self.what = f"one generation: {days} day plans and {days * tasks_per_day:,} tasks"

    async def argument(self, contender: str, number: int) -> GenerationRequest:
        return self.request

    def tenant(self, request: GenerationRequest) -> int:
        return self.user_id

    async def clean(self, request: GenerationRequest) -> None:
        deleted = await self.db.setup.execute(B.forget_plans.sql, self.user_id)
        assert deleted == f"DELETE {self.days}", f"the generation was not written: {deleted}"
        await self.db.setup.execute(B.vacuum_planner.sql)

    async def floor(self, request: GenerationRequest) -> object:
        tasks = [(day, task) for day, day_tasks in request for task in day_tasks]
        return await self.db.floor.fetchval(
            Q.insert_generation.sql,
            self.user_id,
            [day for day, _ in request],
            [day for day, _ in tasks],
            [task[0] for _, task in tasks],
            [task[1] for _, task in tasks],
            [task[2] for _, task in tasks],
            [task[3] for _, task in tasks],
        )

    async def tether(self, request: GenerationRequest) -> object:
        days = [DayPlan(day, [NewTask(*task) for task in tasks]) for day, tasks in request]
        return await self.plans.create_generation(self.user_id, days)

    async def orm(self, orm: Orm, request: GenerationRequest) -> object:
        Plan, AITask = MODELS[orm.tuned].Plan, MODELS[orm.tuned].AITask
        generation_id = uuid.uuid4()
        plans = [
            Plan(
                user_id=self.user_id,
                date=day,
                generation_id=generation_id,
                ai_tasks=[
                    AITask(subject_id=s, ai_task_name=n, difficulty=d, priority=p)
                    for s, n, d, p in tasks
                ],
            )
            for day, tasks in request
        ]
        async with orm.session() as session:
            session.add_all(plans)
            await session.flush()
            await session.commit()
        return generation_id

    async def orm_tuned(self, orm: Orm, request: GenerationRequest) -> object:
        Plan, AITask = MODELS[orm.tuned].Plan, MODELS[orm.tuned].AITask
        generation_id = uuid.uuid4()
        async with orm.session() as session:
            new_plans = await session.execute(
                insert(Plan).returning(Plan.id, Plan.date),
                [
                    {"user_id": self.user_id, "date": day, "generation_id": generation_id}
                    for day, _ in request
                ],
            )
            plan_of_day = {day: plan_id for plan_id, day in new_plans}
            await session.execute(
                insert(AITask),
                [
                    {
                        "plan_id": plan_of_day[day],
                        "subject_id": s,
                        "ai_task_name": n,
                        "difficulty": d,
                        "priority": p,
                    }
                    for day, tasks in request
                    for s, n, d, p in tasks
                ],
            )
            await session.commit()
        return generation_id


class Calendar(ReadScenario):
    name = "calendar"
    what = (
        f"the latest generation as a calendar: {READER.days} days, "
        f"{READER.days * READER.tasks_per_day} tasks with subject names"
    )

    async def floor(self, user_id: int) -> object:
        return await self.db.floor.fetchrow(Q.latest_calendar.sql, user_id)

    async def tether(self, user_id: int) -> object:
        return await self.plans.latest_calendar(user_id)

    @staticmethod
    def latest_generation(Plan: Any, user_id: int) -> Select[Any]:
        """The generation holding the user's newest plan, as tether's calendar picks it."""
        return (
            select(Plan.generation_id)
            .where(Plan.user_id == user_id)
            .order_by(Plan.id.desc())
            .limit(1)
        )

    @staticmethod
    def days(Plan: Any, user_id: int, generation: Any) -> Select[Any]:
        return (
            select(Plan)
            .where(Plan.user_id == user_id, Plan.generation_id == generation)
            .order_by(Plan.date)
        )

    async def orm(self, orm: Orm, user_id: int) -> object:
        """As the seed's service would: find the latest generation, load its days eagerly."""
        Plan, AITask = MODELS[orm.tuned].Plan, MODELS[orm.tuned].AITask
        async with orm.session() as session:
            latest = await session.scalar(self.latest_generation(Plan, user_id))
            days = await session.scalars(
                self.days(Plan, user_id, latest).options(
                    selectinload(Plan.ai_tasks).selectinload(AITask.subject)
                )
            )
            return days.all()

    async def orm_tuned(self, orm: Orm, user_id: int) -> object:
        """The latest generation as a subquery, and each task's subject joined in."""
        Plan, AITask = MODELS[orm.tuned].Plan, MODELS[orm.tuned].AITask
        latest = self.latest_generation(Plan, user_id).scalar_subquery()
        async with orm.session() as session:
            days = await session.scalars(
                self.days(Plan, user_id, latest).options(
                    selectinload(Plan.ai_tasks).joinedload(AITask.subject)
                )
            )
            return days.all()


class CascadeDelete(PlannerScenario):
    """Delete a user who owns tens of thousands of rows, re-created (untimed) before each run."""

    name = "cascade_delete"
    heavy = True

    _numbers = itertools.count()

    def __init__(self, connections: Connections, victim: History) -> None:
        super().__init__(connections)
        self.victim = victim
        self.what = f"delete a user with {victim.descendants:,} descendant rows"

    async def argument(self, contender: str, number: int) -> int:
        email = f"victim-{contender}-{next(self._numbers)}@bench.test"
        [user_id] = await load_users(self.db.setup, [email], self.victim)
        return user_id

    def tenant(self, user_id: int) -> int:
        return user_id

    async def clean(self, user_id: int) -> None:
        assert await self.db.setup.fetchval(B.user_exists.sql, user_id) is False, "not deleted"
        await self.db.setup.execute(B.vacuum_planner.sql)

    async def floor(self, user_id: int) -> object:
        return await self.db.floor.execute(Q.delete_user.sql, user_id)

    async def tether(self, user_id: int) -> object:
        return await self.users.delete(user_id)

    async def orm(self, orm: Orm, user_id: int) -> object:
        """The seed's cascade: the ORM loads every descendant (eagerly) and deletes each."""
        User, Plan, Subject = (
            MODELS[orm.tuned].User,
            MODELS[orm.tuned].Plan,
            MODELS[orm.tuned].Subject,
        )
        async with orm.session() as session:
            user = await session.get(
                User,
                user_id,
                options=[
                    selectinload(User.plans).selectinload(Plan.ai_tasks),
                    selectinload(User.subjects).selectinload(Subject.ai_tasks),
                    selectinload(User.feedbacks),
                ],
            )
            await session.delete(user)
            await session.commit()
        return user

    async def orm_tuned(self, orm: Orm, user_id: int) -> object:
        """passive_deletes: the ORM deletes the user only, the database cascades."""
        async with orm.session() as session:
            user = await session.get(MODELS[orm.tuned].User, user_id)
            await session.delete(user)
            await session.commit()
        return user
