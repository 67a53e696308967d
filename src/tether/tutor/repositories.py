"""The tutor's repositories: one method per use case, one query per method.

Each works on a `Database`, a pool, or a connection inside the caller's
transaction. Integrity (references, cascades, uniqueness, a conversation's end,
who holds a job) is the database's: these methods never check a reference before
writing it nor delete children.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator, Iterable, Sequence
from typing import Any

from tether import queries
from tether.database import Database
from tether.paging import Page
from tether.records import all_of
from tether.repository import Executor, Repository
from tether.tutor.errors import LeaseLost
from tether.tutor.records import (
    AudioBlob,
    AudioPiece,
    Chunk,
    Conversation,
    Course,
    Job,
    NewChunk,
    NewJob,
    QueueDepth,
    Reading,
    Summary,
    User,
    Week,
)

Q = queries.load("tutor")


class UserRepository(Repository):
    INSERT_USER = Q.insert_user.returning(User)
    GET_USER = Q.get_user.returning(User)
    FIND_USER_BY_EMAIL = Q.find_user_by_email.returning(User)
    UPDATE_USER = Q.update_user.returning(User)
    DELETE_USER = Q.delete_user

    async def create(self, email: str, name: str, role: str | None = None) -> User:
        """A new user (a student unless `role` says otherwise); Conflict if the e-mail
        address is taken, whatever its case."""
        return await self._returning(self.INSERT_USER, email=email, name=name, role=role)

    async def get(self, user_id: int) -> User:
        return await self._get(self.GET_USER, "tutor.users", id=user_id)

    async def find_by_email(self, email: str) -> User | None:
        return await self._one(self.FIND_USER_BY_EMAIL, email=email)

    async def update(
        self, user_id: int, *, name: str | None = None, role: str | None = None
    ) -> User:
        """A new name and/or role (None keeps it); NotFound if there is no such user."""
        return await self._get(self.UPDATE_USER, "tutor.users", id=user_id, name=name, role=role)

    async def delete(self, user_id: int) -> bool:
        """Delete a user and, by cascade, their courses (and everything below), summaries
        and conversations; False if there was none."""
        return await self._execrows(self.DELETE_USER, id=user_id) > 0


class CourseRepository(Repository):
    INSERT_COURSE = Q.insert_course.returning(Course)
    GET_COURSE = Q.get_course.returning(Course)
    FIND_COURSE_BY_CODE = Q.find_course_by_code.returning(Course)
    COURSES_OF_PROFESSOR = Q.courses_of_professor.returning(Course)
    UPDATE_COURSE = Q.update_course.returning(Course)
    DELETE_COURSE = Q.delete_course

    async def create(self, professor_id: int, name: str, code: str) -> Course:
        """A new course; Conflict if the code is taken, MissingReference if the
        professor does not exist."""
        return await self._returning(
            self.INSERT_COURSE, name=name, code=code, professor_id=professor_id
        )

    async def get(self, course_id: int) -> Course:
        return await self._get(self.GET_COURSE, "tutor.courses", id=course_id)

    async def find_by_code(self, code: str) -> Course | None:
        return await self._one(self.FIND_COURSE_BY_CODE, code=code)

    async def of_professor(self, professor_id: int) -> list[Course]:
        """A professor's courses, by code."""
        return await self._many(self.COURSES_OF_PROFESSOR, professor_id=professor_id)

    async def update(
        self, course_id: int, *, name: str | None = None, code: str | None = None
    ) -> Course:
        """A new name and/or code (None keeps it); NotFound if there is no such course."""
        return await self._get(
            self.UPDATE_COURSE, "tutor.courses", id=course_id, name=name, code=code
        )

    async def delete(self, course_id: int) -> bool:
        """Delete a course and, by cascade, its weeks and all of theirs (their jobs stay,
        with week_id NULL)."""
        return await self._execrows(self.DELETE_COURSE, id=course_id) > 0


class WeekRepository(Repository):
    INSERT_WEEK = Q.insert_week.returning(Week)
    GET_WEEK = Q.get_week.returning(Week)
    WEEKS_OF_COURSE = Q.weeks_of_course.returning(Week)
    DELETE_WEEK = Q.delete_week

    async def create(self, course_id: int, number: int, title: str | None = None) -> Week:
        """Week `number` (1 or more) of a course; Conflict if the course has it already."""
        return await self._returning(
            self.INSERT_WEEK, course_id=course_id, number=number, title=title
        )

    async def get(self, week_id: int) -> Week:
        return await self._get(self.GET_WEEK, "tutor.weeks", id=week_id)

    async def of_course(self, course_id: int) -> list[Week]:
        """A course's weeks, in order."""
        return await self._many(self.WEEKS_OF_COURSE, course_id=course_id)

    async def delete(self, week_id: int) -> bool:
        """Delete a week and, by cascade, its readings, chunks, summaries, conversations
        and audio; its jobs stay, with week_id NULL."""
        return await self._execrows(self.DELETE_WEEK, id=week_id) > 0


