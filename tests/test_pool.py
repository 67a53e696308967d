"""The pool's two releases. A repository call on the Database sends its statement and
nothing else: the connection goes back without a reset. A connection handed to the
caller (`db.connection()`, `db.transaction()`, `db.tenant()`) is reset on release, and nothing a
session can keep (an open transaction, LISTEN, advisory locks, temp tables, session
SETs and roles, prepared statements, held cursors) reaches the next user of it. Each
test runs on a pool of one connection, so the next user is the same backend."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from tether import Database
from tether.planner import UserRepository
from tether.planner.repositories import Q
from tether.pool import RESET_SESSION


@asynccontextmanager
async def statements_sent(db: Database) -> AsyncIterator[list[str]]:
    """The statements the pool's one connection sends during the block."""
    sent: list[str] = []

    def log(record: object) -> None:
        sent.append(record.query)  # type: ignore[attr-defined]

    async with db.connection() as conn:
        raw = conn._con  # the connection under asyncpg's proxy: it outlives the block
    raw.add_query_logger(log)
    try:
        yield sent
        await asyncio.sleep(0)  # asyncpg calls loggers soon after each statement
    finally:
        raw.remove_query_logger(log)


async def test_a_repository_call_on_the_database_sends_its_statement_alone(tether_url):
    async with Database(tether_url, min_size=1, max_size=1) as db:
        users = UserRepository(db)
        user = await users.create("ann@example.com", "Ann")
        async with statements_sent(db) as sent:
            assert await users.get(user.id) == user
            assert await users.find_by_email("nobody@example.com") is None
            assert await users.delete(user.id) is True
        assert sent == [Q.get_user.sql, Q.find_user_by_email.sql, Q.delete_user.sql]
        assert db.pool.get_idle_size() == 1


async def test_a_handed_out_connection_is_reset_on_release(tether_url):
    async with Database(tether_url, min_size=1, max_size=1) as db:
        async with statements_sent(db) as sent, db.connection() as conn:
            await conn.execute("select 1")
        assert sent == ["select 1", RESET_SESSION]


async def test_a_failed_repository_call_is_reset_on_release(tether_url):
    async with Database(tether_url, min_size=1, max_size=1) as db:
        users = UserRepository(db)
        await users.create("ann@example.com", "Ann")
        async with statements_sent(db) as sent:
            with pytest.raises(Exception, match="users"):
                await users.create("ann@example.com", "Ann again")
        assert sent == [Q.insert_user.sql, RESET_SESSION]
        assert db.pool.get_idle_size() == 1


async def test_a_cancelled_statement_leaves_the_pool_whole(tether_url):
    async with Database(tether_url, min_size=1, max_size=1) as db:
        call = asyncio.create_task(db.statements.fetchval("select pg_sleep(5)"))
        await asyncio.sleep(0.2)
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        async with asyncio.timeout(5):
            assert await db.statements.fetchval("select 41 + 1") == 42
        assert db.pool.get_idle_size() == db.pool.get_size() == 1


# What a caller's block leaves on its connection, and how the next user sees it
# (clean: the value a new connection shows).
LEFT = {
    "listen": ("listen tether_probe", "select count(*) from pg_listening_channels()", 0),
    "advisory lock": (
        "select pg_advisory_lock(4242)",
        "select count(*) from pg_locks where locktype = 'advisory' and pid = pg_backend_pid()",
        0,
    ),
    "temp table": (
        "create temp table tether_probe (x int)",
        "select to_regclass('pg_temp.tether_probe') is not null",
        False,
    ),
    "session set": (
        "set statement_timeout = '4242s'",
        "select current_setting('statement_timeout')",
        "0",
    ),
    "custom setting": (
        "set app.tenant = 'someone'",
        "select coalesce(current_setting('app.tenant', true), '')",
        "",
    ),
    "role": ("set role pg_read_all_data", "select current_user = session_user", True),
    "prepared statement": (
        "prepare tether_probe as select 1",
        "select count(*) from pg_prepared_statements where from_sql",
        0,
    ),
    "held cursor": (
        "declare tether_probe cursor with hold for select 1",
        "select count(*) from pg_cursors where name = 'tether_probe'",
        0,
    ),
}


@asynccontextmanager
async def through_connection(db: Database) -> AsyncIterator[object]:
    async with db.connection() as conn:
        yield conn


@asynccontextmanager
async def through_tenant(db: Database) -> AsyncIterator[object]:
    async with db.tenant(42) as conn:  # the role tether_service, scoped to tenant 42
        yield conn


PATHS = {
    "connection": through_connection,
    "transaction": Database.transaction,
    "tenant": through_tenant,
}


@pytest.mark.parametrize(
    ("path", "left"),
    # tether_service may not SET ROLE: the tenant path's role is its own, SET LOCAL.
    [(path, left) for path in PATHS for left in LEFT if (path, left) != ("tenant", "role")],
)
async def test_nothing_a_session_keeps_reaches_the_next_user(tether_url, path, left):
    statement, probe, clean = LEFT[left]
    async with Database(tether_url, min_size=1, max_size=1) as db:
        async with db.connection() as conn:
            assert await conn.fetchval(probe) == clean
        async with PATHS[path](db) as conn:
            backend = await conn.fetchval("select pg_backend_pid()")
            await conn.execute(statement)
            if left != "listen" or path == "connection":  # in a transaction: at COMMIT
                assert await conn.fetchval(probe) != clean  # the state is there
        # The next users: a repository's statement, then a handed-out connection.
        assert await db.statements.fetchval(probe) == clean
        async with db.connection() as conn:
            assert await conn.fetchval("select pg_backend_pid()") == backend
            assert await conn.fetchval(probe) == clean


async def test_an_open_transaction_is_rolled_back_before_the_next_user(tether_url):
    async with Database(tether_url, min_size=1, max_size=1) as db:
        await db.statements.execute("create table public.tx_probe (key int)")
        async with db.connection() as conn:
            await conn.execute("begin")
            await conn.execute("insert into public.tx_probe values (1)")
        assert await db.statements.fetchval("select count(*) from public.tx_probe") == 0
        async with db.connection() as conn:
            assert not conn.is_in_transaction()


async def test_the_pools_own_methods_are_reset_like_a_handed_out_connection(tether_url):
    async with Database(tether_url, min_size=1, max_size=1) as db:
        await db.pool.execute("set statement_timeout = '4242s'")
        await db.pool.execute("begin")
        assert await db.statements.fetchval("show statement_timeout") == "0"
        async with db.connection() as conn:
            assert not conn.is_in_transaction()
