"""The tutor's job queue: enqueue, claim with a lease, heartbeat, succeed or fail, and
the poll loops a worker runs on (`wait`, `batches`; `worker.work` drives them).

A queue is a `Repository` (it runs its statements the same way) but is not named
one: it owns a protocol, not a table's rows. A claim holds a job for a lease, every
write of the claimer is guarded by that claim, and the poll loops sleep and claim
again; the name is the one pgqueuer and procrastinate users look for.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator, Iterable, Sequence
from typing import Any

from tether import queries
from tether.database import Database
from tether.records import all_of
from tether.repository import Executor, Repository
from tether.tutor.errors import LeaseLost
from tether.tutor.records import Job, NewJob, QueueDepth

Q = queries.load("tutor")


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