class ReadingRepository(Repository):
    INSERT_READING = Q.insert_reading.returning(Reading)
    GET_READING = Q.get_reading.returning(Reading)
    READINGS_OF_WEEK = Q.readings_of_week.returning(Reading)
    DELETE_READING = Q.delete_reading

    async def create(self, week_id: int, filename: str, file_path: str) -> Reading:
        return await self._returning(
            self.INSERT_READING, week_id=week_id, filename=filename, file_path=file_path
        )

    async def get(self, reading_id: int) -> Reading:
        return await self._get(self.GET_READING, "tutor.readings", id=reading_id)

    async def of_week(self, week_id: int) -> list[Reading]:
        """A week's readings, in upload order."""
        return await self._many(self.READINGS_OF_WEEK, week_id=week_id)

    async def delete(self, reading_id: int) -> bool:
        """Delete a reading and, by cascade, its chunks."""
        return await self._execrows(self.DELETE_READING, id=reading_id) > 0


class ChunkRepository(Repository):
    COPY_CHUNKS = Q.copy_chunks
    COURSE_OF_READING = Q.course_of_reading
    CHUNKS_OF_READING = Q.chunks_of_reading.returning(Chunk)
    CHUNKS_PAGE = Q.chunks_page.returning(Chunk)
    DELETE_CHUNKS = Q.delete_chunks

    async def write(self, reading_id: int, chunks: Iterable[NewChunk]) -> int:
        """Write a reading's chunks with COPY; return how many. One that breaks a rule
        (an index used twice, a missing reading) refuses them all."""
        written = all_of(NewChunk, "tutor.chunks", chunks)
        # The course in every row: a lookup per row would cost a third of the COPY (a
        # missing or unseen reading leaves it NULL, and the per-row lookup refuses it).
        course_id = await self._val(self.COURSE_OF_READING, reading_id=reading_id)
        rows = [(reading_id, course_id, c.idx, c.content, c.meta) for c in written]
        return await self._copy(self.COPY_CHUNKS, rows)

    async def of_reading(self, reading_id: int) -> list[Chunk]:
        """Every chunk of a reading, in order (for big readings, `page`)."""
        return await self._many(self.CHUNKS_OF_READING, reading_id=reading_id)

    async def page(
        self, reading_id: int, limit: int = 100, after: str | None = None
    ) -> Page[Chunk]:
        """A page of a reading's chunks in order; `after` is the previous page's `next`."""
        return await self._page(
            self.CHUNKS_PAGE, key=("idx",), limit=limit, after=after, reading_id=reading_id
        )

    async def delete_of_reading(self, reading_id: int) -> int:
        """Delete a reading's chunks (to cut it again); return how many went."""
        return await self._execrows(self.DELETE_CHUNKS, reading_id=reading_id)


class SummaryRepository(Repository):
    INSERT_SUMMARY = Q.insert_summary.returning(Summary)
    SUMMARIES_OF_WEEK = Q.summaries_of_week.returning(Summary)
    UPDATE_SUMMARY = Q.update_summary.returning(Summary)
    DELETE_SUMMARY = Q.delete_summary

    async def create(self, week_id: int, created_by_id: int, content: str) -> Summary:
        return await self._returning(
            self.INSERT_SUMMARY, week_id=week_id, created_by_id=created_by_id, content=content
        )

    async def of_week(self, week_id: int) -> list[Summary]:
        """A week's summaries, newest first."""
        return await self._many(self.SUMMARIES_OF_WEEK, week_id=week_id)

    async def update(self, summary_id: int, content: str) -> Summary:
        """New content (updated_at moves on); NotFound if there is no such summary."""
        return await self._get(
            self.UPDATE_SUMMARY, "tutor.summaries", id=summary_id, content=content
        )

    async def delete(self, summary_id: int) -> bool:
        return await self._execrows(self.DELETE_SUMMARY, id=summary_id) > 0


# How long a claim holds a job unless progress renews it, by default.
LEASE = dt.timedelta(seconds=30)


