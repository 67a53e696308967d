"""The worker: graceful shutdown on SIGTERM, concurrency on a shared pool or dedicated
connections, and a handler's huge exception bounded in the row and in the log."""

import asyncio
import logging
import os
import signal

import pytest

from tether.tutor import JobQueue, NewJob, stop_on_signals, work
from tether.tutor.worker import ERROR_CHARS


async def test_sigterm_finishes_the_job_in_hand_and_gives_the_rest_of_the_batch_back(
    tether_db,
):
    queue = JobQueue(tether_db)
    await queue.enqueue_many(NewJob("render", payload={"n": n}) for n in range(3))
    started = []

    async def handle(job):
        started.append(job.id)
        os.kill(os.getpid(), signal.SIGTERM)  # the service is told to stop mid-job
        await asyncio.sleep(0.2)  # and the job in hand still finishes

    with stop_on_signals() as stop:
        handled = await asyncio.wait_for(work(queue, ["render"], handle, stop=stop, batch=3), 5)
    assert handled == 1
    found = await tether_db.pool.fetch(
        "select id, status, attempt, max_attempts from tutor.jobs order by id"
    )
    [first, *rest] = [tuple(r) for r in found]
    assert first == (started[0], "succeeded", 1, 1)
    # Given back unstarted: pending, and that claim is not counted against the attempts.
    assert [r[1:] for r in rest] == [("pending", 1, 2), ("pending", 1, 2)]


async def test_a_handler_slower_than_the_grace_is_cancelled_and_its_job_given_back(tether_db):
    queue = JobQueue(tether_db)
    job = await queue.enqueue("stuck")
    stop = asyncio.Event()
    cancelled = asyncio.Event()

    async def handle(_):
        stop.set()
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    await asyncio.wait_for(work(queue, ["stuck"], handle, stop=stop, grace=0.2), 5)
    assert cancelled.is_set()
    row = await queue.get(job.id)
    assert (row.status, row.attempt, row.max_attempts, row.errors) == ("pending", 1, 2, [])


@pytest.mark.parametrize("dedicated", [True, False], ids=["dedicated", "shared-pool"])
async def test_concurrent_loops_handle_every_job_once(tether_db, dedicated):
    queue = JobQueue(tether_db)
    await queue.enqueue_many(NewJob("fan", payload={"n": n}) for n in range(120))
    seen = []
    stop = asyncio.Event()
    busy = 0
    most = 0

    async def handle(job):
        nonlocal busy, most
        busy += 1
        most = max(most, busy)
        await asyncio.sleep(0.005)
        busy -= 1
        seen.append(job.payload["n"])
        if len(seen) == 120:
            stop.set()

    handled = await asyncio.wait_for(
        work(queue, ["fan"], handle, stop=stop, batch=5, concurrency=4, dedicated=dedicated),
        20,
    )
    assert handled == 120 and sorted(seen) == list(range(120))
    assert most == 4  # four loops at once
    assert (
        await tether_db.pool.fetchval(
            "select count(*) from tutor.jobs where status = 'succeeded' and attempt = 1"
        )
        == 120
    )


async def test_a_megabyte_exception_is_bounded_in_the_row_and_in_the_log(tether_db, caplog):
    queue = JobQueue(tether_db)
    job = await queue.enqueue("huge")
    stop = asyncio.Event()

    async def handle(_):
        stop.set()
        raise ValueError("secret-free but long " + "x" * 1_000_000)

    caplog.set_level(logging.DEBUG, "tether.tutor.worker")
    await asyncio.wait_for(work(queue, ["huge"], handle, stop=stop), 5)
    row = await queue.get(job.id)
    assert row.status == "failed"
    assert len(row.error) == ERROR_CHARS and row.error.startswith("ValueError: secret-free")
    assert row.error.endswith("more characters cut]")
    assert [e["error"] for e in row.errors] == [row.error]
    assert caplog.records, "the failure is logged"
    for record in caplog.records:
        assert record.exc_info is None  # no traceback: the class and the bounded text
        assert len(record.getMessage()) < ERROR_CHARS + 200
    assert any(row.error in record.getMessage() for record in caplog.records)
