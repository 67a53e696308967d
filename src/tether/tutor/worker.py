"""A worker loop over the tutor's JobQueue: claim, handle, succeed or fail, repeat.

    async with Database() as db:
        await work(JobQueue(db), ["summarize"], summarize, stop=stop)

While handlers run, a heartbeat renews the leases of the jobs claimed every third of
a lease, so a slow job is not taken for a dead one; if the worker dies, the
heartbeats stop, the leases lapse and another worker's claim rescues the jobs. A
worker that lost its claim has its result refused (LeaseLost): that is logged, not
raised, and the loop goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence

from tether.errors import TetherError
from tether.tutor.errors import LeaseLost
from tether.tutor.queue import JobQueue
from tether.tutor.records import Job

log = logging.getLogger("tether.tutor.worker")

Handler = Callable[[Job], Awaitable[object]]


async def _heartbeat(queue: JobQueue, jobs: list[Job], every: float) -> None:
    while jobs:
        await asyncio.sleep(every)
        try:
            await queue.heartbeat(*jobs)
        except LeaseLost as lost:
            log.warning("%s", lost)
            jobs[:] = [job for job in jobs if job.id not in lost.job_ids]
        except TetherError as error:  # a lost connection: try again on the next beat
            log.warning("heartbeat failed: %s", error)


async def work(
    queue: JobQueue,
    kinds: Sequence[str],
    handle: Handler,
    *,
    stop: asyncio.Event | None = None,
    batch: int = 1,
) -> int:
    """Handle jobs of `kinds` until `stop` is set; return how many were handled.

    Jobs are claimed `batch` at a time and handled one after the other; those whose
    handler returned succeed together (one statement per batch), one whose handler
    raised fails with the exception's type and text as its error.
    """
    every = queue.lease.total_seconds() / 3
    handled = 0
    async for jobs in queue.batches(kinds, batch, stop=stop):
        held = list(jobs)  # what the heartbeat keeps: every job not written as failed yet
        beat = asyncio.create_task(_heartbeat(queue, held, every))
        done: list[Job] = []
        try:
            for job in jobs:
                try:
                    await handle(job)
                except Exception as failure:
                    error = f"{type(failure).__name__}: {failure}"
                    log.info("job %d (%s) failed: %s", job.id, job.kind, error)
                    if job in held:
                        held.remove(job)
                    try:
                        await queue.fail(job, error)
                    except LeaseLost as lost:
                        log.warning("%s", lost)
                else:
                    done.append(job)
                handled += 1
        finally:
            beat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beat
        try:
            await queue.succeed_many(done)
        except LeaseLost as lost:
            log.warning("%s", lost)
    return handled