class JobQueue(Repository):
    """The job queue: enqueue, claim (SKIP LOCKED, with a lease), report progress,
    succeed or fail.

    A claim holds a job for `lease`; each progress report renews it. A job whose
    lease lapsed (its worker died or hangs) is claimed again by the next claim,
    with a new attempt number, and every write of the worker that lost it is
    refused with LeaseLost: a zombie never overwrites a rescued job.
    """

    __slots__ = ("lease",)

    ENQUEUE_JOB = Q.enqueue_job.returning(Job)
    COPY_JOBS = Q.copy_jobs
    CLAIM_JOBS = Q.claim_jobs.returning(Job)
    REPORT_PROGRESS = Q.report_progress
    RENEW_LEASES = Q.renew_leases
    SUCCEED_JOB = Q.succeed_job
    SUCCEED_JOBS = Q.succeed_jobs
    FAIL_JOB = Q.fail_job
    RELEASE_JOB = Q.release_job
    GET_JOB = Q.get_job.returning(Job)
    JOBS_OF_WEEK = Q.jobs_of_week.returning(Job)
    QUEUE_DEPTH = Q.queue_depth.returning(QueueDepth)

    def __init__(self, db: Database | Executor, *, lease: dt.timedelta = LEASE) -> None:
        super().__init__(db)
        self.lease = lease

    async def enqueue(self, kind: str, week_id: int | None = None, payload: Any = None) -> Job:
        """One new pending job (payload: any JSON value, `{}` when None)."""
        return await self._returning(self.ENQUEUE_JOB, kind=kind, week_id=week_id, payload=payload)

    async def enqueue_many(self, jobs: Iterable[NewJob]) -> int:
        """Many new pending jobs with COPY, all or none; return how many."""
        rows = [(job.kind, job.week_id, job.payload) for job in all_of(NewJob, "tutor.jobs", jobs)]
        return await self._copy(self.COPY_JOBS, rows)

    async def claim(self, kinds: Sequence[str], limit: int = 1) -> list[Job]:
        """Up to `limit` jobs of these kinds, oldest first, now running and held by this
        claim for `lease`: pending ones, and those whose lease lapsed. Concurrent
        claims never return the same job. An empty list when there is none. (A single
        kind may be given as a plain string.)"""
        return await self._many(
            self.CLAIM_JOBS,
            kinds=[kinds] if isinstance(kinds, str) else list(kinds),
            limit=limit,
            lease_seconds=self.lease.total_seconds(),
        )

    async def claim_one(self, kinds: Sequence[str]) -> Job | None:
        """The oldest claimable job of these kinds, or None."""
        claimed = await self.claim(kinds, 1)
        return claimed[0] if claimed else None

    async def progress(self, job: Job, percent: int) -> None:
        """Report progress (0..100) on a claimed job; renews its lease.
        LeaseLost if this claim no longer holds it."""
        await self._held(
            "progress",
            job,
            self.REPORT_PROGRESS,
            progress=percent,
            lease_seconds=self.lease.total_seconds(),
        )

    async def heartbeat(self, *jobs: Job) -> None:
        """Renew the leases of claimed jobs, their progress unchanged, in one statement.
        LeaseLost for those this worker's claim no longer holds."""
        await self._all_held(
            "heartbeat", jobs, self.RENEW_LEASES, lease_seconds=self.lease.total_seconds()
        )

    async def succeed(self, job: Job) -> None:
        """The job is done. LeaseLost if this claim no longer holds it (nothing written)."""
        await self._held("success", job, self.SUCCEED_JOB)

    async def succeed_many(self, jobs: Sequence[Job]) -> None:
        """Several claimed jobs are done, in one statement. Those whose claim no longer
        holds are refused together in one LeaseLost, after the others are recorded."""
        await self._all_held("success", jobs, self.SUCCEED_JOBS)

    async def fail(self, job: Job, error: str) -> None:
        """The job failed with `error`. LeaseLost if this claim no longer holds it."""
        await self._held("failure", job, self.FAIL_JOB, error=error)

    async def release(self, job: Job) -> None:
        """Give a claimed job back, pending again (a worker shutting down)."""
        await self._held("release", job, self.RELEASE_JOB)

    async def _held(self, what: str, job: Job, query: queries.Query, **args: Any) -> None:
        """Run a write guarded by the job's claim; LeaseLost if the claim no longer holds."""
        if await self._execrows(query, id=job.id, attempt=job.attempt, **args) == 0:
            raise LeaseLost([job.id], what)

    async def _all_held(
        self, what: str, jobs: Sequence[Job], query: queries.Query, **args: Any
    ) -> None:
        """The same for a batch: the query returns the ids whose claim held."""
        held: list[int] = await self._val(
            query, ids=[job.id for job in jobs], attempts=[job.attempt for job in jobs], **args
        )
        if len(held) < len(jobs):
            kept = set(held)
            raise LeaseLost([job.id for job in jobs if job.id not in kept], what)

    async def get(self, job_id: int) -> Job:
        return await self._get(self.GET_JOB, "tutor.jobs", id=job_id)

    async def of_week(self, week_id: int) -> list[Job]:
        return await self._many(self.JOBS_OF_WEEK, week_id=week_id)

    async def depth(self) -> list[QueueDepth]:
        """How many jobs of each kind are in each status."""
        return await self._many(self.QUEUE_DEPTH)

    async def wait(
        self,
        kinds: Sequence[str],
        *,
        stop: asyncio.Event | None = None,
        min_sleep: float = 0.01,
        max_sleep: float = 1.0,
    ) -> AsyncIterator[Job]:
        """Claimed jobs, one after the other, for as long as `stop` is not set.

        When there is none, it sleeps, twice as long each time from `min_sleep` up to
        `max_sleep` (a backoff poll: see docs/tutor.md for why not LISTEN/NOTIFY), and
        claims again at once after a claim found work.
        """
        async for jobs in self.batches(
            kinds, 1, stop=stop, min_sleep=min_sleep, max_sleep=max_sleep
        ):
            yield jobs[0]

    async def batches(
        self,
        kinds: Sequence[str],
        size: int,
        *,
        stop: asyncio.Event | None = None,
        min_sleep: float = 0.01,
        max_sleep: float = 1.0,
    ) -> AsyncIterator[list[Job]]:
        """Claimed batches of up to `size` jobs, as `wait` yields single ones."""
        sleep = min_sleep
        while stop is None or not stop.is_set():
            jobs = await self.claim(kinds, size)
            if jobs:
                sleep = min_sleep
                yield jobs
                continue
            if stop is None:
                await asyncio.sleep(sleep)
            else:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), sleep)
            sleep = min(sleep * 2, max_sleep)


