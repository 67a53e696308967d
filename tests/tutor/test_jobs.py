"""The job queue: enqueue, claim with SKIP LOCKED, progress, success and failure; leases
that rescue the job of a dead worker and refuse its late writes; waiting without busy
polling; the worker loop; and the claim's plan on a table of a million finished jobs."""

import asyncio
import datetime as dt
import json
import logging

import asyncpg
import pytest

from tether import Database, InvalidValue, MissingReference, NotFound
from tether.tutor import JobQueue, LeaseLost, NewJob, Retry, work
from tether.tutor.repositories import Q

SHORT = dt.timedelta(milliseconds=300)


async def job_rows(db):
    """(id, status, attempt, progress, error) of every job, by SQL."""
    rows = await db.pool.fetch(
        "select id, status, attempt, progress, error from tutor.jobs order by id"
    )
    return [tuple(r) for r in rows]


async def test_enqueue_claim_progress_succeed_and_fail(course):
    db, queue = course.db, JobQueue(course.db)
    summarize1, embed, summarize2 = course.jobs
    assert (summarize1.status, summarize1.progress, summarize1.attempt) == ("pending", 0, 0)
    assert embed.payload == {"reading_id": course.reading.id} and summarize1.payload == {}
    assert await queue.claim(["transcribe"]) == []
    assert await queue.claim_one(["transcribe"]) is None

    job = await queue.claim_one(["summarize", "embed"])
    assert (job.id, job.status, job.attempt) == (summarize1.id, "running", 1)
    assert job.lease_expires_at > job.created_at
    await queue.progress(job, 60)
    after = await queue.get(job.id)
    assert after.progress == 60 and after.updated_at > job.updated_at
    assert after.lease_expires_at >= job.lease_expires_at
    await queue.succeed(job)

    [first, second] = await queue.claim(["summarize", "embed"], limit=5)
    assert (first.id, second.id) == (embed.id, summarize2.id)
    await queue.fail(first, "the PDF has no text layer")
    await queue.release(second)
    assert await job_rows(db) == [
        (summarize1.id, "succeeded", 1, 100, None),
        (embed.id, "failed", 1, 0, "the PDF has no text layer"),
        (summarize2.id, "pending", 1, 0, None),
    ]
    assert {(d.kind, d.status, d.jobs) for d in await queue.depth()} == {
        ("embed", "failed", 1),
        ("summarize", "pending", 1),
        ("summarize", "succeeded", 1),
    }
    assert [j.id for j in await queue.of_week(course.week1.id)] == [summarize1.id, embed.id]
    with pytest.raises(NotFound, match=r"tutor\.jobs"):
        await queue.get(-1)


async def test_enqueue_many_with_copy_all_or_none(course):
    db, queue = course.db, JobQueue(course.db)
    jobs = [NewJob("embed", course.week2.id, {"chunk": n}) for n in range(50)]
    assert await queue.enqueue_many(jobs) == 50
    assert await db.pool.fetchval("select count(*) from tutor.jobs where kind = 'embed'") == 51
    before = await job_rows(db)
    with pytest.raises(MissingReference) as refused:
        await queue.enqueue_many([NewJob("embed"), NewJob("embed", 10**9)])
    assert refused.value.constraint == "jobs_week_id_fkey"
    with pytest.raises(InvalidValue) as refused:
        await queue.enqueue_many([NewJob("embed"), NewJob(" ")])
    assert refused.value.constraint == "jobs_kind_check"
    with pytest.raises(InvalidValue, match=r"tutor\.jobs: kind must be str"):
        NewJob(["embed"])
    assert await job_rows(db) == before


async def test_refused_job_values(course):
    queue = JobQueue(course.db)
    job = await queue.claim_one(["summarize"])
    with pytest.raises(InvalidValue) as refused:
        await queue.progress(job, 101)
    assert (refused.value.table, refused.value.constraint) == ("tutor.jobs", "jobs_progress_check")
    with pytest.raises(InvalidValue) as refused:
        await queue.enqueue("k" * 256)
    assert refused.value.constraint == "jobs_kind_check"
    with pytest.raises(MissingReference):
        await queue.enqueue("summarize", 10**9)
    with pytest.raises(Exception) as caught:  # noqa: PT011 (asyncpg's error, checked below)
        await course.db.pool.execute(
            "update tutor.jobs set status = 'succeeded' where id = $1", job.id
        )
    assert caught.value.constraint_name == "jobs_lease_check"


