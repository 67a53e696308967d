"""The tutor's figures beside its scenarios: the job queue against pgqueuer and
procrastinate (throughput and recovery from a dead worker), what NOTIFY would cost
each enqueue, bulk writes against the seed's ORM style, and audio streaming memory.

Each contender runs in a database of its own on the same server, made fresh by
`tether.admin.scratch_database`; jobs are no-ops, and the tables are analyzed after
the enqueue (procrastinate's claim is ~20x slower on a table it has no statistics
for). Everything runs in this one process, four workers each on a connection of
its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import statistics
import time
import tracemalloc
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg
from attrs import frozen

from tether import admin, queries
from tether.database import Database, init_connection
from tether.tutor import (
    AudioRepository,
    ChunkRepository,
    ConversationRepository,
    JobQueue,
    NewChunk,
    NewJob,
    Retry,
    UserRepository,
    work,
)

from ..harness import Figure, Progress
from .fixtures import B, Syllabus, chunk_text, copy, load_course
from .orm import mapped
from .queue_figures import queue_features

F = queries.load_folder(Path(__file__).resolve().parent / "sql", "bench_tutor")

WORKERS = 4


@frozen
class Plan:
    jobs: int  # no-op jobs each queue drains
    batches: tuple[int, ...]  # the "many" batch sizes, for tether and pgqueuer
    rows: int  # rows of the bulk writes
    audio_mb: tuple[int, int]  # the two audio totals streamed
    enqueues: int  # single enqueues per worker, with and without NOTIFY


PLANS = {
    "full": Plan(10_000, (10, 50), 10_000, (10, 200), 2_000),
    "quick": Plan(10_000, (10, 50), 10_000, (10, 200), 500),
    "smoke": Plan(200, (10, 50), 200, (1, 2), 20),
}


async def _connect(url: str) -> asyncpg.Connection:
    conn = await asyncpg.connect(url)
    await init_connection(conn)
    return conn


@contextlib.asynccontextmanager
async def _database(server_url: str, name: str, *, tutor: bool) -> AsyncIterator[str]:
    """A fresh database for one contender: with `common` and the tutor migrated, or empty
    (for a queue that installs its own schema)."""
    async with admin.scratch_database(
        server_url, f"tether_fig_{name}", migrated=tutor, domains=["tutor"]
    ) as url:
        yield url


# -- the queue: throughput ----------------------------------------------------------------


async def _tether_queue(url: str, jobs: int, batch: int) -> float:
    """Jobs per second: WORKERS `work` loops draining `jobs` no-op jobs."""
    conns = [await _connect(url) for _ in range(WORKERS)]
    try:
        await JobQueue(conns[0]).enqueue_many(NewJob("noop") for _ in range(jobs))
        await conns[0].execute(F.analyze_jobs.sql)
        stop = asyncio.Event()
        done = 0

        async def noop(_: object) -> None:
            nonlocal done
            done += 1
            if done == jobs:
                stop.set()

        started = time.perf_counter()
        await asyncio.gather(
            *(work(JobQueue(c), ["noop"], noop, stop=stop, batch=batch) for c in conns)
        )
        elapsed = time.perf_counter() - started
        assert await conns[0].fetchval(F.finished_jobs.sql) == jobs
        return jobs / elapsed
    finally:
        for conn in conns:
            await conn.close()


async def _pgqueuer(url: str, jobs: int, batch: int) -> float:
    from pgqueuer import AsyncpgDriver, Queries, QueueManager
    from pgqueuer.domain.types import QueueExecutionMode

    setup = await asyncpg.connect(url)
    conns: list[asyncpg.Connection] = []
    try:
        queries_ = Queries(AsyncpgDriver(setup))
        await queries_.install()
        await queries_.enqueue(["noop"] * jobs, [None] * jobs, [0] * jobs)
        await setup.execute(F.analyze_all.sql)
        managers = []
        for _ in range(WORKERS):
            conn = await asyncpg.connect(url)
            conns.append(conn)
            manager = QueueManager(Queries(AsyncpgDriver(conn)))

            @manager.entrypoint("noop")
            async def noop(job: Any) -> None:
                return None

            managers.append(manager)
        started = time.perf_counter()
        await asyncio.gather(
            *(
                m.run(
                    batch_size=batch,
                    mode=QueueExecutionMode.drain,
                    dequeue_timeout=dt.timedelta(seconds=1),
                    log_aggregation_interval=dt.timedelta(0),
                )
                for m in managers
            )
        )
        elapsed = time.perf_counter() - started
        left = await setup.fetchval(F.pgqueuer_left.sql)
        assert left == 0, f"pgqueuer left {left} jobs"
        return jobs / elapsed
    finally:
        for conn in [*conns, setup]:
            await conn.close()


def _procrastinate_app(url: str) -> tuple[Any, Any]:
    """A procrastinate app on `url` and its one task, a no-op."""
    import procrastinate

    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=url))

    @app.task(name="noop")
    async def noop() -> None:
        return None

    return app, noop


async def _procrastinate(url: str, jobs: int) -> float:
    app, noop = _procrastinate_app(url)

    async with app.open_async():
        await app.schema_manager.apply_schema_async()
        await noop.batch_defer_async(*({} for _ in range(jobs)))
        setup = await asyncpg.connect(url)
        try:
            await setup.execute(F.analyze_all.sql)
            started = time.perf_counter()
            await app.run_worker_async(
                concurrency=WORKERS, wait=False, install_signal_handlers=False
            )
            elapsed = time.perf_counter() - started
            left = await setup.fetchval(F.procrastinate_left.sql)
            assert left == 0, f"procrastinate left {left} jobs"
        finally:
            await setup.close()
    return jobs / elapsed


async def queue_throughput(server_url: str, plan: Plan, progress: Progress) -> list[Figure]:
    n = plan.jobs
    runs: dict[str, Callable[[str], Awaitable[float]]] = {
        "tether b1": lambda url: _tether_queue(url, n, 1),
        "pgqueuer b1": lambda url: _pgqueuer(url, n, 1),
        "procrastinate c4": lambda url: _procrastinate(url, n),
    }
    for many in plan.batches:
        runs[f"tether b{many}"] = lambda url, many=many: _tether_queue(url, n, many)
        runs[f"pgqueuer b{many}"] = lambda url, many=many: _pgqueuer(url, n, many)
    rates: dict[str, float] = {}
    for label, measure in runs.items():
        tutor = label.startswith("tether")
        name = label.replace(" ", "_")
        async with _database(server_url, f"queue_{name}", tutor=tutor) as url:
            rates[label] = await measure(url)
        progress(f"queue: {label} {rates[label]:,.0f} jobs/s")
    one = rates["tether b1"] > max(rates["pgqueuer b1"], rates["procrastinate c4"])
    batch = all(rates[f"tether b{m}"] > rates[f"pgqueuer b{m}"] for m in plan.batches)
    return [
        Figure(
            domain="tutor",
            name="queue_throughput",
            what=(
                f"claim + complete {n:,} no-op jobs, {WORKERS} workers, each queue in a fresh "
                "database, analyzed after the enqueue (b: jobs claimed per round trip; "
                "procrastinate claims one at a time)"
            ),
            unit="jobs/s",
            values=rates,
            goal="tether ahead of both at every batch size",
            met=one and batch,
        )
    ]


# -- the queue: a dead worker -------------------------------------------------------------

LEASE = dt.timedelta(seconds=1)


async def _until(find: Callable[[], Awaitable[Any]], limit: float) -> tuple[Any, float]:
    """Poll `find` every 50 ms until it returns something; that and the seconds it took
    (None and `limit` if it never did)."""
    started = time.perf_counter()
    while time.perf_counter() - started < limit:
        found = await find()
        if found:
            return found, time.perf_counter() - started
        await asyncio.sleep(0.05)
    return None, limit


async def _tether_recovery(url: str) -> tuple[float, bool]:
    """Seconds until a dead worker's job is claimed again; whether its late success
    is refused."""
    dead, alive = await _connect(url), await _connect(url)
    try:
        # More than one attempt: a lapsed lease is one (a job that runs once fails instead).
        await JobQueue(alive).enqueue("noop", retry=Retry(attempts=3))
        zombie = await JobQueue(dead, lease=LEASE).claim_one(["noop"])
        assert zombie is not None
        await alive.fetchval(F.terminate.sql, dead.get_server_pid())
        rescued, seconds = await _until(lambda: JobQueue(alive).claim(["noop"]), 10)
        assert rescued, "never claimed again"
        assert rescued[0].attempt == 2
        try:
            await JobQueue(alive).succeed(zombie)
        except Exception:  # LeaseLost
            refused = True
        else:
            refused = False
        return seconds, refused
    finally:
        dead.terminate()
        await alive.close()


async def _pgqueuer_recovery(url: str) -> tuple[float, bool]:
    """The same with pgqueuer's own dequeue (heartbeat_timeout = the lease): the dead
    worker stops heartbeating; its late completion goes through log_jobs."""
    import uuid

    from pgqueuer import AsyncpgDriver, Queries
    from pgqueuer.ports.repository import EntrypointExecutionParameter

    conn = await asyncpg.connect(url)
    try:
        q = Queries(AsyncpgDriver(conn))
        await q.install()
        [job_id] = await q.enqueue("noop", None)
        entry = {"noop": EntrypointExecutionParameter(concurrency_limit=0)}

        async def dequeue(worker: uuid.UUID) -> list[Any]:
            return await q.dequeue(1, entry, worker, None, LEASE)  # type: ignore[arg-type]

        [zombie] = await dequeue(uuid.uuid4())
        rescued, seconds = await _until(lambda: dequeue(uuid.uuid4()), 10)
        assert rescued, "never picked again"
        assert rescued[0].id == job_id
        await q.log_jobs([(zombie, "successful", None)])
        # Refused would leave the rescued job in the queue, logged nowhere.
        refused = bool(await conn.fetchval(F.pgqueuer_job_exists.sql, job_id))
        return seconds, refused
    finally:
        await conn.close()


async def _procrastinate_recovery(url: str) -> tuple[float, bool]:
    """procrastinate: a worker fetches the job and dies without heartbeats; does another
    worker's fetch ever get it? (It reports the job as stalled instead.)"""
    app, noop = _procrastinate_app(url)
    async with app.open_async():
        await app.schema_manager.apply_schema_async()
        await noop.defer_async()
        manager = app.job_manager
        dead = await manager.register_worker()
        zombie = await manager.fetch_job(None, dead)
        assert zombie is not None
        alive = await manager.register_worker()
        limit = 3 * LEASE.total_seconds()
        rescued, seconds = await _until(lambda: manager.fetch_job(None, alive), limit)
        stalled = list(await manager.get_stalled_jobs(seconds_since_heartbeat=0))
        assert [j.id for j in stalled] == [zombie.id], "procrastinate reports it stalled"
        return (seconds if rescued else float("inf")), False


