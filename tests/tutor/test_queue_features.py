"""The queue's features beyond claim and lease, each against the database: the SPEC's
defaults, retries with backoff (and a lapsed lease as an attempt), bounded errors,
scheduling, priority, de-duplication under a race, cancellation, periodic slots,
stats and pruning."""

import asyncio
import datetime as dt
import re

import asyncpg
import pytest

from reliability.commands import TETHER, run
from tether import Conflict, InvalidValue, NotFound
from tether.tutor import (
    CourseRepository,
    Cron,
    Every,
    JobCancelled,
    JobQueue,
    NewJob,
    Periodic,
    Retry,
    WeekRepository,
    work,
)
from tether.tutor.queue_cli import stats_line

SHORT = dt.timedelta(milliseconds=300)


async def rows(db, kind):
    """(status, attempt, error) of a kind's jobs, by SQL, in id order."""
    found = await db.pool.fetch(
        "select status, attempt, error from tutor.jobs where kind = $1 order by id", kind
    )
    return [tuple(r) for r in found]


async def test_an_insert_naming_only_the_spec_columns_runs_once_at_once_at_normal_priority(
    tether_db,
):
    job_id = await tether_db.pool.fetchval(
        "insert into tutor.jobs (kind, status, progress, error, week_id) "
        "values ('spec', 'pending', 0, null, null) returning id"
    )
    queue = JobQueue(tether_db)
    row = await queue.get(job_id)
    assert (row.priority, row.max_attempts, row.dedup_key, row.errors) == (0, 1, None, [])
    assert row.run_at <= dt.datetime.now(dt.UTC)
    [job] = await queue.claim(["spec"])  # due at once
    assert await queue.fail(job, "boom") is False  # one attempt: failed for good
    assert await rows(tether_db, "spec") == [("failed", 1, "boom")]
    assert await queue.claim(["spec"]) == []


async def test_a_failing_kind_ends_after_exactly_its_attempts_spaced_by_the_backoff(tether_db):
    """3 attempts, 100 ms base backoff: each of 5 jobs is claimed 3 times, every error
    is kept, and retry n waits 100 ms * 2^(n-1) times a jitter in [0.5, 1) (measured
    by the server: claim time minus the failure before it)."""
    queue = JobQueue(tether_db)
    retry = Retry(attempts=3, backoff=dt.timedelta(milliseconds=100))
    jobs = [await queue.enqueue("flaky", retry=retry) for _ in range(5)]
    claims: dict[int, list[dt.datetime]] = {job.id: [] for job in jobs}
    stop = asyncio.Event()

    async def handle(job):
        claims[job.id].append(job.lease_expires_at - queue.lease)
        if sum(map(len, claims.values())) == 15:
            stop.set()
        raise TimeoutError("the LLM timed out")

    await asyncio.wait_for(work(queue, ["flaky"], handle, stop=stop, max_sleep=0.02), 10)
    await asyncio.sleep(0.1)  # the last failure is written after stop is set
    assert await rows(tether_db, "flaky") == [("failed", 3, "TimeoutError: the LLM timed out")] * 5
    for job in jobs:
        row = await queue.get(job.id)
        assert [e["attempt"] for e in row.errors] == [1, 2, 3]
        failed_at = [dt.datetime.fromisoformat(e["at"]) for e in row.errors]
        for n in (1, 2):
            waited = (claims[job.id][n] - failed_at[n - 1]).total_seconds()
            backoff = 0.1 * 2 ** (n - 1)
            assert 0.5 * backoff <= waited <= backoff + 0.15, (n, waited)


async def test_a_lapsed_lease_counts_as_an_attempt_and_the_last_one_fails_the_job(tether_db):
    queue = JobQueue(tether_db, lease=SHORT)
    job = await queue.enqueue("hangs", retry=Retry(attempts=2))
    first = await queue.claim_one(["hangs"])
    await asyncio.sleep(SHORT.total_seconds() + 0.05)
    second = await queue.claim_one(["hangs"])
    assert (first.attempt, second.attempt) == (1, 2)
    await asyncio.sleep(SHORT.total_seconds() + 0.05)
    assert await queue.claim(["hangs"]) == []  # the last attempt lapsed: failed, not claimed
    row = await queue.get(job.id)
    assert (row.status, row.attempt, row.lease_expires_at) == ("failed", 2, None)
    assert row.error == "the lease lapsed on attempt 2 of 2"
    assert [e["error"] for e in row.errors] == [
        "the lease lapsed on attempt 1 of 2",
        "the lease lapsed on attempt 2 of 2",
    ]


