"""Faults: a pooled connection killed mid-transaction, timeouts, the server restarted
under a running workload. Afterwards nothing partial is visible (checked by SQL), the
errors were tether's own, and the pool works again."""

import asyncio
from pathlib import Path

import asyncpg
import pytest

from planner.reliability import assert_whole_generations, generation
from tether import ConnectionLost, Database, PoolExhausted, Retryable, TetherError, Timeout
from tether.embedded import processes, scratch_server
from tether.planner import PlanRepository, SubjectRepository, UserRepository

from .domains import SCHEMAS
from .model import row_counts

pytestmark = pytest.mark.reliability

# Waits until the backend has exited (PostgreSQL 14+), so the next statement meets a dead one.
KILL = "select pg_terminate_backend($1, 5000)"


async def kill_between_statements(conn, sql, user_id):
    await SubjectRepository(conn).create(user_id, "Physics")
    await sql.execute(KILL, conn.get_server_pid())
    await SubjectRepository(conn).create(user_id, "Chemistry")


async def wait_for_lock(sql, pid: int) -> None:
    """Until backend `pid` waits for a lock."""
    for _ in range(500):
        waiting = await sql.fetchval(
            "select wait_event_type = 'Lock' from pg_stat_activity where pid = $1", pid
        )
        if waiting:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"backend {pid} never waited for a lock")


async def kill_during_a_statement(conn, sql, user_id):
    """The statement waits for a row lock the test holds; the test kills it there."""
    await SubjectRepository(conn).create(user_id, "Physics")
    pid = conn.get_server_pid()
    async with sql.transaction():
        await sql.execute("select 1 from planner.users where id = $1 for no key update", user_id)
        blocked = asyncio.ensure_future(UserRepository(conn).delete(user_id))
        await wait_for_lock(sql, pid)
        await sql.execute(KILL, pid)
    await blocked


@pytest.mark.parametrize("kill", [kill_between_statements, kill_during_a_statement])
async def test_a_connection_killed_mid_transaction(tether_db, sql, kill):
    john = await UserRepository(tether_db).create("john@example.com", "John")
    before = await row_counts(sql, SCHEMAS)

    async def transaction():
        async with tether_db.transaction() as conn:
            await SubjectRepository(conn).create(john.id, "Calculus")
            await kill(conn, sql, john.id)

    with pytest.raises(ConnectionLost) as lost:
        await transaction()
    assert isinstance(lost.value, Retryable)

    # None of the transaction's writes is there, and the pool serves the next call.
    assert await row_counts(sql, SCHEMAS) == before
    await SubjectRepository(tether_db).create(john.id, "Calculus")
    assert await sql.fetchval("select count(*) from planner.subjects") == 1


IDLE = 5  # pooled connections killed while idle
CALLS = 10  # calls that must then succeed


async def test_every_idle_pooled_connection_killed(tether_db, sql):
    async with Database(tether_db.url, min_size=IDLE, max_size=IDLE) as db:
        pids = await sql.fetch(
            "select pid from pg_stat_activity where datname = current_database() "
            "and pid <> pg_backend_pid()"
        )
        assert len(pids) >= IDLE
        for row in pids:
            await sql.execute(KILL, row["pid"])
        await asyncio.gather(
            *(UserRepository(db).create(f"u{i}@example.com") for i in range(CALLS))
        )
    assert await sql.fetchval("select count(*) from planner.users") == CALLS


@pytest.fixture
async def locked_user(tether_db, sql):
    """A user whose row the test's own connection holds locked."""
    user = await UserRepository(tether_db).create("locked@example.com")
    async with sql.transaction():
        await sql.execute("select 1 from planner.users where id = $1 for update", user.id)
        yield user


@pytest.mark.parametrize(
    ("setting", "sqlstate", "says"),
    [
        ("lock_timeout", "55P03", "could not get a lock in time (lock_timeout)"),
        ("statement_timeout", "57014", "statement was cancelled (statement_timeout"),
    ],
)
async def test_server_timeouts_are_tether_timeouts(
    tether_db, sql, locked_user, setting, sqlstate, says
):
    async def delete():
        async with tether_db.transaction() as conn:
            await conn.execute(f"set local {setting} = '100ms'")
            await UserRepository(conn).delete(locked_user.id)

    with pytest.raises(Timeout) as timed_out:
        await delete()
    assert timed_out.value.sqlstate == sqlstate
    assert says in str(timed_out.value) and "planner" in str(timed_out.value)
    assert await sql.fetchval("select count(*) from planner.users") == 1


async def test_a_client_side_command_timeout_is_a_timeout_not_a_lost_connection(
    tether_url, sql, locked_user
):
    async with Database(tether_url, min_size=1, max_size=1, command_timeout=0.2) as db:
        with pytest.raises(Timeout) as timed_out:
            await UserRepository(db).delete(locked_user.id)
        assert not isinstance(timed_out.value, ConnectionLost)
        assert "in time" in str(timed_out.value)
        # asyncpg cancelled the statement; the same pooled connection goes on working.
        assert await UserRepository(db).get(locked_user.id) == locked_user
    assert await sql.fetchval("select count(*) from planner.users") == 1