async def recovery(server_url: str, progress: Progress) -> list[Figure]:
    found: dict[str, tuple[float, bool]] = {}
    for label, measure, tutor in (
        ("tether", _tether_recovery, True),
        ("pgqueuer", _pgqueuer_recovery, False),
        ("procrastinate", _procrastinate_recovery, False),
    ):
        async with _database(server_url, f"recovery_{label}", tutor=tutor) as url:
            found[label] = await measure(url)
        progress(f"recovery: {label} {found[label]}")
    rescued = {k: v[0] for k, v in found.items() if v[0] != float("inf")}
    never = [k for k, v in found.items() if v[0] == float("inf")]
    return [
        Figure(
            domain="tutor",
            name="queue_rescue",
            what=(
                "a worker claims a job and dies (no more heartbeats): seconds until "
                f"another worker claims it, with a {LEASE.total_seconds():g} s lease / "
                "heartbeat timeout"
            ),
            unit="s",
            values=rescued,
            goal="the job is claimed again soon after the lease",
            met="tether" in rescued,
            note=", ".join(f"{k} never re-claims it (it lists it as stalled)" for k in never),
        ),
        Figure(
            domain="tutor",
            name="queue_zombie",
            what=(
                "then the dead worker comes back and reports success: is that late write "
                "refused? (pgqueuer takes it, and deletes the rescued job while another "
                "worker runs it)"
            ),
            unit="(1: refused, 0: taken)",
            values={k: float(v[1]) for k, v in found.items() if k != "procrastinate"},
            goal="refused",
            met=found["tether"][1],
        ),
    ]


