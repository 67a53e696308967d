"""The tutor's job queue: enqueue (scheduled, prioritized, de-duplicated, with
retries), claim with a lease, heartbeat, succeed, fail (and retry after a backoff) or
cancel, and the poll loops a worker runs on (`wait`, `batches`; `worker.work` drives
them).

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
from typing import Any, TypeVar

import asyncpg
from attrs import frozen

from tether import queries
from tether.database import Database
from tether.errors import Conflict
from tether.pool import Statements
from tether.queries import Mapped
from tether.records import all_of
from tether.replicas import Reader
from tether.repository import Executor, Repository
from tether.tutor.errors import JobCancelled, LeaseLost
from tether.tutor.records import (
    ONCE,
    FinishedClaim,
    Job,
    NewJob,
    Pruned,
    QueueDepth,
    QueueStats,
    RenewedClaim,
    Retry,
)

Q = queries.load("tutor")
C = TypeVar("C", RenewedClaim, FinishedClaim)


@frozen
class Renewal:
    """What a heartbeat learned: the claims lost, the jobs cancelled (asked to stop)."""

    lost: frozenset[int]
    cancelled: frozenset[int]


# How long a claim holds a job unless progress renews it, by default.
LEASE = dt.timedelta(seconds=30)
# How many times enqueue looks again for a duplicate that committed meanwhile.
DEDUP_TRIES = 5


class JobQueue(Repository):
    """The job queue: enqueue, claim (SKIP LOCKED, with a lease), report progress,
    succeed, fail or cancel.

    A claim holds a job for `lease`; each progress report renews it. A job whose
    lease lapsed (its worker died or hangs) is claimed again by the next claim,
    with a new attempt number, and every write of the worker that lost it is
    refused with LeaseLost: a zombie never overwrites a rescued job.
    """

    __slots__ = ("lease",)

    ENQUEUE_JOB = Q.enqueue_job.returning(Job)
    ENQUEUE_SLOT = Q.enqueue_slot.returning(Job)
    LOCK_SLOT = Q.lock_slot
    COPY_JOBS = Q.copy_jobs
    CLAIM_JOBS = Q.claim_jobs.returning(Job)
    REPORT_PROGRESS = Q.report_progress
    RENEW_LEASES = Q.renew_leases.returning(RenewedClaim)
    SUCCEED_JOB = Q.succeed_job
    SUCCEED_JOBS = Q.succeed_jobs.returning(FinishedClaim)
    FAIL_JOB = Q.fail_job
    RELEASE_JOB = Q.release_job
    CANCEL_JOB = Q.cancel_job.returning(Job)
    GET_JOB = Q.get_job.returning(Job)
    JOBS_OF_WEEK = Q.jobs_of_week.returning(Job)
    QUEUE_DEPTH = Q.queue_depth.returning(QueueDepth)
    QUEUE_STATS = Q.queue_stats.returning(QueueStats)
    PRUNE_JOBS = Q.prune_jobs.returning(Pruned)

    def __init__(self, db: Database | Executor, *, lease: dt.timedelta = LEASE) -> None:
        super().__init__(db)
        self.lease = lease

    @property
    def executor(self) -> Executor:
        """The pool or connection this queue's statements run on."""
        return self._db

    async def enqueue(
        self,
        kind: str,
        week_id: int | None = None,
        payload: Any = None,
        *,
        priority: int = 0,
        run_at: dt.datetime | None = None,
        delay: dt.timedelta = dt.timedelta(0),
        retry: Retry = ONCE,
        dedup_key: str | None = None,
    ) -> Job:
        """One new pending job (payload: any JSON value, `{}` when None), claimed no
        earlier than `run_at` (or `delay` from now, by the server's clock), before
        jobs of lower `priority`, retried as `retry` says. With a `dedup_key`, while a
        job of this kind, key and course is pending or running, that job is returned
        instead of a new one (race-safe: a unique index decides)."""
        for _ in range(DEDUP_TRIES):
            job = await self._one(
                self.ENQUEUE_JOB,
                kind=kind,
                week_id=week_id,
                payload=payload,
                priority=priority,
                run_at=run_at,
                delay=delay,
                max_attempts=retry.attempts,
                backoff=retry.backoff,
                backoff_cap=retry.cap,
                dedup_key=dedup_key,
            )
            if job is not None:
                return job
        # The duplicate keeps finishing between our conflict and our look (or it is
        # another course's, out of this scope's sight).
        raise Conflict(
            f"tutor.jobs: a {kind!r} job with this dedup key is pending or running but "
            "could not be read back",
            table="tutor.jobs",
            constraint="jobs_dedup_key",
        )

    async def enqueue_many(self, jobs: Iterable[NewJob]) -> int:
        """Many new pending jobs with COPY, all or none, due now; return how many. A
        dedup key already pending or running refuses the whole batch (Conflict)."""
        rows = [
            (
                job.kind,
                job.week_id,
                job.payload,
                job.priority,
                job.retry.attempts,
                job.retry.backoff,
                job.retry.cap,
                job.dedup_key,
            )
            for job in all_of(NewJob, "tutor.jobs", jobs)
        ]
        return await self._copy(self.COPY_JOBS, rows)

    async def claim(self, kinds: Sequence[str], limit: int = 1) -> list[Job]:
        """Up to `limit` jobs of these kinds, now running and held by this claim for
        `lease`: those whose lease lapsed first, then due pending ones, higher priority
        first, then the longest due, then the oldest. Concurrent claims never return
        the same job. A lapsed job on its last attempt, or cancelled, fails instead of
        being returned. An empty list when there is none. (A single kind may be given
        as a plain string.)"""
        return await self._many(
            self.CLAIM_JOBS,
            kinds=[kinds] if isinstance(kinds, str) else list(kinds),
            limit=limit,
            lease_seconds=self.lease.total_seconds(),
        )

    async def claim_one(self, kinds: Sequence[str]) -> Job | None:
        """The first claimable job of these kinds, or None."""
        claimed = await self.claim(kinds, 1)
        return claimed[0] if claimed else None

    async def progress(self, job: Job, percent: int) -> None:
        """Report progress (0..100) on a claimed job; renews its lease. LeaseLost if
        this claim no longer holds it; JobCancelled if the job was cancelled."""
        touched = await self._execrows(
            self.REPORT_PROGRESS,
            id=job.id,
            attempt=job.attempt,
            progress=percent,
            lease_seconds=self.lease.total_seconds(),
        )
        if touched == 0:
            current = await self._one(self.GET_JOB, id=job.id)
            if current is not None and current.attempt == job.attempt and current.cancel_reason:
                raise JobCancelled([job.id])
            raise LeaseLost([job.id], "progress")

    async def heartbeat(self, *jobs: Job) -> set[int]:
        """Renew the leases of claimed jobs, their progress unchanged, in one statement;
        return the ids of those cancelled meanwhile (asked to stop). LeaseLost for
        those this worker's claim no longer holds (after the others are renewed)."""
        renewal = await self.renew(*jobs)
        if renewal.lost:
            raise LeaseLost([job.id for job in jobs if job.id in renewal.lost], "heartbeat")
        return set(renewal.cancelled)

    async def renew(self, *jobs: Job) -> Renewal:
        """`heartbeat`, saying rather than raising which claims were lost."""
        rows = await self._claims(self.RENEW_LEASES, jobs, lease_seconds=self.lease.total_seconds())
        kept = {row.id for row in rows}
        return Renewal(
            lost=frozenset(job.id for job in jobs if job.id not in kept),
            cancelled=frozenset(row.id for row in rows if row.cancelled),
        )

    async def succeed(self, job: Job) -> None:
        """The job is done. LeaseLost if this claim no longer holds it (nothing written);
        JobCancelled if it was cancelled meanwhile (it is now failed, with the reason)."""
        status = await self._val(self.SUCCEED_JOB, id=job.id, attempt=job.attempt)
        if status is None:
            raise LeaseLost([job.id], "success")
        if status != "succeeded":
            raise JobCancelled([job.id])

    async def succeed_many(self, jobs: Sequence[Job]) -> None:
        """Several claimed jobs are done, in one statement. Those whose claim no longer
        holds are refused together in one LeaseLost, after the others are recorded;
        then those cancelled meanwhile (failed instead) in one JobCancelled."""
        rows = await self._claims(self.SUCCEED_JOBS, jobs)
        self._refuse_lost("success", jobs, rows)
        if cancelled := [row.id for row in rows if not row.succeeded]:
            raise JobCancelled(cancelled)

    async def fail(self, job: Job, error: str, *, final: bool = False) -> bool:
        """The attempt failed with `error` (kept, its first 2,000 characters). While
        attempts remain (and unless `final` or cancelled) the job is pending again
        after its backoff: return True; else it failed for good: return False.
        LeaseLost if this claim no longer holds it."""
        status = await self._val(
            self.FAIL_JOB, id=job.id, attempt=job.attempt, error=error, final=final
        )
        if status is None:
            raise LeaseLost([job.id], "failure")
        return bool(status == "pending")

    async def release(self, job: Job) -> None:
        """Give a claimed job back unstarted, pending again (a worker shutting down);
        the claim does not count as an attempt. A cancelled job fails instead."""
        if await self._val(self.RELEASE_JOB, id=job.id, attempt=job.attempt) is None:
            raise LeaseLost([job.id], "release")

    async def cancel(self, job_id: int, reason: str) -> Job:
        """Cancel a job: a pending one fails at once (`error` 'cancelled: <reason>'); a
        running one is asked to stop: its worker's heartbeat learns it, its success is
        refused (JobCancelled), and it ends failed with the reason. A finished job is
        returned unchanged; NotFound if there is none."""
        cancelled = await self._one(self.CANCEL_JOB, id=job_id, reason=reason)
        return cancelled if cancelled is not None else await self.get(job_id)

    async def _claims(self, stmt: Mapped[C], jobs: Sequence[Job], **args: Any) -> list[C]:
        """Run a batch write guarded by each job's claim; the rows of those that held."""
        return await self._many(
            stmt, ids=[job.id for job in jobs], attempts=[job.attempt for job in jobs], **args
        )

    @staticmethod
    def _refuse_lost(what: str, jobs: Sequence[Job], rows: Sequence[FinishedClaim]) -> None:
        if len(rows) < len(jobs):
            kept = {row.id for row in rows}
            raise LeaseLost([job.id for job in jobs if job.id not in kept], what)

    async def enqueue_slot(
        self, kind: str, slot: dt.datetime, payload: Any = None, *, retry: Retry = ONCE
    ) -> Job | None:
        """A periodic kind's job for the slot at `slot` (due then), unless one was
        enqueued for it already, in any status: the new job, or None. Exactly once per
        slot however many workers ask: the askers take turns (a transaction-scoped
        advisory lock per kind) and each looks for the slot's job in any status."""
        key = f"slot:{slot.astimezone(dt.UTC).isoformat()}"
        async with _transaction(self._db) as conn:
            on_conn = JobQueue(conn, lease=self.lease)
            await on_conn._val(self.LOCK_SLOT, kind=kind)
            return await on_conn._one(
                self.ENQUEUE_SLOT,
                kind=kind,
                payload=payload,
                run_at=slot,
                max_attempts=retry.attempts,
                backoff=retry.backoff,
                backoff_cap=retry.cap,
                dedup_key=key,
            )

    async def get(self, job_id: int) -> Job:
        return await self._get(self.GET_JOB, "tutor.jobs", id=job_id)

    async def of_week(self, week_id: int) -> list[Job]:
        return await self._many(self.JOBS_OF_WEEK, week_id=week_id)

    async def depth(self) -> list[QueueDepth]:
        """How many jobs of each kind are in each status."""
        return await self._many(self.QUEUE_DEPTH)

    async def stats(self) -> list[QueueStats]:
        """Per kind and status, in one query: how many jobs, how many scheduled for
        later, the longest wait of a due pending job, and the attempts histogram."""
        return await self._many(self.QUEUE_STATS)

    async def prune(self, older_than: dt.timedelta, *, batch: int = 10_000) -> int:
        """Delete the finished jobs (succeeded or failed) last written before `older_than`
        ago, `batch` at a time (each its own statement and transaction, walking the
        primary key), so no lock is held long; return how many went."""
        deleted, after = 0, 0
        while True:
            pruned = await self._returning(
                self.PRUNE_JOBS,
                after_id=after,
                older_than_days=older_than.total_seconds() / 86400,
                batch=batch,
            )
            if pruned.last_id is None:
                return deleted
            deleted += pruned.deleted
            after = pruned.last_id

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


@contextlib.asynccontextmanager
async def _transaction(db: Executor) -> AsyncIterator[asyncpg.Connection]:
    """A transaction on the queue's connection, or on one of its pool's."""
    if isinstance(db, Statements):  # a queue on a Database: tether's own statements
        async with db.pool.lease() as conn, conn.transaction():
            yield conn
    elif isinstance(db, asyncpg.Pool):
        async with db.acquire() as conn, conn.transaction():
            yield conn
    elif isinstance(db, Reader):
        raise TypeError("JobQueue: periodic jobs are written on the primary, not a replica")
    else:
        async with db.transaction():
            yield db
