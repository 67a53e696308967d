"""The planner's repositories: one method per use case, one query per method.

Each works on a `Database`, a pool, or a connection inside the caller's
transaction. Integrity (ownership, cascades, uniqueness) is the database's:
these methods never check a reference before writing it nor delete children.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from tether import queries
from tether.errors import InvalidValue
from tether.paging import Page
from tether.planner.records import (
    Calendar,
    DayPlan,
    Feedback,
    Generation,
    Subject,
    User,
)
from tether.repository import Repository

Q = queries.load("planner")


class UserRepository(Repository):
    INSERT_USER = Q.insert_user.returning(User)
    GET_USER = Q.get_user.returning(User)
    FIND_USER_BY_EMAIL = Q.find_user_by_email.returning(User)
    DELETE_USER = Q.delete_user

    async def create(self, email: str, name: str | None = None) -> User:
        """A new user; Conflict if the e-mail address is taken (whatever its case)."""
        return await self._returning(self.INSERT_USER, email=email, name=name)

    async def get(self, user_id: int) -> User:
        return await self._get(self.GET_USER, "planner.users", id=user_id)

    async def find_by_email(self, email: str) -> User | None:
        return await self._one(self.FIND_USER_BY_EMAIL, email=email)

    async def delete(self, user_id: int) -> bool:
        """Delete a user and, by cascade, everything of theirs; False if there was none."""
        return await self._execrows(self.DELETE_USER, id=user_id) > 0


class SubjectRepository(Repository):
    INSERT_SUBJECT = Q.insert_subject.returning(Subject)
    LIST_SUBJECTS = Q.list_subjects.returning(Subject)
    DELETE_SUBJECT = Q.delete_subject

    async def create(self, student_id: int, name: str) -> Subject:
        return await self._returning(self.INSERT_SUBJECT, student_id=student_id, name=name)

    async def of_student(self, student_id: int) -> list[Subject]:
        return await self._many(self.LIST_SUBJECTS, student_id=student_id)

    async def delete(self, subject_id: int) -> bool:
        """Delete a subject and, by cascade, its tasks in every generation."""
        return await self._execrows(self.DELETE_SUBJECT, id=subject_id) > 0


class PlanRepository(Repository):
    INSERT_GENERATION = Q.insert_generation
    LATEST_CALENDAR = Q.latest_calendar.returning(Calendar)
    LIST_GENERATIONS = Q.list_generations.returning(Generation)
    DELETE_PLAN = Q.delete_plan
    DELETE_GENERATION = Q.delete_generation

    async def create_generation(self, user_id: int, days: Sequence[DayPlan]) -> uuid.UUID:
        """Write a whole generation (a plan per day, its tasks) atomically; return its id.

        One statement: a bad task (a subject of another user, a difficulty out of
        range, two plans for one day) leaves nothing of the generation behind.
        """
        if not days:
            raise InvalidValue("planner.plans: a generation needs at least one day")
        tasks = [(day.date, task) for day in days for task in day.tasks]
        generation_id: uuid.UUID = await self._val(
            self.INSERT_GENERATION,
            user_id=user_id,
            dates=[day.date for day in days],
            task_dates=[date for date, _ in tasks],
            subject_ids=[task.subject_id for _, task in tasks],
            names=[task.ai_task_name for _, task in tasks],
            difficulties=[task.difficulty for _, task in tasks],
            priorities=[task.priority for _, task in tasks],
        )
        return generation_id

    async def latest_calendar(self, user_id: int) -> Calendar | None:
        """The user's newest generation as a calendar, in one round trip; None if no plans."""
        return await self._one(self.LATEST_CALENDAR, user_id=user_id)

    async def page_of_user(
        self, user_id: int, *, limit: int = 20, after: str | None = None
    ) -> Page[Generation]:
        """The user's generations that still have plans, newest first, `limit` (1 to
        1,000) per page: `after` is the previous page's `next` cursor (None: the first
        page). A page costs what it holds, however many generations the user has."""
        return await self._page(
            self.LIST_GENERATIONS,
            key=("newest_plan_id",),
            limit=limit,
            after=after,
            user_id=user_id,
        )

    async def delete_plan(self, plan_id: int) -> bool:
        """Delete one day plan and its tasks; feedback on its generation stays."""
        return await self._execrows(self.DELETE_PLAN, id=plan_id) > 0

    async def delete_generation(self, user_id: int, generation_id: uuid.UUID) -> int:
        """Delete every plan (and task) of one generation; return how many plans went."""
        return await self._execrows(
            self.DELETE_GENERATION, user_id=user_id, generation_id=generation_id
        )


class FeedbackRepository(Repository):
    INSERT_FEEDBACK = Q.insert_feedback.returning(Feedback)
    LATEST_FEEDBACK = Q.latest_feedback.returning(Feedback)

    async def submit(self, user_id: int, generation_id: uuid.UUID, content: str) -> Feedback:
        """Record the user's feedback on a generation; Conflict if they already gave one."""
        return await self._returning(
            self.INSERT_FEEDBACK, user_id=user_id, generation_id=generation_id, content=content
        )

    async def latest(self, user_id: int, limit: int = 2) -> list[Feedback]:
        """The user's most recent feedback, newest first (the rescheduler's input)."""
        return await self._many(self.LATEST_FEEDBACK, user_id=user_id, limit=limit)