# -- NOTIFY on every enqueue, and the poll when idle --------------------------------------


async def _enqueues(url: str, count: int, notify: bool) -> float:
    """Single-job enqueues per second, WORKERS sessions at once: the queue's own
    enqueue, or the same insert with a NOTIFY."""
    conns = [await _connect(url) for _ in range(WORKERS)]
    try:

        async def one_worker(conn: asyncpg.Connection) -> None:
            for _ in range(count):
                if notify:
                    await conn.fetchval(F.enqueue_and_notify.sql, "noop")
                else:
                    await JobQueue(conn).enqueue("noop")

        started = time.perf_counter()
        await asyncio.gather(*(one_worker(c) for c in conns))
        return WORKERS * count / (time.perf_counter() - started)
    finally:
        for conn in conns:
            await conn.close()


async def notify_cost(server_url: str, plan: Plan, progress: Progress) -> list[Figure]:
    rates: dict[str, float] = {}
    async with _database(server_url, "notify", tutor=True) as url:
        for _ in range(2):  # alternate, so that neither gets the warmer server alone
            for label, notify in (("plain", False), ("with NOTIFY", True)):
                rate = await _enqueues(url, plan.enqueues, notify)
                rates[label] = max(rates.get(label, 0.0), rate)
        idle = await _idle_claims(url)
    progress(f"notify: {rates}, idle claims/s {idle}")
    return [
        Figure(
            domain="tutor",
            name="enqueue_notify",
            what=(
                f"single-job enqueues, {WORKERS} concurrent sessions, each its own "
                "transaction: as the queue does them, and with a NOTIFY in the same "
                "statement (what a LISTEN-based wake-up would add)"
            ),
            unit="enqueues/s",
            values=rates,
            note=f"an idle worker's backoff poll costs {idle:.1f} claims/s",
        )
    ]