async def test_errors_are_bounded_to_the_last_ten_attempts_of_2000_characters(tether_db):
    queue = JobQueue(tether_db)
    job = await queue.enqueue("noisy", retry=Retry(attempts=12, backoff=dt.timedelta(0)))
    for attempt in range(1, 13):
        claimed = await queue.claim_one(["noisy"])
        assert claimed.attempt == attempt
        await queue.fail(claimed, f"{attempt}:" + "x" * 1_000_000)
    row = await queue.get(job.id)
    assert row.status == "failed"
    assert [e["attempt"] for e in row.errors] == list(range(3, 13))
    assert all(len(e["error"]) == 2000 for e in row.errors)
    assert len(row.error) == 2000 and row.error.startswith("12:xxx")


async def test_a_job_is_never_claimed_before_its_run_at(tether_db):
    queue = JobQueue(tether_db)
    later = await queue.enqueue("report", delay=dt.timedelta(milliseconds=400))
    at = await queue.enqueue("report", run_at=later.run_at + dt.timedelta(milliseconds=400))
    past = await queue.enqueue("report", run_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    assert later.run_at > later.created_at
    assert [j.id for j in await queue.claim(["report"], 10)] == [past.id]
    await asyncio.sleep(0.45)
    assert [j.id for j in await queue.claim(["report"], 10)] == [later.id]
    await asyncio.sleep(0.4)
    assert [j.id for j in await queue.claim(["report"], 10)] == [at.id]


async def test_higher_priority_is_claimed_first_and_fifo_within_a_priority(tether_db):
    queue = JobQueue(tether_db)
    enqueued = [
        await queue.enqueue("mixed", payload={"n": n}, priority=priority)
        for n, priority in enumerate([0, 5, 0, -1, 5, 0])
    ]
    await queue.enqueue_many([NewJob("mixed", payload={"n": 6}, priority=9)])
    order = []
    while job := await queue.claim_one(["mixed"]):
        order.append(job.payload["n"])
    assert order == [6, 1, 4, 0, 2, 5, 3]
    assert len(enqueued) == 6
    [batch] = [await JobQueue(tether_db).claim(["mixed"], 5)]
    assert batch == []


async def test_a_duplicate_returns_the_pending_or_running_job_and_not_a_finished_one(course):
    queue = JobQueue(course.db)
    week = course.week1.id
    first = await queue.enqueue("summarize", week, {"v": 1}, dedup_key="week-1")
    again = await queue.enqueue("summarize", week, {"v": 2}, dedup_key="week-1")
    assert again.id == first.id and again.payload == {"v": 1}
    other_kind = await queue.enqueue("embed", week, dedup_key="week-1")
    no_week = await queue.enqueue("summarize", None, dedup_key="week-1")
    assert len({first.id, other_kind.id, no_week.id}) == 3
    assert (await queue.enqueue("summarize", None, dedup_key="week-1")).id == no_week.id
    [claimed] = [j for j in await queue.claim(["summarize"], 10) if j.id == first.id]
    assert (await queue.enqueue("summarize", week, dedup_key="week-1")).id == first.id  # running
    await queue.succeed(claimed)
    fresh = await queue.enqueue("summarize", week, dedup_key="week-1")  # finished: a new one
    assert fresh.id != first.id
    with pytest.raises(Conflict) as refused:
        await queue.enqueue_many([NewJob("summarize", week, dedup_key="week-1")])
    assert refused.value.constraint == "jobs_dedup_key"
    with pytest.raises(InvalidValue) as refused:
        await queue.enqueue("summarize", dedup_key=" ")
    assert refused.value.constraint == "jobs_dedup_key_check"
    assert (
        await course.db.pool.fetchval("select count(*) from tutor.jobs where dedup_key = 'week-1'")
        == 4
    )


@pytest.mark.slow
async def test_concurrent_enqueuers_of_one_key_make_one_job(tether_db):
    """8 connections enqueue the same key 25 times each, all at once: one job, and
    every call returned it."""
    conns = [await asyncpg.connect(tether_db.url) for _ in range(8)]
    try:

        async def enqueuer(conn):
            return [
                (await JobQueue(conn).enqueue("digest", dedup_key="daily")).id for _ in range(25)
            ]

        returned = await asyncio.gather(*(enqueuer(conn) for conn in conns))
    finally:
        for conn in conns:
            await conn.close()
    assert len({job_id for ids in returned for job_id in ids}) == 1
    assert (
        await tether_db.pool.fetchval("select count(*) from tutor.jobs where kind = 'digest'") == 1
    )


async def test_cancelling_a_pending_job_fails_it_with_the_reason(tether_db):
    queue = JobQueue(tether_db)
    job = await queue.enqueue("export")
    cancelled = await queue.cancel(job.id, "the course was archived")
    assert (cancelled.status, cancelled.error) == ("failed", "cancelled: the course was archived")
    assert await queue.claim(["export"]) == []
    assert (await queue.cancel(job.id, "again")).error == "cancelled: the course was archived"
    with pytest.raises(NotFound):
        await queue.cancel(-1, "none")


async def test_a_cancelled_running_job_learns_it_by_heartbeat_and_cannot_succeed(tether_db):
    queue = JobQueue(tether_db)
    a, b = await queue.enqueue("export"), await queue.enqueue("export")
    ja, jb = await queue.claim(["export"], 2)
    running = await queue.cancel(ja.id, "user asked")
    assert (running.status, running.cancel_reason) == ("running", "user asked")
    assert await queue.heartbeat(ja, jb) == {a.id}
    with pytest.raises(JobCancelled):
        await queue.progress(ja, 50)
    with pytest.raises(JobCancelled) as refused:
        await queue.succeed_many([ja, jb])
    assert refused.value.job_ids == (a.id,)
    assert await rows(tether_db, "export") == [
        ("failed", 1, "cancelled: user asked"),
        ("succeeded", 1, None),
    ]
    assert b.id == jb.id


async def test_the_worker_stops_a_cancelled_handler_and_the_job_ends_failed(tether_db):
    queue = JobQueue(tether_db, lease=SHORT)
    job = await queue.enqueue("long", retry=Retry(attempts=3))
    started, stopped = asyncio.Event(), asyncio.Event()

    async def handle(_):
        started.set()
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            stopped.set()
            raise

    stop = asyncio.Event()
    worker = asyncio.create_task(work(queue, ["long"], handle, stop=stop, max_sleep=0.05))
    await asyncio.wait_for(started.wait(), 5)
    await JobQueue(tether_db).cancel(job.id, "not needed")
    await asyncio.wait_for(stopped.wait(), 2)  # within a heartbeat (a third of the lease)
    stop.set()
    assert await asyncio.wait_for(worker, 5) == 1
    row = await queue.get(job.id)
    assert (row.status, row.attempt, row.error) == ("failed", 1, "cancelled: not needed")
    assert [e["error"] for e in row.errors] == ["stopped: the job was cancelled"]


async def test_a_slot_is_enqueued_exactly_once_however_many_workers_ask(tether_db):
    slot = dt.datetime(2026, 3, 1, 7, 0, tzinfo=dt.UTC)
    conns = [await asyncpg.connect(tether_db.url) for _ in range(6)]
    try:

        async def ask(conn):
            return [await JobQueue(conn).enqueue_slot("digest", slot) for _ in range(5)]

        asked = await asyncio.gather(*(ask(conn) for conn in conns))
    finally:
        for conn in conns:
            await conn.close()
    [job] = [made for answers in asked for made in answers if made is not None]
    assert (job.run_at, job.dedup_key) == (slot, "slot:2026-03-01T07:00:00+00:00")
    queue = JobQueue(tether_db)
    await queue.succeed(await queue.claim_one(["digest"]))
    assert await queue.enqueue_slot("digest", slot) is None  # done: still once
    assert await tether_db.pool.fetchval("select count(*) from tutor.jobs") == 1


@pytest.mark.slow
async def test_three_workers_with_a_periodic_kind_run_each_slot_once(tether_db):
    """Three `work` loops, each scheduling `tick` every second, for ~2.5 s: one job per
    one-second slot seen, each handled once."""
    handled = []
    stop = asyncio.Event()

    async def handle(job):
        handled.append(job.dedup_key)

    tick = Periodic("tick", Every(dt.timedelta(seconds=1)))
    workers = [
        work(JobQueue(tether_db), ["tick"], handle, stop=stop, periodic=[tick], max_sleep=0.05)
        for _ in range(3)
    ]
    loop = asyncio.gather(*workers)
    await asyncio.sleep(2.5)
    stop.set()
    await asyncio.wait_for(loop, 5)
    keys = [r[0] for r in await tether_db.pool.fetch("select dedup_key from tutor.jobs")]
    assert 2 <= len(keys) <= 4 and len(set(keys)) == len(keys)
    assert sorted(handled) == sorted(set(handled)) and set(handled) <= set(keys)


def test_schedules_name_the_latest_slot():
    now = dt.datetime(2026, 3, 4, 10, 37, 21, tzinfo=dt.UTC)  # a Wednesday
    assert Every(dt.timedelta(minutes=15)).slot(now) == now.replace(minute=30, second=0)
    assert Cron("*/15 9-17 * * 1-5").slot(now) == now.replace(minute=30, second=0)
    assert Cron("0 7 * * 1").slot(now) == dt.datetime(2026, 3, 2, 7, 0, tzinfo=dt.UTC)
    assert Cron("0 0 1 * *").slot(now) == dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    assert Cron("30 6 * * 0").slot(now) == dt.datetime(2026, 3, 1, 6, 30, tzinfo=dt.UTC)
    # Day and weekday both given: either one (the 13th, or a Friday: Feb 27).
    assert Cron("0 0 13 * 5").slot(now) == dt.datetime(2026, 2, 27, tzinfo=dt.UTC)
    assert Cron("0 0 4 * 5").slot(now) == dt.datetime(2026, 3, 4, tzinfo=dt.UTC)
    for wrong in ("* * *", "60 * * * *", "a * * * *", "*/0 * * * *"):
        with pytest.raises(InvalidValue, match=r"tutor\.jobs: "):
            Cron(wrong)
    with pytest.raises(InvalidValue):
        Every(dt.timedelta(0))


async def test_stats_in_one_query(tether_db):
    queue = JobQueue(tether_db)
    for _ in range(3):
        await queue.enqueue("embed")
    await queue.enqueue("embed", delay=dt.timedelta(hours=1))
    job = await queue.claim_one(["embed"])
    await queue.succeed(job)
    await tether_db.pool.execute(
        "update tutor.jobs set run_at = now() - interval '90 seconds' "
        "where status = 'pending' and run_at <= now()"
    )
    stats = {(s.kind, s.status): s for s in await queue.stats()}
    pending, done = stats["embed", "pending"], stats["embed", "succeeded"]
    assert (pending.jobs, pending.scheduled, pending.attempts) == (3, 1, {0: 3})
    assert 89 <= pending.oldest_due_seconds < 120
    assert (done.jobs, done.scheduled, done.oldest_due_seconds, done.attempts) == (
        1,
        0,
        None,
        {1: 1},
    )
    assert stats_line(pending).startswith("embed pending 3 (1 scheduled), oldest due waits 9")
    assert stats_line(pending).endswith(", attempts 0:3")


async def test_prune_deletes_old_finished_jobs_in_batches(tether_db):
    await tether_db.pool.execute(
        """
        insert into tutor.jobs (kind, status, progress, updated_at)
        select 'old', (array['succeeded', 'failed'])[1 + n % 2], 0, now() - interval '40 days'
        from generate_series(1, 25) n;
        insert into tutor.jobs (kind, status, updated_at)
        values ('old', 'pending', now() - interval '40 days');
        insert into tutor.jobs (kind, status, progress) values ('new', 'succeeded', 100);
        """
    )
    assert await JobQueue(tether_db).prune(dt.timedelta(days=30), batch=7) == 25
    left = await tether_db.pool.fetch("select kind, status from tutor.jobs order by id")
    assert [tuple(r) for r in left] == [("old", "pending"), ("new", "succeeded")]
    assert await JobQueue(tether_db).prune(dt.timedelta(days=30)) == 0


async def test_dedup_keys_are_per_course_and_a_scoped_enqueue_sees_only_its_own(course):
    db = course.db
    other = await CourseRepository(db).create(course.ada.id, "Statistics", "ST-101")
    other_week = await WeekRepository(db).create(other.id, 1, "Means")
    mine = await JobQueue(db).enqueue("summarize", course.week1.id, dedup_key="weekly")
    async with db.tenant(other.id) as conn:
        theirs = await JobQueue(conn).enqueue("summarize", other_week.id, dedup_key="weekly")
        again = await JobQueue(conn).enqueue("summarize", other_week.id, dedup_key="weekly")
        cancelled = await JobQueue(conn).cancel(theirs.id, "scoped cancel")
    assert theirs.id != mine.id and again.id == theirs.id
    assert cancelled.status == "failed"
    found = await db.pool.fetch(
        "select course_id, status from tutor.jobs where dedup_key = 'weekly' order by id"
    )
    assert [tuple(r) for r in found] == [(course.course.id, "pending"), (other.id, "failed")]


@pytest.mark.slow
async def test_tether_queue_stats_and_prune_on_the_command_line(tether_db):
    await tether_db.pool.execute(
        """
        insert into tutor.jobs (kind, status, progress, updated_at)
        select 'old', 'succeeded', 100, now() - interval '10 days' from generate_series(1, 3);
        insert into tutor.jobs (kind) values ('fresh');
        """
    )
    code, out = await run(TETHER, "queue", "stats", "--database", tether_db.url)
    assert code == 0
    fresh, old = out.splitlines()
    assert re.fullmatch(r"fresh pending 1, oldest due waits \d+\.\d s, attempts 0:1", fresh)
    assert old == "old succeeded 3, attempts 0:3"
    code, out = await run(TETHER, "--database", tether_db.url, "queue", "prune")
    assert code == 2 and "prune needs --older-than DAYS" in out
    code, out = await run(
        TETHER, "queue", "prune", "--older-than", "7", "--batch", "2", "--database", tether_db.url
    )
    assert (code, out) == (0, "tutor.jobs: 3 finished job(s) older than 7 day(s) pruned\n")
    assert await tether_db.pool.fetchval("select array_agg(kind) from tutor.jobs") == ["fresh"]
