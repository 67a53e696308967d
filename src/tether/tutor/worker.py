"""A worker over the tutor's JobQueue: claim, handle, succeed, fail (and retry) or
stop, repeat; periodic kinds enqueued on schedule; graceful shutdown.

    async with Database() as db:
        with stop_on_signals() as stop:  # SIGTERM, SIGINT
            await work(JobQueue(db), ["summarize"], summarize, stop=stop, concurrency=4)

While handlers run, a heartbeat renews the leases of the jobs claimed every third of
a lease, so a slow job is not taken for a dead one; if the worker dies, the
heartbeats stop, the leases lapse and another worker's claim rescues the jobs. A
worker that lost its claim has its result refused (LeaseLost): that is logged, not
raised, and the loop goes on. A job cancelled while it runs has its handler
cancelled when the heartbeat learns it, and ends failed with the reason.

When `stop` is set, the job in hand gets `grace` seconds to finish (then it is
cancelled and given back), the rest of its batch is given back unstarted (release:
not counted as an attempt), and `work` returns.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import signal
from collections.abc import Awaitable, Callable, Iterator, Sequence

import asyncpg

from tether.errors import TetherError
from tether.pool import Statements
from tether.tutor.errors import LeaseLost
from tether.tutor.periodic import Periodic
from tether.tutor.queue import JobQueue
from tether.tutor.records import Job

log = logging.getLogger("tether.tutor.worker")

Handler = Callable[[Job], Awaitable[object]]

# How much of a handler's exception text is kept in the job row and logged.
ERROR_CHARS = 2000
# How often a worker's scheduler looks for a periodic kind's latest slot (seconds).
TICK = 1.0


def bounded_error(failure: BaseException) -> str:
    """The exception's class and text, at most ERROR_CHARS characters in all."""
    text = f"{type(failure).__name__}: {failure}"
    if len(text) <= ERROR_CHARS:
        return text
    cut = f" [... {len(text) - ERROR_CHARS} more characters cut]"
    return text[: ERROR_CHARS - len(cut)] + cut


@contextlib.contextmanager
def stop_on_signals(
    *signals: signal.Signals,
) -> Iterator[asyncio.Event]:
    """An event set when the process receives one of `signals` (default SIGTERM and
    SIGINT), for `work(stop=...)`; the handlers are removed after the block. Call it
    inside the running event loop."""
    loop = asyncio.get_running_loop()
    chosen = signals or (signal.SIGTERM, signal.SIGINT)
    stop = asyncio.Event()
    for sig in chosen:
        loop.add_signal_handler(sig, stop.set)
    try:
        yield stop
    finally:
        for sig in chosen:
            loop.remove_signal_handler(sig)


class _Batch:
    """One claimed batch's bookkeeping: the jobs the heartbeat renews, the handler
    running now, the jobs whose cancellation the heartbeat learned, and a lock that
    keeps the heartbeat and the loop's own writes apart (on a dedicated connection
    they would otherwise overlap: one statement at a time per connection)."""

    def __init__(self, jobs: list[Job]) -> None:
        self.lock = asyncio.Lock()
        self.held = list(jobs)
        self.running: dict[int, asyncio.Task[object]] = {}
        self.cancelled: set[int] = set()

    def drop(self, job: Job) -> None:
        if job in self.held:
            self.held.remove(job)


async def _heartbeat(queue: JobQueue, batch: _Batch, every: float) -> None:
    while batch.held:
        await asyncio.sleep(every)
        try:
            async with batch.lock:
                renewal = await queue.renew(*batch.held)
        except TetherError as error:  # a lost connection: try again on the next beat
            log.warning("heartbeat failed: %s", error)
            continue
        if renewal.lost:
            log.warning("%s", LeaseLost(sorted(renewal.lost), "heartbeat"))
        for job_id in renewal.cancelled:
            batch.cancelled.add(job_id)
            if (task := batch.running.get(job_id)) is not None:
                task.cancel()
        batch.held[:] = [
            job for job in batch.held if job.id not in renewal.lost | renewal.cancelled
        ]


async def _attempt(
    job: Job, handle: Handler, batch: _Batch, stop: asyncio.Event, grace: float
) -> asyncio.Task[object]:
    """Run the handler; when `stop` is set meanwhile, wait `grace` seconds more, then
    cancel it. The finished task."""
    task: asyncio.Task[object] = asyncio.ensure_future(handle(job))
    batch.running[job.id] = task
    stopping = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if not task.done():
            await asyncio.wait({task}, timeout=grace)
    finally:
        stopping.cancel()
        if not task.done():
            task.cancel()
        await asyncio.wait({task})
        del batch.running[job.id]
    return task


async def _write(what: Awaitable[object], lock: asyncio.Lock | None = None) -> None:
    """A write guarded by the claim: a refusal is logged (the job is another's now)."""
    try:
        async with lock or contextlib.nullcontext():
            await what
    except LeaseLost as lost:
        log.warning("%s", lost)