async def _idle_claims(url: str) -> float:
    """Claims per second of one idle `wait` loop (min 10 ms, max 1 s), once backed off."""

    class Counting(JobQueue):
        claims = 0

        async def claim(self, kinds: Any, limit: int = 1) -> list[Any]:
            self.claims += 1
            return await super().claim(kinds, limit)

    conn = await _connect(url)
    try:
        queue = Counting(conn)
        stop = asyncio.Event()

        async def idle() -> None:
            async for _ in queue.wait(["nothing"], stop=stop):
                pass

        task = asyncio.create_task(idle())
        await asyncio.sleep(3)  # the backoff reaches its longest sleep (1 s) by then
        ramped = queue.claims
        await asyncio.sleep(3)
        stop.set()
        await task
        return (queue.claims - ramped) / 3
    finally:
        await conn.close()


# -- bulk writes against the seed's ORM style ---------------------------------------------


async def bulk_writes(server_url: str, plan: Plan, progress: Progress) -> list[Figure]:
    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

    seed = mapped(passive_deletes=False)
    n = plan.rows
    found: list[Figure] = []
    async with _database(server_url, "bulk", tutor=True) as url:
        setup = await _connect(url)
        engine = create_async_engine(
            "postgresql+asyncpg://", async_creator=lambda: asyncpg.connect(url)
        )
        try:
            [week] = await load_course(setup, "BULK", Syllabus(1, 1, 0, 0, 0, 256))
            [reading] = [row[0] for row in await setup.fetch(B.reading_ids.sql, [week])]
            # What tether's write looks up once per call: the ceiling's rows carry it too.
            course = await setup.fetchval(ChunkRepository.COURSE_OF_READING.sql, reading)
            texts = [chunk_text(i) for i in range(n)]
            sessions = async_sessionmaker(engine, expire_on_commit=False)

            async def bare_jobs() -> None:
                await copy(
                    setup,
                    "jobs",
                    ("kind", "week_id", "payload"),
                    [("bulk", week, {"n": i}) for i in range(n)],
                )

            async def bare_chunks() -> None:
                await copy(
                    setup,
                    "chunks",
                    ("reading_id", "course_id", "idx", "content", "meta"),
                    [(reading, course, i, t, {"page": i // 4}) for i, t in enumerate(texts)],
                )

            async def tether_jobs() -> None:
                await JobQueue(setup).enqueue_many(NewJob("bulk", week, {"n": i}) for i in range(n))

            async def orm_jobs() -> None:
                async with sessions() as session:
                    session.add_all(
                        [seed.Job(kind="bulk", week_id=week, payload={"n": i}) for i in range(n)]
                    )
                    await session.commit()

            async def tether_chunks() -> None:
                await ChunkRepository(setup).write(
                    reading, [NewChunk(i, t, {"page": i // 4}) for i, t in enumerate(texts)]
                )

            async def orm_chunks() -> None:
                async with sessions() as session:
                    session.add_all(
                        [
                            seed.Chunk(reading_id=reading, idx=i, content=t, meta={"page": i // 4})
                            for i, t in enumerate(texts)
                        ]
                    )
                    await session.commit()

            async def forget() -> None:
                await setup.execute(F.forget_bulk.sql)

            for name, what, writers in (
                (
                    "bulk_enqueue",
                    f"enqueue {n:,} jobs of a week",
                    (bare_jobs, tether_jobs, orm_jobs),
                ),
                (
                    "bulk_chunks",
                    f"write {n:,} chunks of a reading",
                    (bare_chunks, tether_chunks, orm_chunks),
                ),
            ):
                times: dict[str, list[float]] = {
                    "bare COPY": [],
                    "tether (COPY)": [],
                    "seed ORM (add_all)": [],
                }
                for _ in range(3):
                    for label, write in zip(times, writers, strict=True):
                        started = time.perf_counter()
                        await write()
                        times[label].append(time.perf_counter() - started)
                        await forget()
                rates = {label: n / statistics.median(t) for label, t in times.items()}
                ratio = rates["tether (COPY)"] / rates["seed ORM (add_all)"]
                progress(f"{name}: {rates} ({ratio:.1f}x)")
                found.append(
                    Figure(
                        domain="tutor",
                        name=name,
                        what=(
                            f"{what}, median of 3: tether's COPY against the seed's ORM "
                            "style, and bare asyncpg COPY of the same rows (the ceiling)"
                        ),
                        unit="rows/s",
                        values=rates,
                        goal=">= 10x the seed's ORM style",
                        met=ratio >= 10,
                        note=f"{ratio:.1f}x",
                    )
                )
        finally:
            await engine.dispose()
            await setup.close()
    return found


# -- audio streaming memory ---------------------------------------------------------------

PIECE = 64 * 1024


async def _stream_peak(url: str, megabytes: int) -> float:
    """Peak Python memory (MiB, tracemalloc) while streaming `megabytes` of audio in
    64 KiB pieces through AudioRepository.stream."""
    async with Database(url, min_size=1, max_size=2) as db:
        listener = await UserRepository(db).create(f"listener-{megabytes}@bench.test", "Listener")
        piece = os.urandom(PIECE)
        async with db.connection() as conn:
            syllabus = Syllabus(1, 0, 0, 0, 0, 256)
            [week] = await load_course(conn, f"AUDIO-{megabytes}", syllabus)
            talk = await ConversationRepository(conn).start(listener.id, week, f"audio-{megabytes}")
            await copy(
                conn,
                "audio_blobs",
                ("conversation_id", "blob_data"),
                [(talk.id, piece) for _ in range(megabytes * 1024 * 1024 // PIECE)],
            )
        tracemalloc.start()
        try:
            total = 0
            async for blob in AudioRepository(db).stream(talk.id):
                total += len(blob.blob_data)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert total == megabytes * 1024 * 1024
        return peak / (1024 * 1024)


async def audio_memory(server_url: str, plan: Plan, progress: Progress) -> list[Figure]:
    small, large = plan.audio_mb
    peaks = {}
    async with _database(server_url, "audio", tutor=True) as url:
        for megabytes in (small, large):
            peaks[f"{megabytes} MB"] = await _stream_peak(url, megabytes)
    progress(f"audio: peaks {peaks}")
    low, high = peaks.values()
    return [
        Figure(
            domain="tutor",
            name="audio_stream_memory",
            what=(
                f"peak Python memory streaming a conversation's audio in {PIECE // 1024} KiB "
                "pieces (AudioRepository.stream, server-side cursor, prefetch 4)"
            ),
            unit="MiB",
            values=peaks,
            goal=f"flat from {small} MB to {large} MB (within 1.5x)",
            met=high <= 1.5 * max(low, 0.5),
        )
    ]


async def figures(server_url: str, mode: str, progress: Progress) -> list[Figure]:
    plan = PLANS[mode]
    for noisy in ("pgqueuer", "procrastinate"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    return [
        *await queue_throughput(server_url, plan, progress),
        *await queue_features(server_url, mode, progress),
        *await recovery(server_url, progress),
        *await notify_cost(server_url, plan, progress),
        *await bulk_writes(server_url, plan, progress),
        *await audio_memory(server_url, plan, progress),
    ]
