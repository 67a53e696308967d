"""tether.retry: whole transactions run again after a serialization failure or a
deadlock, a bounded number of times, never after a COMMIT whose outcome is unknown.
Every outcome is read back with SQL."""

import asyncio
import logging

import pytest

from tether import Conflict, ConnectionLost, Retryable, retry
from tether.planner import SubjectRepository, UserRepository
from tether.retry import backoff

pytestmark = pytest.mark.reliability


class Attempts:
    """Counts the attempts of each transaction; the first one meets the other at a barrier."""

    def __init__(self, parties: int) -> None:
        self.count: dict[str, int] = {}
        self.barrier = asyncio.Barrier(parties)

    def start(self, who: str) -> None:
        self.count[who] = self.count.get(who, 0) + 1

    async def meet(self, who: str) -> None:
        if self.count[who] == 1:
            await self.barrier.wait()


async def subject_names(sql, *user_ids: int) -> list[str]:
    rows = await sql.fetch(
        "select name from planner.subjects where student_id = any($1) order by name",
        list(user_ids),
    )
    return [row["name"] for row in rows]


async def test_a_serialization_failure_is_retried_to_a_serial_result(tether_db, sql, caplog):
    """Write skew: each transaction reads the other user's subjects, then writes one of
    its own saying how many it saw. Run side by side, both would see 0; SERIALIZABLE
    refuses one, and its retry sees the other's write."""
    users = UserRepository(tether_db)
    ann, bob = (
        (await users.create("ann@example.com")).id,
        (await users.create("bob@example.com")).id,
    )
    attempts = Attempts(2)

    async def look_then_write(who: str, me: int, other: int) -> None:
        async def work(conn):
            attempts.start(who)
            seen = await SubjectRepository(conn).of_student(other)
            await attempts.meet(who)
            await SubjectRepository(conn).create(me, f"{who} saw {len(seen)}")

        await retry(work, tether_db, isolation="serializable", attempts=5)

    with caplog.at_level(logging.INFO, logger="tether.retry"):
        await asyncio.gather(look_then_write("ann", ann, bob), look_then_write("bob", bob, ann))

    # One transaction ran once, the other twice; the result is a serial order's.
    assert sorted(attempts.count.values()) == [1, 2]
    names = await subject_names(sql, ann, bob)
    assert sorted(n.split(" saw ")[1] for n in names) == ["0", "1"], names
    assert "serialization failure" in caplog.text


async def test_a_deadlock_is_retried_and_each_transaction_commits_once(tether_db, sql, caplog):
    """Two transactions delete the same two subjects in opposite orders, then record that
    they ran: PostgreSQL ends one as a deadlock victim, retry runs it again."""
    owner = (await UserRepository(tether_db).create("owner@example.com")).id
    first = await SubjectRepository(tether_db).create(owner, "first")
    second = await SubjectRepository(tether_db).create(owner, "second")
    attempts = Attempts(2)

    async def delete_both(who: str, order: list[int]) -> None:
        async def work(conn):
            attempts.start(who)
            subjects = SubjectRepository(conn)
            await subjects.delete(order[0])
            await attempts.meet(who)
            await subjects.delete(order[1])
            await subjects.create(owner, f"done by {who}")

        await retry(work, tether_db, isolation="read_committed", attempts=3)

    with caplog.at_level(logging.INFO, logger="tether.retry"):
        await asyncio.gather(
            delete_both("one", [first.id, second.id]), delete_both("two", [second.id, first.id])
        )

    assert sorted(attempts.count.values()) == [1, 2]
    assert await subject_names(sql, owner) == ["done by one", "done by two"]
    assert "deadlock" in caplog.text


async def test_attempts_are_bounded_and_nothing_of_them_commits(tether_db, sql):
    owner = (await UserRepository(tether_db).create("owner@example.com")).id
    calls = []

    async def always_refused(conn):
        calls.append(len(calls))
        await SubjectRepository(conn).create(owner, f"attempt {len(calls)}")
        raise Retryable("a serialization failure, every time", sqlstate="40001")

    with pytest.raises(Retryable, match="every time"):
        await retry(always_refused, tether_db, attempts=3, base_delay=0.001)
    assert len(calls) == 3
    assert await subject_names(sql, owner) == []


async def test_other_errors_are_not_retried(tether_db, sql):
    owner = (await UserRepository(tether_db).create("owner@example.com")).id
    await SubjectRepository(tether_db).create(owner, "Calculus")
    calls = []

    async def duplicate(conn):
        calls.append(1)
        await SubjectRepository(conn).create(owner, "Physics")
        await SubjectRepository(conn).create(owner, "Calculus")

    with pytest.raises(Conflict):
        await retry(duplicate, tether_db)
    assert calls == [1]
    assert await subject_names(sql, owner) == ["Calculus"]


async def test_a_connection_lost_mid_transaction_is_retried(tether_db, sql):
    owner = (await UserRepository(tether_db).create("owner@example.com")).id
    calls = []

    async def work(conn):
        calls.append(1)
        await SubjectRepository(conn).create(owner, "Calculus")
        if len(calls) == 1:
            await sql.execute("select pg_terminate_backend($1, 5000)", conn.get_server_pid())
        await SubjectRepository(conn).create(owner, "Physics")

    await retry(work, tether_db)
    assert len(calls) == 2
    assert await subject_names(sql, owner) == ["Calculus", "Physics"]


async def test_a_connection_lost_during_commit_is_not_retried(tether_db, sql):
    """The COMMIT is held in a deferred trigger that sleeps; the test kills the backend
    there. Whether such a commit happened is unknown to the client, so it must not
    run the work again."""
    await sql.execute(
        """
        create table slow_commit (id int);
        create function slow_commit() returns trigger language plpgsql as
            $$ begin perform pg_sleep(30); return null; end $$;
        create constraint trigger slow_commit after insert on slow_commit
            deferrable initially deferred for each row execute function slow_commit();
        """
    )
    owner = (await UserRepository(tether_db).create("owner@example.com")).id
    calls, pids = [], []

    async def work(conn):
        calls.append(1)
        pids.append(conn.get_server_pid())
        await SubjectRepository(conn).create(owner, "Calculus")
        await conn.execute("insert into slow_commit values (1)")

    async def kill_in_commit():
        for _ in range(500):
            if pids and await sql.fetchval(
                "select wait_event = 'PgSleep' from pg_stat_activity where pid = $1", pids[0]
            ):
                await sql.execute("select pg_terminate_backend($1, 5000)", pids[0])
                return
            await asyncio.sleep(0.01)
        raise AssertionError("the COMMIT never reached the trigger")

    results = await asyncio.gather(retry(work, tether_db), kill_in_commit(), return_exceptions=True)
    lost = results[0]
    assert isinstance(lost, ConnectionLost), lost
    assert "may or may not have committed" in str(lost)
    assert calls == [1]
    assert await subject_names(sql, owner) == []  # killed before the commit finished


def test_backoff_grows_exponentially_with_full_jitter():
    for attempt in range(1, 8):
        ceiling = min(0.5, 0.01 * 2 ** (attempt - 1))
        pauses = [backoff(attempt, 0.01, 0.5) for _ in range(200)]
        assert all(0 <= p <= ceiling for p in pauses)
        assert len(set(pauses)) > 150  # jittered, not a fixed schedule
        assert max(pauses) > ceiling / 2