async def test_four_workers_claim_a_hundred_jobs_each_exactly_once(tether_db):
    queue = JobQueue(tether_db)
    await queue.enqueue_many([NewJob("noop", None, {"n": n}) for n in range(100)])

    async def worker(batch):
        conn = await asyncpg.connect(tether_db.url)
        try:
            mine = []
            while claimed := await JobQueue(conn).claim(["noop"], batch):
                mine += [job.id for job in claimed]
                await asyncio.sleep(0)
            return mine
        finally:
            await conn.close()

    claims = await asyncio.gather(worker(1), worker(1), worker(3), worker(7))
    every = [job_id for mine in claims for job_id in mine]
    assert len(every) == len(set(every)) == 100
    assert (
        await tether_db.pool.fetchval(
            "select count(*) from tutor.jobs where status = 'running' and attempt = 1"
        )
        == 100
    )


async def test_a_killed_worker_loses_its_job_and_its_late_writes_are_refused(course, tether_url):
    """Worker A claims a job and its connection is terminated mid-job; after the lease,
    worker B claims it again; A, back with a new connection, reports success, progress
    and failure: each is refused, and B's work stands."""
    db = course.db
    # Two attempts: the lapsed lease is the first, the rescue the second.
    victim, other = [
        await JobQueue(db).enqueue("transcribe", course.week1.id, retry=Retry(attempts=2))
        for _ in range(2)
    ]
    lease = dt.timedelta(seconds=1)
    a_conn = await asyncpg.connect(tether_url)
    a_job = await JobQueue(a_conn, lease=lease).claim_one(["transcribe"])
    assert a_job.id == victim.id
    await JobQueue(a_conn, lease=lease).progress(a_job, 30)
    assert await db.pool.fetchval("select pg_terminate_backend($1)", a_conn.get_server_pid())
    a_conn.terminate()

    b = JobQueue(db)
    # While the lease holds, B gets the other job only.
    assert [j.id for j in await b.claim(["transcribe"], 5)] == [other.id]
    await asyncio.sleep(lease.total_seconds() + 0.1)
    [b_job] = await b.claim(["transcribe"], 5)
    assert (b_job.id, b_job.attempt, b_job.progress) == (victim.id, 2, 0)
    await b.progress(b_job, 70)

    async with Database(tether_url) as back:
        zombie = JobQueue(back)
        for late, what in (
            (zombie.succeed(a_job), "success"),
            (zombie.progress(a_job, 99), "progress"),
            (zombie.fail(a_job, "timed out"), "failure"),
            (zombie.heartbeat(a_job), "heartbeat"),
            (zombie.release(a_job), "release"),
        ):
            with pytest.raises(LeaseLost, match=what) as refused:
                await late
            assert refused.value.job_ids == (victim.id,)
            assert refused.value.table == "tutor.jobs"
    row = await b.get(victim.id)
    assert (row.status, row.attempt, row.progress) == ("running", 2, 70)
    assert row.error is None  # the current attempt's; the lapse is kept in errors
    assert [(e["attempt"], e["error"]) for e in row.errors] == [
        (1, "the lease lapsed on attempt 1 of 2")
    ]
    await b.succeed(b_job)
    assert (await b.get(victim.id)).status == "succeeded"
    with pytest.raises(LeaseLost):
        await b.succeed(b_job)  # finished: no claim holds it any more


async def test_a_lapsed_lease_not_yet_rescued_still_lets_its_worker_finish(course):
    queue = JobQueue(course.db, lease=SHORT)
    job = await queue.claim_one(["embed"])
    await asyncio.sleep(SHORT.total_seconds() + 0.05)
    await queue.succeed(job)  # nobody claimed it again: the work is not lost
    assert (await queue.get(job.id)).status == "succeeded"


async def test_succeed_many_records_what_it_holds_and_refuses_the_rest(course):
    db = course.db
    twice = Retry(attempts=2)
    mine = [await JobQueue(db).enqueue(kind, retry=twice) for kind in ("a", "b", "a")]
    short = JobQueue(db, lease=SHORT)
    jobs = await short.claim(["a", "b"], limit=3)
    await asyncio.sleep(SHORT.total_seconds() + 0.05)
    [stolen] = await JobQueue(db).claim(["b"])
    with pytest.raises(LeaseLost) as refused:
        await short.succeed_many(jobs)
    assert refused.value.job_ids == (stolen.id,)
    statuses = {j.id: (await JobQueue(db).get(j.id)).status for j in jobs}
    assert statuses == {mine[0].id: "succeeded", mine[1].id: "running", mine[2].id: "succeeded"}
    await JobQueue(db).succeed_many([stolen])
    await JobQueue(db).succeed_many([])


