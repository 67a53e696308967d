"""The tutor's scenarios, each written once per contender.

F runs the query object's own `.sql` (exactly what tether sends) and keeps the
raw Records; L calls the repository method a service would call; O1 and O2 use
a session per operation (a unit of work, as an application does) on their one
connection.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import selectinload

from tether.paging import encode
from tether.tutor import (
    ChunkRepository,
    JobQueue,
    NewChunk,
    NewJob,
    WeekRepository,
)
from tether.tutor.repositories import Q

from ..harness import Connections, Orm, Scenario
from .fixtures import B, Syllabus, chunk_text, load_course
from .orm import mapped

# The seed's mapping (O1) and the tuned one (O2), by `Orm.tuned`.
MODELS = {False: mapped(passive_deletes=False), True: mapped(passive_deletes=True)}

CLAIM_KIND = "bench-claim"


def LEASE() -> Any:
    """The lease the ORM contenders' claims take: 30 s from the server's now()."""
    return func.now() + dt.timedelta(seconds=30)


BULK_KIND = "bench-bulk"


class TutorScenario(Scenario):
    def __init__(self, connections: Connections) -> None:
        super().__init__(connections)
        self.weeks = WeekRepository(connections.tether)
        self.chunks = ChunkRepository(connections.tether)
        self.queue = JobQueue(connections.tether)


class WeeksOfCourse(TutorScenario):
    name = "weeks_of_course"

    def __init__(self, connections: Connections, courses: Sequence[int], weeks: int) -> None:
        super().__init__(connections)
        self.courses = courses
        self.what = f"a course's {weeks} weeks, in order"

    async def argument(self, contender: str, number: int) -> int:
        return self.courses[number % len(self.courses)]

    def tenant(self, course_id: int) -> int:
        return course_id

    async def floor(self, course_id: int) -> object:
        return await self.db.floor.fetch(Q.weeks_of_course.sql, course_id)

    async def tether(self, course_id: int) -> object:
        return await self.weeks.of_course(course_id)

    async def orm(self, orm: Orm, course_id: int) -> object:
        Week = MODELS[orm.tuned].Week
        query = select(Week).where(Week.course_id == course_id).order_by(Week.number)
        async with orm.session() as session:
            return (await session.scalars(query)).all()


PAGE = 100


class ChunksPage(TutorScenario):
    """A page of 100 chunks somewhere in a long reading. O1 pages as the seed's service
    would, with OFFSET; O2 by keyset, as tether does."""

    name = "chunks_page"

    def __init__(
        self, connections: Connections, reading_id: int, course_id: int, chunks: int
    ) -> None:
        super().__init__(connections)
        self.reading_id = reading_id
        self.course_id = course_id
        self.pages = chunks // PAGE
        self.what = f"a page of {PAGE} chunks of a {chunks:,}-chunk reading, in order"

    async def argument(self, contender: str, number: int) -> int:
        return number % self.pages  # the page number; each contender reads the same ones

    def tenant(self, page: int) -> int:
        return self.course_id

    async def floor(self, page: int) -> object:
        after = page * PAGE - 1 if page else None
        return await self.db.floor.fetch(Q.chunks_page.sql, self.reading_id, after, PAGE + 1)

    async def tether(self, page: int) -> object:
        cursor = encode([page * PAGE - 1]) if page else None
        return await self.chunks.page_of_reading(self.reading_id, limit=PAGE, after=cursor)

    async def orm(self, orm: Orm, page: int) -> object:
        Chunk = MODELS[orm.tuned].Chunk
        query = (
            select(Chunk)
            .where(Chunk.reading_id == self.reading_id)
            .order_by(Chunk.idx)
            .offset(page * PAGE)
            .limit(PAGE)
        )
        async with orm.session() as session:
            return (await session.scalars(query)).all()

    async def orm_tuned(self, orm: Orm, page: int) -> object:
        Chunk = MODELS[orm.tuned].Chunk
        query = (
            select(Chunk)
            .where(Chunk.reading_id == self.reading_id, Chunk.idx > page * PAGE - 1)
            .order_by(Chunk.idx)
            .limit(PAGE)
        )
        async with orm.session() as session:
            return (await session.scalars(query)).all()


class EnqueueJob(TutorScenario):
    name = "enqueue_job"
    what = "enqueue one job, in its own transaction"

    def __init__(self, connections: Connections, week_id: int, course_id: int) -> None:
        super().__init__(connections)
        self.week_id = week_id
        self.course_id = course_id

    async def argument(self, contender: str, number: int) -> dict[str, Any]:
        return {"reading_id": number}

    def tenant(self, payload: dict[str, Any]) -> int:
        return self.course_id

    async def floor(self, payload: dict[str, Any]) -> object:
        query = Q.enqueue_job
        args = {
            "kind": "summarize",
            "week_id": self.week_id,
            "payload": payload,
            "priority": 0,
            "run_at": None,
            "delay": dt.timedelta(0),
            "max_attempts": 1,
            "backoff": dt.timedelta(seconds=1),
            "backoff_cap": dt.timedelta(hours=1),
            "dedup_key": None,
        }
        return await self.db.floor.fetchrow(query.sql, *query.args(args))

    async def tether(self, payload: dict[str, Any]) -> object:
        return await self.queue.enqueue("summarize", self.week_id, payload)

    async def orm(self, orm: Orm, payload: dict[str, Any]) -> object:
        async with orm.session() as session:
            job = MODELS[orm.tuned].Job(kind="summarize", week_id=self.week_id, payload=payload)
            session.add(job)
            await session.commit()
            return job

    async def orm_tuned(self, orm: Orm, payload: dict[str, Any]) -> object:
        Job = MODELS[orm.tuned].Job
        async with orm.session() as session:
            job = await session.scalar(
                insert(Job).returning(Job),
                [{"kind": "summarize", "week_id": self.week_id, "payload": payload}],
            )
            await session.commit()
            return job


class ClaimAndSucceed(TutorScenario):
    """A worker's cycle on one job: claim the oldest pending one (SKIP LOCKED), mark it
    succeeded. O1 and O2 claim as the seed's worker would: SELECT ... FOR UPDATE SKIP
    LOCKED, set running, commit; then set succeeded, commit (O2 with UPDATE statements
    instead of loaded objects). None of them keeps the leases tether keeps."""

    name = "claim_and_succeed"
    what = "claim the oldest pending job (SKIP LOCKED) and mark it succeeded"

    async def floor(self, _: int) -> object:
        [job] = await self.db.floor.fetch(Q.claim_jobs.sql, [CLAIM_KIND], 1, 30.0)
        return await self.db.floor.execute(Q.succeed_job.sql, job["id"], job["attempt"])

    async def tether(self, _: int) -> object:
        job = await self.queue.claim_one([CLAIM_KIND])
        assert job is not None, "the claim fixture ran out of jobs"
        await self.queue.succeed(job)
        return job

    async def orm(self, orm: Orm, _: int) -> object:
        Job = MODELS[orm.tuned].Job
        oldest = (
            select(Job)
            .where(Job.status == "pending", Job.kind == CLAIM_KIND)
            .order_by(Job.id)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        async with orm.session() as session:
            job = await session.scalar(oldest)
            job.status, job.attempt, job.lease_expires_at = "running", job.attempt + 1, LEASE()
            await session.commit()
            job.status, job.progress, job.lease_expires_at = "succeeded", 100, None
            await session.commit()
            return job

    async def orm_tuned(self, orm: Orm, _: int) -> object:
        Job = MODELS[orm.tuned].Job
        oldest = (
            select(Job.id)
            .where(Job.status == "pending", Job.kind == CLAIM_KIND)
            .order_by(Job.id)
            .limit(1)
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        async with orm.session() as session:
            job_id = await session.scalar(
                update(Job)
                .where(Job.id == oldest)
                .values(status="running", attempt=Job.attempt + 1, lease_expires_at=LEASE())
                .returning(Job.id)
            )
            await session.commit()
            await session.execute(
                update(Job)
                .where(Job.id == job_id)
                .values(status="succeeded", progress=100, lease_expires_at=None)
            )
            await session.commit()
            return job_id


class BulkEnqueue(TutorScenario):
    """Each contender writes many jobs the way its users write many rows: L with COPY
    (`enqueue_many`), O1 with objects added to the session (the seed's style), O2 with
    one executemany insert()."""

    name = "bulk_enqueue"
    heavy = True

    def __init__(self, connections: Connections, count: int) -> None:
        super().__init__(connections)
        self.count = count
        self.what = f"enqueue {count:,} jobs"

    async def argument(self, contender: str, number: int) -> list[dict[str, Any]]:
        return [{"n": n} for n in range(self.count)]

    async def clean(self, payloads: list[dict[str, Any]]) -> None:
        assert await self.db.setup.execute(B.forget_jobs.sql, BULK_KIND) == f"DELETE {self.count}"
        await self.db.setup.execute(B.vacuum_tutor.sql)

    async def floor(self, payloads: list[dict[str, Any]]) -> object:
        return await self.db.floor.copy_records_to_table(
            "jobs",
            schema_name="tutor",
            columns=list(Q.copy_jobs.copy_columns),
            records=[
                (BULK_KIND, None, p, 0, 1, dt.timedelta(seconds=1), dt.timedelta(hours=1), None)
                for p in payloads
            ],
        )

    async def tether(self, payloads: list[dict[str, Any]]) -> object:
        return await self.queue.enqueue_many([NewJob(BULK_KIND, None, p) for p in payloads])

    async def orm(self, orm: Orm, payloads: list[dict[str, Any]]) -> object:
        Job = MODELS[orm.tuned].Job
        async with orm.session() as session:
            session.add_all([Job(kind=BULK_KIND, payload=p) for p in payloads])
            await session.commit()
        return len(payloads)

    async def orm_tuned(self, orm: Orm, payloads: list[dict[str, Any]]) -> object:
        Job = MODELS[orm.tuned].Job
        async with orm.session() as session:
            await session.execute(
                insert(Job), [{"kind": BULK_KIND, "payload": p} for p in payloads]
            )
            await session.commit()
        return len(payloads)


class BulkChunks(TutorScenario):
    """A reading cut into chunks: L with COPY (`ChunkRepository.write`), O1 adding
    objects to the reading's collection (the seed's style), O2 one executemany insert()."""

    name = "bulk_chunks"
    heavy = True

    def __init__(
        self, connections: Connections, reading_id: int, course_id: int, count: int
    ) -> None:
        super().__init__(connections)
        self.reading_id = reading_id
        self.course_id = course_id  # what tether's write looks up once: the floor's rows carry it
        self.count = count
        self.texts = [chunk_text(n) for n in range(count)]
        self.what = f"write a reading's {count:,} chunks"

    async def argument(self, contender: str, number: int) -> list[str]:
        return self.texts

    def tenant(self, texts: list[str]) -> int:
        return self.course_id

    async def clean(self, texts: list[str]) -> None:
        deleted = await self.db.setup.execute(B.forget_chunks.sql, self.reading_id)
        assert deleted == f"DELETE {self.count}", deleted
        await self.db.setup.execute(B.vacuum_tutor.sql)

    async def floor(self, texts: list[str]) -> object:
        return await self.db.floor.copy_records_to_table(
            "chunks",
            schema_name="tutor",
            columns=list(Q.copy_chunks.copy_columns),
            records=[
                (self.reading_id, self.course_id, i, t, {"page": i // 4})
                for i, t in enumerate(texts)
            ],
        )

    async def tether(self, texts: list[str]) -> object:
        return await self.chunks.write(
            self.reading_id, [NewChunk(i, t, {"page": i // 4}) for i, t in enumerate(texts)]
        )

    async def orm(self, orm: Orm, texts: list[str]) -> object:
        models = MODELS[orm.tuned]
        async with orm.session() as session:
            reading = await session.get(
                models.Reading, self.reading_id, options=[selectinload(models.Reading.chunks)]
            )
            reading.chunks.extend(
                models.Chunk(idx=i, content=t, meta={"page": i // 4}) for i, t in enumerate(texts)
            )
            await session.commit()
        return len(texts)

    async def orm_tuned(self, orm: Orm, texts: list[str]) -> object:
        Chunk = MODELS[orm.tuned].Chunk
        async with orm.session() as session:
            await session.execute(
                insert(Chunk),
                [
                    {
                        "reading_id": self.reading_id,
                        "idx": i,
                        "content": t,
                        "meta": {"page": i // 4},
                    }
                    for i, t in enumerate(texts)
                ],
            )
            await session.commit()
        return len(texts)


class DeleteWeek(TutorScenario):
    """Delete a week holding readings, chunks, summaries, conversations and audio,
    re-created (untimed) before each run."""

    name = "delete_week"
    heavy = True

    _numbers = itertools.count()

    def __init__(self, connections: Connections, week: Syllabus) -> None:
        super().__init__(connections)
        self.week = week
        self.what = f"delete a week with {week.rows - 1:,} rows below it"
        self.course_of: dict[int, int] = {}  # each week's course, for the scoped contender

    async def argument(self, contender: str, number: int) -> int:
        [week_id] = await load_course(
            self.db.setup, f"DEL-{contender}-{next(self._numbers)}", self.week
        )
        self.course_of[week_id] = await self.db.setup.fetchval(B.course_of_week.sql, week_id)
        return week_id

    def tenant(self, week_id: int) -> int:
        return self.course_of[week_id]

    async def clean(self, week_id: int) -> None:
        assert await self.db.setup.fetchval(B.week_exists.sql, week_id) is False, "not deleted"
        await self.db.setup.execute(B.vacuum_tutor.sql)

    async def floor(self, week_id: int) -> object:
        return await self.db.floor.execute(Q.delete_week.sql, week_id)

    async def tether(self, week_id: int) -> object:
        return await self.weeks.delete(week_id)

    async def orm(self, orm: Orm, week_id: int) -> object:
        """The seed's cascade: the ORM loads every descendant (eagerly) and deletes each."""
        m = MODELS[orm.tuned]
        async with orm.session() as session:
            week = await session.get(
                m.Week,
                week_id,
                options=[
                    selectinload(m.Week.readings).selectinload(m.Reading.chunks),
                    selectinload(m.Week.summaries),
                    selectinload(m.Week.conversations).selectinload(m.Conversation.audio_blobs),
                    selectinload(m.Week.jobs),
                ],
            )
            await session.delete(week)
            await session.commit()
        return week

    async def orm_tuned(self, orm: Orm, week_id: int) -> object:
        """passive_deletes: the ORM deletes the week only, the database cascades."""
        async with orm.session() as session:
            week = await session.get(MODELS[orm.tuned].Week, week_id)
            await session.delete(week)
            await session.commit()
        return week