async def _handle(
    queue: JobQueue, jobs: list[Job], handle: Handler, stop: asyncio.Event, grace: float
) -> int:
    """Handle one claimed batch; return how many handlers ran."""
    batch = _Batch(jobs)
    beat = asyncio.create_task(_heartbeat(queue, batch, queue.lease.total_seconds() / 3))
    done: list[Job] = []
    ran = 0
    try:
        for index, job in enumerate(jobs):
            if stop.is_set():
                for unstarted in jobs[index:]:
                    await _write(queue.release(unstarted), batch.lock)
                break
            task = await _attempt(job, handle, batch, stop, grace)
            ran += 1
            batch.drop(job)
            if not task.cancelled() and task.exception() is None:
                done.append(job)
            elif job.id in batch.cancelled:
                log.info("job %d (%s) stopped: it was cancelled", job.id, job.kind)
                await _write(
                    queue.fail(job, "stopped: the job was cancelled", final=True), batch.lock
                )
            elif task.cancelled():
                log.info("job %d (%s) given back: the worker is stopping", job.id, job.kind)
                await _write(queue.release(job), batch.lock)
            else:
                async with batch.lock:
                    await _failed(queue, job, task.exception())
    finally:
        beat.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await beat
    await _write(queue.succeed_many(done))
    return ran


async def _failed(queue: JobQueue, job: Job, failure: BaseException | None) -> None:
    error = bounded_error(failure or RuntimeError("no exception"))
    try:
        again = await queue.fail(job, error)
    except LeaseLost as lost:
        log.warning("%s", lost)
        return
    outcome = "will be retried" if again else "failed"
    log.info("job %d (%s) attempt %d %s: %s", job.id, job.kind, job.attempt, outcome, error)


async def _consume(
    queue: JobQueue,
    kinds: Sequence[str],
    handle: Handler,
    stop: asyncio.Event,
    batch: int,
    grace: float,
    max_sleep: float,
) -> int:
    handled = 0
    async for jobs in queue.batches(kinds, batch, stop=stop, max_sleep=max_sleep):
        handled += await _handle(queue, jobs, handle, stop, grace)
    return handled


async def _schedule(queue: JobQueue, periodic: Sequence[Periodic], stop: asyncio.Event) -> None:
    """Enqueue each periodic kind's latest slot, every TICK, until `stop`."""
    while not stop.is_set():
        now = dt.datetime.now(dt.UTC)
        for each in periodic:
            try:
                await queue.enqueue_slot(
                    each.kind, each.schedule.slot(now), each.payload, retry=each.retry
                )
            except TetherError as error:
                log.warning("periodic %s not enqueued: %s", each.kind, error)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), TICK)


async def work(
    queue: JobQueue,
    kinds: Sequence[str],
    handle: Handler,
    *,
    stop: asyncio.Event | None = None,
    batch: int = 1,
    concurrency: int = 1,
    dedicated: bool = True,
    grace: float = 30.0,
    periodic: Sequence[Periodic] = (),
    max_sleep: float = 1.0,
) -> int:
    """Handle jobs of `kinds` until `stop` is set; return how many handlers ran.

    `concurrency` loops claim and handle at once, each `batch` jobs per claim, one
    after the other; those whose handler returned succeed together (one statement
    per batch); one whose handler raised fails with the exception's class and text
    (at most 2,000 characters; retried while its attempts last). On a queue made
    from a `Database`, each loop holds a connection of the pool for its statements
    (`dedicated`, the default: measured faster, docs/tutor.md) or takes one per
    statement (`dedicated=False`). `periodic` kinds are enqueued once per slot. An
    idle loop polls with a backoff up to `max_sleep` seconds (`JobQueue.batches`).
    """
    stop = stop or asyncio.Event()
    async with contextlib.AsyncExitStack() as stack:
        executor = queue.executor
        # A queue on a Database runs on its pool's statements (tether.pool.Statements).
        pool = executor.pool if isinstance(executor, Statements) else executor
        pool = pool if isinstance(pool, asyncpg.Pool) else None
        if pool is None and concurrency > 1:
            raise ValueError("work: concurrency > 1 needs a queue on a Database (a pool)")
        queues = [queue] * concurrency
        if pool is not None and dedicated:
            queues = [
                JobQueue(await stack.enter_async_context(pool.acquire()), lease=queue.lease)
                for _ in range(concurrency)
            ]
        async with asyncio.TaskGroup() as group:
            if periodic:
                group.create_task(_schedule(queue, periodic, stop))
            loops = [
                group.create_task(_consume(each, kinds, handle, stop, batch, grace, max_sleep))
                for each in queues
            ]
    return sum(loop.result() for loop in loops)