async def test_wait_sleeps_until_a_job_may_be_there(tether_db):
    """The iterator backs off while the queue is empty (a handful of claims a second,
    not a busy loop) and picks a new job up within its longest sleep."""

    class CountingQueue(JobQueue):
        claims = 0

        async def claim(self, kinds, limit=1):
            self.claims += 1
            return await super().claim(kinds, limit)

    queue = CountingQueue(tether_db)
    stop = asyncio.Event()
    got = []

    async def consume():
        async for job in queue.wait(["later"], stop=stop, min_sleep=0.01, max_sleep=0.2):
            got.append(job.id)
            await queue.succeed(job)

    consumer = asyncio.create_task(consume())
    await asyncio.sleep(1.0)
    idle_claims = queue.claims
    assert 3 <= idle_claims <= 12, idle_claims  # 0.01, 0.02, ... 0.2, 0.2, ...
    job = await JobQueue(tether_db).enqueue("later")
    for _ in range(50):
        if got:
            break
        await asyncio.sleep(0.02)
    assert got == [job.id]
    stop.set()
    await asyncio.wait_for(consumer, 1)


@pytest.mark.parametrize("batch", [1, 3])
async def test_the_worker_loop_succeeds_fails_and_keeps_a_slow_jobs_lease(course, caplog, batch):
    db = course.db
    queue = JobQueue(db, lease=SHORT)
    stop = asyncio.Event()
    seen = []

    async def handle(job):
        seen.append(job.id)
        if job.kind == "embed":
            raise ValueError("no text layer")
        if job.id == course.jobs[0].id:
            # Slower than the lease: the heartbeat keeps it, nobody else may claim it.
            await asyncio.sleep(SHORT.total_seconds() * 3)
            assert await db.pool.fetchval(
                "select lease_expires_at > now() from tutor.jobs where id = $1", job.id
            )
        await queue.progress(job, 50)
        if len(seen) == 3:
            stop.set()

    caplog.set_level(logging.INFO, "tether.tutor.worker")
    handled = await asyncio.wait_for(
        work(queue, ["summarize", "embed"], handle, stop=stop, batch=batch), 10
    )
    assert handled == 3
    assert await job_rows(db) == [
        (course.jobs[0].id, "succeeded", 1, 100, None),
        (course.jobs[1].id, "failed", 1, 0, "ValueError: no text layer"),
        (course.jobs[2].id, "succeeded", 1, 100, None),
    ]
    assert "no text layer" in caplog.text


@pytest.mark.parametrize(
    ("finished", "pending"),
    [(20_000, 200), pytest.param(1_000_000, 5_000, marks=pytest.mark.heavy)],
)
async def test_the_claim_is_an_index_scan_among_finished_jobs(tether_db, finished, pending):
    """A claim reads the pending and the running jobs only: finished ones (20,000 in
    the default run, a million with -m heavy) are never scanned, and the pending ones
    are read in claim order on jobs_pending_order_idx, not all found and sorted, also
    when most of the history is of other kinds (jobs_status_kind_stats tells the
    planner which kinds are pending)."""
    async with tether_db.connection() as conn:
        await conn.execute(
            f"""
            insert into tutor.jobs (kind, status, progress)
            select 'history', 'succeeded', 100 from generate_series(1, {finished}) n;
            insert into tutor.jobs (kind) select 'summarize' from generate_series(1, {pending});
            analyze tutor.jobs;
            """
        )
        claim = Q.claim_jobs
        values = claim.args({"kinds": ["summarize", "embed"], "limit": 10, "lease_seconds": 30.0})
        [plan] = await conn.fetchval("explain (format json) " + claim.sql, *values)
        if isinstance(plan, str):
            plan = json.loads(plan)[0]
        pending = next(p for p in plan["Plan"]["Plans"] if p.get("Subplan Name") == "CTE pending")
        nodes, pending_nodes = [], []

        def walk(node, into):
            into.append((node["Node Type"], node.get("Index Name")))
            for child in node.get("Plans", []):
                walk(child, into)

        walk(plan["Plan"], nodes)
        walk(pending, pending_nodes)
        assert pending_nodes == [
            ("Limit", None),
            ("LockRows", None),
            ("Index Scan", "jobs_pending_order_idx"),
        ], pending_nodes
        # The other sorts are of the few rows picked (at most twice the limit).
        assert not [n for n in nodes if n[0] in ("Seq Scan", "Bitmap Heap Scan")], nodes
        claimed = await JobQueue(conn).claim(["summarize"], 10)
        assert len(claimed) == 10 and all(j.attempt == 1 for j in claimed)