# --- the server restarted under a running workload --------------------------------------

WRITERS = 8
RESTART_POOL = 5  # connections for the writers
WARM_UP = 20  # generations written before the restart
AFTER_RESTART = 3  # generations each writer must write once the server is back


@pytest.fixture(scope="module")
def private_server(tmp_path_factory):
    """An embedded server of this module's own (the shared one serves other test runs):
    private and peer-only like it, migrated; yields (its data folder, URL) and deletes
    it afterwards."""
    from tether import migrations

    folder = tmp_path_factory.mktemp("restart")
    with scratch_server(folder) as url:
        migrations.migrate(url)
        yield folder / "pgdata", url


def restart(data: Path) -> None:
    """A fast shutdown of the server of `data` (clients disconnected), then a start on
    the same private socket."""
    processes.stop(data, fast=True)
    processes.start_server(data, processes.socket_dir(data))


async def test_server_restart_under_load_leaves_no_partial_generation(private_server):
    data, url = private_server
    written: list = []  # generation ids the server confirmed
    failures: list[BaseException] = []
    after_restart = [0] * WRITERS
    restarted = asyncio.Event()
    warmed_up = asyncio.Event()  # enough generations written to restart under load

    async with Database(url, min_size=2, max_size=RESTART_POOL) as db:
        owners = []
        for w in range(WRITERS):
            user = await UserRepository(db).create(f"writer{w}@example.com")
            owners.append((user.id, (await SubjectRepository(db).create(user.id, "S")).id))

        async def writer(w: int) -> None:
            user_id, subject_id = owners[w]
            serial = 0
            while after_restart[w] < AFTER_RESTART:
                serial += 1
                try:
                    gid = await PlanRepository(db).create_generation(
                        user_id, generation([subject_id], serial)
                    )
                except Exception as error:  # everything is recorded, and judged below
                    failures.append(error)
                    await asyncio.sleep(0.05)
                    continue
                written.append(gid)
                if len(written) >= WARM_UP:
                    warmed_up.set()
                if restarted.is_set():
                    after_restart[w] += 1

        async def restarter() -> None:
            await warmed_up.wait()
            await asyncio.to_thread(restart, data)
            restarted.set()

        async with asyncio.timeout(90):
            await asyncio.gather(restarter(), *(writer(w) for w in range(WRITERS)))

    # The restart was felt, and only as tether's ConnectionLost.
    assert failures, "the workload never noticed the restart"
    assert all(isinstance(f, ConnectionLost) for f in failures), {type(f) for f in failures}
    assert all(isinstance(f, TetherError) for f in failures)

    conn = await asyncpg.connect(url)
    try:
        await assert_whole_generations(conn)
        confirmed = await conn.fetchval(
            "select count(distinct generation_id) from planner.plans where generation_id = any($1)",
            written,
        )
        stored = await conn.fetchval("select count(distinct generation_id) from planner.plans")
    finally:
        await conn.close()
    assert confirmed == len(written)  # every generation the server confirmed survived
    # A call that failed may still have committed (the answer was lost), but whole.
    assert len(written) <= stored <= len(written) + len(failures)


# --- a server that accepts connections and never answers ---------------------------------


async def silent_url() -> tuple[asyncio.Server, str]:
    server = await asyncio.start_server(lambda reader, writer: None, "127.0.0.1", 0)
    return server, f"postgresql://app@127.0.0.1:{server.sockets[0].getsockname()[1]}/app"


@pytest.mark.parametrize(
    ("connect_timeout", "acquire_timeout"), [(0.3, 30.0), (30.0, 0.3)], ids=["connect", "acquire"]
)
async def test_a_server_that_never_answers_is_connection_lost_not_pool_exhausted(
    connect_timeout, acquire_timeout
):
    """Whichever timeout ends the wait for a new connection, the pool was not busy: the
    error says the server did not answer, and blames no `db.transaction()` block."""
    server, url = await silent_url()
    try:
        db = Database(url, min_size=0, timeout=connect_timeout, acquire_timeout=acquire_timeout)
        async with db:
            started = asyncio.get_running_loop().time()
            with pytest.raises(ConnectionLost) as lost:
                await UserRepository(db).get(1)
            took = asyncio.get_running_loop().time() - started
    finally:
        server.close()
    assert not isinstance(lost.value, PoolExhausted)
    assert "did not answer a new connection" in str(lost.value)
    assert "db.transaction()" not in str(lost.value)
    assert 0.3 <= took < 5


async def test_a_pool_with_every_connection_busy_is_still_pool_exhausted(tether_url):
    db = Database(tether_url, min_size=1, max_size=1, acquire_timeout=0.3)
    async with db, db.connection():
        with pytest.raises(PoolExhausted, match=r"all 1 are in use .*db.transaction\(\)"):
            await UserRepository(db).get(1)