class ConversationRepository(Repository):
    START_CONVERSATION = Q.start_conversation.returning(Conversation)
    END_CONVERSATION = Q.end_conversation.returning(Conversation)
    GET_CONVERSATION = Q.get_conversation.returning(Conversation)
    FIND_CONVERSATION_BY_SESSION = Q.find_conversation_by_session.returning(Conversation)
    CONVERSATIONS_OF_WEEK = Q.conversations_of_week.returning(Conversation)
    DELETE_CONVERSATION = Q.delete_conversation

    async def start(
        self,
        user_id: int,
        week_id: int,
        session_id: str,
        started_at: dt.datetime | None = None,
    ) -> Conversation:
        """A new conversation (from now, unless `started_at`); Conflict if the session
        id is taken."""
        return await self._returning(
            self.START_CONVERSATION,
            user_id=user_id,
            week_id=week_id,
            session_id=session_id,
            started_at=started_at,
        )

    async def end(self, conversation_id: int, ended_at: dt.datetime | None = None) -> Conversation:
        """End a conversation (now, unless `ended_at`): its end time and its duration in
        whole seconds are set together. AlreadyEnded if it has ended; NotFound if none."""
        return await self._get(
            self.END_CONVERSATION, "tutor.conversations", id=conversation_id, ended_at=ended_at
        )

    async def get(self, conversation_id: int) -> Conversation:
        return await self._get(self.GET_CONVERSATION, "tutor.conversations", id=conversation_id)

    async def find_by_session(self, session_id: str) -> Conversation | None:
        return await self._one(self.FIND_CONVERSATION_BY_SESSION, session_id=session_id)

    async def of_week(self, week_id: int) -> list[Conversation]:
        """A week's conversations, newest first."""
        return await self._many(self.CONVERSATIONS_OF_WEEK, week_id=week_id)

    async def delete(self, conversation_id: int) -> bool:
        """Delete a conversation and, by cascade, its audio."""
        return await self._execrows(self.DELETE_CONVERSATION, id=conversation_id) > 0


class AudioRepository(Repository):
    APPEND_AUDIO = Q.append_audio.returning(AudioPiece)
    AUDIO_OF_CONVERSATION = Q.audio_of_conversation.returning(AudioPiece)
    STREAM_AUDIO = Q.stream_audio.returning(AudioBlob)

    async def append(
        self,
        conversation_id: int,
        data: bytes,
        duration_ms: int | None = None,
        recorded_at: dt.datetime | None = None,
    ) -> AudioPiece:
        """One more piece (1 byte to 16 MiB) of a conversation's audio."""
        return await self._returning(
            self.APPEND_AUDIO,
            conversation_id=conversation_id,
            blob_data=data,
            duration_ms=duration_ms,
            recorded_at=recorded_at,
        )

    async def pieces(self, conversation_id: int) -> list[AudioPiece]:
        """A conversation's audio pieces in order, without their bytes."""
        return await self._many(self.AUDIO_OF_CONVERSATION, conversation_id=conversation_id)

    async def stream(self, conversation_id: int, *, prefetch: int = 4) -> AsyncIterator[AudioBlob]:
        """A conversation's audio pieces with their bytes, in order, from a server-side
        cursor: at most `prefetch` pieces are held at once, however long the audio."""
        async for blob in self._stream(
            self.STREAM_AUDIO, prefetch=prefetch, conversation_id=conversation_id
        ):
            yield blob
