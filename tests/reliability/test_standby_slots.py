"""Embedded standbys stream through a replication slot of their own on the primary: a
standby paused while the primary writes and checkpoints past the WAL it still needs
catches up once resumed (without a slot the primary recycles that WAL and the standby
never does); `stop()` keeps the slot, `remove()` drops it, and a new standby drops the
slots of standbys whose process is gone, and no other.

The primary is a private server of this module's own: its checkpoints and pinned WAL
touch no other test. Every server started here is stopped, and every standby resumed
(SIGCONT), whatever happens."""

import asyncio
import os
import subprocess

import asyncpg
import psycopg
import pytest

from tether import Database, ReplicaPolicy
from tether.embedded import hot_standby, scratch_server, standby
from tether.replicas import replayed_to

from .test_standby_stalls import stalled

pytestmark = pytest.mark.reliability

TEST_BOUND = 90  # s: no test here may take longer, whatever the code under test does
CATCH_UP_SECONDS = 30  # for a resumed standby to replay what it missed
ROUNDS = 4  # WAL segments written (and checkpoints made) while the standby is paused


@pytest.fixture(scope="module")
def primary(tmp_path_factory):
    """A private embedded primary; stopped and deleted after the module."""
    with scratch_server(tmp_path_factory.mktemp("slots")) as url:
        yield url


def slots(primary_url: str) -> dict[str, bool]:
    """The primary's replication slots, each with whether a WAL sender uses it."""
    with psycopg.connect(primary_url) as conn:
        return dict(conn.execute("select slot_name, active from pg_replication_slots").fetchall())


async def test_a_paused_standby_catches_up_on_wal_a_checkpoint_would_recycle(primary, tmp_path):
    async with asyncio.timeout(TEST_BOUND):
        sql = await asyncpg.connect(primary)
        try:
            await sql.execute("create table written (n int)")
            made = await asyncio.to_thread(standby, primary, tmp_path / "standby")
            with made:
                with stalled(made.folder):
                    # The standby needs at most the segment the primary was writing now.
                    needed = await sql.fetchval("select pg_walfile_name(pg_current_wal_lsn())")
                    for n in range(ROUNDS):
                        await sql.execute("insert into written values ($1)", n)
                        await sql.execute("select pg_switch_wal()")
                        await sql.execute("checkpoint")
                    redo = await sql.fetchval(
                        "select pg_walfile_name(redo_lsn) from pg_control_checkpoint()"
                    )
                    kept = await sql.fetchval(
                        "select count(*) from pg_ls_waldir() where name = $1", needed
                    )
                    while_paused = slots(primary)
                target = await sql.fetchval("select pg_current_wal_flush_lsn()")
                replica = await asyncpg.connect(made.url)
                try:
                    replayed = await replayed_to(replica, target, CATCH_UP_SECONDS)
                finally:
                    await replica.close()
                assert replayed is not None and replayed >= target, "it never caught up"
                policy = ReplicaPolicy(wait=CATCH_UP_SECONDS, fallback="raise")
                async with Database(primary, replicas=[made.url], replica_policy=policy) as db:
                    token = await db.token()
                    seen = await db.replica(token).fetchval("select count(*) from written")
                    served = db.read_counts.standby
                after_catching_up = slots(primary)
                slot = made.slot
            after_removal = slots(primary)
        finally:
            await sql.close()

    assert (seen, served) == (ROUNDS, 1)  # the token read ran on the standby, and saw all
    # A primary without the slot keeps WAL from the last checkpoint's redo segment only:
    # the segment the standby needed was older, and the slot kept it.
    assert needed < redo and kept == 1
    assert while_paused == {slot: True} == after_catching_up
    assert after_removal == {}


def dead_pid() -> int:
    """The pid of a process of ours that has exited."""
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def test_a_new_standby_drops_only_the_slots_of_standbys_gone(primary, tmp_path):
    gone = dead_pid()
    leftover = hot_standby.slot_name(gone, 1)  # this host, a process that died
    kept = [
        hot_standby.slot_name(os.getpid(), 99),  # this host, a process alive (this one)
        f"{hot_standby.SLOT_PREFIX}00000000_{gone}_1",  # another host's: its pid says nothing
        "tether_standby_by_hand",  # not named as tether names them
        "another_tools_slot",
    ]
    with psycopg.connect(primary, autocommit=True) as conn:
        for name in (leftover, *kept):
            conn.execute("select pg_create_physical_replication_slot(%s, true)", (name,))
    try:
        with standby(primary, tmp_path / "standby") as made:
            own = made.slot
            after_making = slots(primary)
            made.stop()
            after_stopping = slots(primary)
            made.start()
            after_restarting = slots(primary)
        after_removal = slots(primary)
    finally:
        with psycopg.connect(primary, autocommit=True) as conn:
            for name in (leftover, *kept):
                hot_standby.drop_slot(conn, name)

    assert after_making == {own: True} | dict.fromkeys(kept, False)
    assert after_stopping == {own: False} | dict.fromkeys(kept, False)  # kept while stopped
    assert after_restarting == after_making  # streaming again through the same slot
    assert after_removal == dict.fromkeys(kept, False)
