"""The queue's features, measured (docs/tutor.md, "The job queue"): the claim before
and after retries, priorities and de-duplication entered the schema; claims among a
million finished jobs, and pruning them; a failing kind's retries and their spacing;
the worker on dedicated connections or a shared pool.

Each measure runs in a fresh database of its own (`admin.scratch_database`), on one
connection unless it says otherwise; the claims are timed alone, through the raw
statement, so that only the query differs.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import statistics
import time
from pathlib import Path

import asyncpg
from attrs import frozen

from tether import admin, queries
from tether.database import Database, init_connection
from tether.tutor import Job, JobQueue, NewJob, Retry, work

from ..harness import Figure, Progress

F = queries.load_folder(Path(__file__).resolve().parent / "sql", "bench_tutor")
CLAIM_AFTER = JobQueue.CLAIM_JOBS.query

WORKERS = 4
ROUNDS = 3


@frozen
class QueuePlan:
    pending: int  # jobs each claim measure drains
    finished: int  # finished jobs in the table for the "among finished" measure
    failing: int  # jobs of the failing kind
    worker_jobs: int  # no-op jobs per worker-connections run


PLANS = {
    "full": QueuePlan(10_000, 1_000_000, 40, 10_000),
    "quick": QueuePlan(5_000, 1_000_000, 20, 5_000),
    "smoke": QueuePlan(200, 2_000, 4, 200),
}


async def _connect(url: str) -> asyncpg.Connection:
    conn = await asyncpg.connect(url)
    await init_connection(conn)
    return conn


async def _claim_seconds(conn: asyncpg.Connection, claim: queries.Query, batch: int) -> float:
    """One claim of `batch` 'noop' jobs, timed alone (the jobs are then finished)."""
    args = claim.args({"kinds": ["noop"], "limit": batch, "lease_seconds": 30.0})
    started = time.perf_counter()
    rows = await conn.fetch(claim.sql, *args)
    spent = time.perf_counter() - started
    assert rows, "the claim ran out of jobs"
    await conn.execute(F.finish_claimed.sql, [row["id"] for row in rows])
    return spent


async def _claims_per_second(conn: asyncpg.Connection, claim: queries.Query, batch: int) -> float:
    """Claims per second while draining the pending 'noop' jobs `batch` at a time: one
    over the median claim (the median shrugs off the load of a shared machine)."""
    pending = await conn.fetchval(F.pending_jobs.sql, "noop")
    times = [await _claim_seconds(conn, claim, batch) for _ in range(pending // batch)]
    return 1 / statistics.median(times)


async def _drain(conn: asyncpg.Connection, jobs: int, claim: queries.Query, batch: int) -> float:
    """Enqueue `jobs` pending jobs, vacuum and analyze, then drain them: claims/s."""
    await JobQueue(conn).enqueue_many(NewJob("noop") for _ in range(jobs))
    await conn.execute(F.vacuum_analyze_jobs.sql)
    return await _claims_per_second(conn, claim, batch)


async def claim_before_after(server_url: str, plan: QueuePlan, progress: Progress) -> Figure:
    """Both claims on one table (both indexes built), alternating claim by claim so
    that the machine's load weighs on both alike; one over the median claim."""
    rates: dict[str, float] = {}
    before, after = F.claim_jobs_before, CLAIM_AFTER
    async with admin.scratch_database(
        server_url, "tether_fig_claim_before_after", migrated=True, domains=["tutor"]
    ) as url:
        conn = await _connect(url)
        try:
            await conn.execute(F.index_before.sql)
            for batch in (1, 10):
                await conn.execute(F.forget_bulk.sql)
                await JobQueue(conn).enqueue_many(NewJob("noop") for _ in range(plan.pending))
                await conn.execute(F.vacuum_analyze_jobs.sql)
                times: dict[str, list[float]] = {"before": [], "after": []}
                for _ in range(plan.pending // (2 * batch)):
                    times["before"].append(await _claim_seconds(conn, before, batch))
                    times["after"].append(await _claim_seconds(conn, after, batch))
                for label, spent in times.items():
                    rates[f"{label} b{batch}"] = 1 / statistics.median(spent)
        finally:
            await conn.close()
    progress(f"queue: claims before/after {rates}")
    ratios = [rates[f"after b{b}"] / rates[f"before b{b}"] for b in (1, 10)]
    return Figure(
        domain="tutor",
        name="claim_before_after",
        what=(
            f"claims per second (one over the median claim) draining {plan.pending:,} pending "
            "jobs on one connection, the claim timed alone, the two claims alternating on one "
            "table: before (the claim of tutor_0001, oldest first on jobs_pending_idx) and after "
            "(priority, run_at, retries and lapses, on jobs_pending_order_idx)"
        ),
        unit="claims/s",
        values=rates,
        goal="after at least 90% of before at batch 1 and 10",
        met=min(ratios) >= 0.9,
        note=f"after/before: {ratios[0]:.2f} (b1), {ratios[1]:.2f} (b10)",
    )


async def among_finished(server_url: str, plan: QueuePlan, progress: Progress) -> list[Figure]:
    """Claims of 10 with no history, then with `finished` finished jobs (best of
    ROUNDS each, the table vacuumed and analyzed as autovacuum would); then prune."""
    history = f"{plan.finished:,} finished"
    rates = {"0 finished": 0.0, history: 0.0}
    async with admin.scratch_database(
        server_url, "tether_fig_among_finished", migrated=True, domains=["tutor"]
    ) as url:
        conn = await _connect(url)
        try:
            for _ in range(ROUNDS):
                rate = await _drain(conn, plan.pending, CLAIM_AFTER, 10)
                rates["0 finished"] = max(rates["0 finished"], rate)
                await conn.execute(F.forget_bulk.sql)
            await conn.execute(F.fill_finished.sql, plan.finished)
            for _ in range(ROUNDS):
                rates[history] = max(
                    rates[history], await _drain(conn, plan.pending, CLAIM_AFTER, 10)
                )
            progress(f"queue: claims of 10 {rates}")
            table = await conn.fetchval("select count(*) from tutor.jobs")
            started = time.perf_counter()
            pruned = await JobQueue(conn).prune(dt.timedelta(0), batch=10_000)
            prune_rate = pruned / (time.perf_counter() - started)
            progress(f"queue: pruned {pruned:,} of {table:,} jobs, {prune_rate:,.0f}/s")
        finally:
            await conn.close()
    slow, fast = rates[history], rates["0 finished"]
    return [
        Figure(
            domain="tutor",
            name="claims_among_finished",
            what=(
                f"claims of 10 per second (one over the median claim, best of 3 drains) "
                f"draining {plan.pending:,} pending jobs, "
                f"with no history, then with {plan.finished:,} finished jobs in the table "
                "(vacuumed and analyzed; partial indexes: the claim never reads them)"
            ),
            unit="claims/s",
            values=rates,
            goal="with the finished jobs at least 90% of without",
            met=slow >= 0.9 * fast,
        ),
        Figure(
            domain="tutor",
            name="queue_prune",
            what=(
                f"`tether queue prune` (JobQueue.prune) of {pruned:,} finished jobs, 10,000 per "
                "statement, walking the primary key"
            ),
            unit="jobs/s",
            values={"pruned": prune_rate},
            goal="every finished job pruned",
            met=pruned == table,
        ),
    ]


async def retry_spacing(server_url: str, plan: QueuePlan, progress: Progress) -> Figure:
    """A kind that always fails, 3 attempts, 100 ms base backoff, 4 loops: every job
    ends failed after exactly 3 attempts; each retry waited backoff * [0.5, 1)."""
    base = dt.timedelta(milliseconds=100)
    async with (
        admin.scratch_database(
            server_url, "tether_fig_retry", migrated=True, domains=["tutor"]
        ) as url,
        Database(url, max_size=WORKERS + 1) as db,
    ):
        queue = JobQueue(db)
        jobs = [await queue.enqueue("flaky", retry=Retry(3, base)) for _ in range(plan.failing)]
        claimed: dict[int, list[dt.datetime]] = {job.id: [] for job in jobs}
        stop = asyncio.Event()

        async def fail(job: Job) -> None:
            assert job.lease_expires_at is not None
            claimed[job.id].append(job.lease_expires_at - queue.lease)
            if sum(map(len, claimed.values())) == 3 * plan.failing:
                stop.set()
            raise TimeoutError("the LLM timed out")

        await asyncio.wait_for(
            work(queue, ["flaky"], fail, stop=stop, concurrency=WORKERS, max_sleep=0.02), 60
        )
        await asyncio.sleep(0.2)  # the last failures are written after stop
        rows = await db.pool.fetch(F.failed_attempts.sql, "flaky")
    exact = all(r["status"] == "failed" and r["attempt"] == 3 for r in rows)
    waits: dict[int, list[float]] = {1: [], 2: []}
    for job, row in zip(jobs, rows, strict=True):
        failed_at = [dt.datetime.fromisoformat(e["at"]) for e in row["errors"]]
        for n in (1, 2):
            waits[n].append((claimed[job.id][n] - failed_at[n - 1]).total_seconds() * 1000)
    values = {}
    for n, ms in waits.items():
        values[f"retry {n} min"] = min(ms)
        values[f"retry {n} mean"] = statistics.fmean(ms)
        values[f"retry {n} max"] = max(ms)
    progress(f"queue: retries waited {values}")
    in_bounds = all(
        50 * 2 ** (n - 1) <= w <= 100 * 2 ** (n - 1) + 50 for n, ms in waits.items() for w in ms
    )
    return Figure(
        domain="tutor",
        name="retry_spacing",
        what=(
            f"{plan.failing} jobs of a kind that always fails, 3 attempts, 100 ms base backoff, "
            f"{WORKERS} worker loops polling every <= 20 ms: ms between a failure and the next "
            "claim (server clock), retry 1 due after 50-100 ms, retry 2 after 100-200 ms"
        ),
        unit="ms",
        values=values,
        goal="every job failed after exactly 3 attempts; each wait in its jittered range "
        "(+ 50 ms for the poll)",
        met=exact and in_bounds,
    )


async def _worker_rate(url: str, jobs: int, batch: int, dedicated: bool) -> float:
    async with Database(url, max_size=WORKERS + 1) as db:
        queue = JobQueue(db)
        await queue.enqueue_many(NewJob("noop") for _ in range(jobs))
        await db.pool.execute(F.analyze_jobs.sql)
        stop = asyncio.Event()
        done = 0

        async def noop(_: object) -> None:
            nonlocal done
            done += 1
            if done == jobs:
                stop.set()

        started = time.perf_counter()
        await work(
            queue, ["noop"], noop, stop=stop, batch=batch, concurrency=WORKERS, dedicated=dedicated
        )
        return jobs / (time.perf_counter() - started)


async def worker_connections(server_url: str, plan: QueuePlan, progress: Progress) -> Figure:
    rates: dict[str, float] = {}
    for batch in (1, 10):
        for label, dedicated in (("dedicated", True), ("shared pool", False)):
            name = f"worker_{'dedicated' if dedicated else 'shared'}_b{batch}"
            async with admin.scratch_database(
                server_url, f"tether_fig_{name}", migrated=True, domains=["tutor"]
            ) as url:
                key = f"{label} b{batch}"
                rates[key] = await _worker_rate(url, plan.worker_jobs, batch, dedicated)
            progress(f"queue: worker {key} {rates[key]:,.0f} jobs/s")
    return Figure(
        domain="tutor",
        name="worker_connections",
        what=(
            f"`work(concurrency={WORKERS})` draining {plan.worker_jobs:,} no-op jobs on one "
            "Database: each loop holding a pooled connection (dedicated, the default) or "
            "taking one from the pool per statement (shared pool)"
        ),
        unit="jobs/s",
        values=rates,
        goal="the default (dedicated) at least as fast as the shared pool",
        met=all(rates[f"dedicated b{b}"] >= 0.95 * rates[f"shared pool b{b}"] for b in (1, 10)),
    )


async def queue_features(server_url: str, mode: str, progress: Progress) -> list[Figure]:
    plan = PLANS[mode]
    return [
        await claim_before_after(server_url, plan, progress),
        *await among_finished(server_url, plan, progress),
        await retry_spacing(server_url, plan, progress),
        await worker_connections(server_url, plan, progress),
    ]
