"""A worker loop over the tutor's JobQueue: claim, handle, succeed or fail, repeat.

    async with Database() as db:
        await work(JobQueue(db), ["summarize"], summarize, stop=stop)

While a handler runs, a heartbeat renews the job's lease every third of it, so
a slow job is not taken for a dead one; if the worker dies, the heartbeats stop,
the lease lapses and another worker's claim rescues the job. A worker that lost
its claim has its result refused (LeaseLost), which is logged, not raised.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence

from tether.errors import TetherError
from tether.tutor.errors import LeaseLost
from tether.tutor.records import Job
from tether.tutor.repositories import JobQueue

log = logging.getLogger("tether.tutor.worker")

Handler = Callable[[Job], Awaitable[object]]


async def _heartbeat(queue: JobQueue, job: Job, every: float) -> None:
    while True:
        await asyncio.sleep(every)
        try:
            await queue.heartbeat(job)
        except LeaseLost:
            log.warning("job %d: the lease was lost while the handler ran", job.id)
            return
        except TetherError as error:  # a lost connection: try again on the next beat
            log.warning("job %d: heartbeat failed: %s", job.id, error)


async def work(
    queue: JobQueue,
    kinds: Sequence[str],
    handle: Handler,
    *,
    stop: asyncio.Event | None = None,
    batch: int = 1,
) -> int:
    """Handle jobs of `kinds` until `stop` is set; return how many were handled.

    A handler that returns marks its job succeeded; one that raises marks it failed
    with the exception's type and text as its error. Jobs are claimed `batch` at a
    time (the ones waiting hold their lease: keep batches short next to it).
    """
    every = queue.lease.total_seconds() / 3
    handled = 0
    async for job in queue.wait(kinds, batch=batch, stop=stop):
        beat = asyncio.create_task(_heartbeat(queue, job, every))
        error: str | None = None
        try:
            await handle(job)
        except Exception as failure:
            error = f"{type(failure).__name__}: {failure}"
            log.info("job %d (%s) failed: %s", job.id, job.kind, error)
        finally:
            beat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beat
        try:
            if error is None:
                await queue.succeed(job)
            else:
                await queue.fail(job, error)
        except LeaseLost as lost:
            log.warning("%s", lost)
        handled += 1
    return handled
