"""A real embedded standby that stops answering: every one of its processes stopped
with SIGSTOP (the postmaster, so no new connection is answered, and the backends, so
no statement in flight is either), as a host that hangs or a VM paused would. Reads
sent to it end within their bounds, run on the primary, and mark it down; once it is
sent SIGCONT, it serves again. Every test resumes the standby, whatever happens."""

import asyncio
import logging
import os
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest

from tether import Database, ReplicaPolicy, ReplicaUnavailable
from tether.planner import UserRepository

pytestmark = pytest.mark.reliability

TEST_BOUND = 30  # s: no test here may take longer, whatever the code under test does


def _processes_of(postmaster: int) -> list[int]:
    """The postmaster and its children (checkpointer, startup, WAL receiver, backends)."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue  # exited meanwhile
        if int(fields[1]) == postmaster:
            children.append(int(stat.parent.name))
    return [postmaster, *children]


@contextmanager
def stalled(folder: Path) -> Iterator[None]:
    """Every process of the server in `folder` stopped for the block, resumed after it."""
    postmaster = int((folder / "postmaster.pid").read_text().split("\n", 1)[0])
    stopped: list[int] = []
    try:
        for pid in _processes_of(postmaster):
            os.kill(pid, signal.SIGSTOP)
            stopped.append(pid)
        yield
    finally:
        for pid in stopped:
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)


def warnings_of(caplog) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "tether.replicas" and r.levelno == logging.WARNING
    ]


async def test_a_stalled_standby_is_marked_down_and_reads_run_on_the_primary(
    tether_standby, tether_url, tether_replica_url, caplog, capsys
):
    """It used to fail every read with PoolExhausted after connect_timeout, forever."""
    policy = ReplicaPolicy(connect_timeout=0.5, retry_after=0.3)
    async with Database(tether_url, replicas=[tether_replica_url], replica_policy=policy) as db:
        users = UserRepository(db)
        ada = await users.create("ada@example.com")
        async with asyncio.timeout(TEST_BOUND):
            with stalled(tether_standby.folder):
                took = []
                for _ in range(3):  # tried again once retry_after has passed: still one line
                    started = time.monotonic()
                    assert await UserRepository(db.replica(await db.token())).get(ada.id) == ada
                    took.append(time.monotonic() - started)
                    await asyncio.sleep(policy.retry_after)
                with pytest.raises(ReplicaUnavailable, match="did not answer a new connection"):
                    await UserRepository(db.replica(fallback="raise")).get(ada.id)
            assert db.read_counts.primary == 3
            # A read that tries the standby waits one connect_timeout, and no more.
            assert max(took) < policy.connect_timeout + 1, took
            await asyncio.sleep(policy.retry_after)
            assert await UserRepository(db.replica(await db.token(), wait=5)).get(ada.id) == ada
            assert db.read_counts.standby == 1
    [down] = warnings_of(caplog)
    assert "cannot connect" in down and "did not answer a new connection" in down
    with capsys.disabled():
        print(
            f"\n[stall] reads while the standby is stopped: {', '.join(f'{t:.3f}' for t in took)} s"
        )


async def test_a_standby_that_stalls_mid_read_gives_the_read_to_the_primary(
    tether_standby, tether_url, tether_replica_url, caplog, capsys
):
    """A read in flight when the standby stopped answering used to hang as long as the
    stall lasted (70 s in the issue); now it ends after read_timeout and a grace."""
    policy = ReplicaPolicy(read_timeout=1.0, retry_after=0.3)
    async with Database(tether_url, replicas=[tether_replica_url], replica_policy=policy) as db:
        reader = db.replica()
        assert await reader.fetchval("select pg_is_in_recovery()") is True  # connected

        async with asyncio.timeout(TEST_BOUND):
            read = asyncio.create_task(
                reader.fetchval("select pg_is_in_recovery() from pg_sleep(0.3)")
            )
            await asyncio.sleep(0.1)  # the statement is running on the standby
            with stalled(tether_standby.folder):
                started = time.monotonic()
                in_recovery = await read
                took = time.monotonic() - started
        assert in_recovery is False  # answered by the primary
        assert took < policy.read_timeout + 1.5, took
        assert (db.read_counts.standby, db.read_counts.primary) == (1, 1)
        # Resumed, the standby serves again once retry_after has passed.
        await asyncio.sleep(policy.retry_after)
        assert await reader.fetchval("select pg_is_in_recovery()") is True
    [down] = warnings_of(caplog)
    assert "no answer within 1.5 s" in down
    with capsys.disabled():
        print(f"\n[stall] a read in flight when the standby stopped: {took:.3f} s")


async def test_a_read_past_read_timeout_is_ended_by_the_standby_and_run_on_the_primary(
    tether_url, tether_replica_url, caplog
):
    policy = ReplicaPolicy(read_timeout=0.3)
    async with Database(tether_url, replicas=[tether_replica_url], replica_policy=policy) as db:
        reader = db.replica()
        async with reader.connection() as conn:
            assert await conn.fetchval("show statement_timeout") == "300ms"
        async with asyncio.timeout(TEST_BOUND):
            assert await reader.fetchval("select pg_is_in_recovery() from pg_sleep(0.5)") is False
        assert (db.read_counts.standby, db.read_counts.primary) == (1, 1)
    [down] = warnings_of(caplog)
    assert "a statement ran past read_timeout (0.3 s)" in down
