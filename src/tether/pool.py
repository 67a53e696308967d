"""tether's connection pool: asyncpg's, with a bounded wait that tells a busy pool
from a server that does not answer, a release that resets only what a caller could
have changed, and `borrow`, a pooled connection for a block that hands it back
whatever happens (a cancel included).

Two kinds of use, two releases. A statement of tether's own (`Statements`: what a
repository built on the `Database` runs) leaves no session state: it runs alone in
its own implicit transaction, and tether's SQL sets nothing beyond its transaction
(SET LOCAL, transaction-level locks). When it returned and left the connection idle,
the connection goes straight back to the pool: no reset round trip and no task
(asyncpg's release runs in a shielded task). A connection handed to code that can run
anything (`db.connection()`, `db.transaction()`, `db.tenant()`, the pool's own
`fetch`/`execute`) or whose statement failed or was cancelled takes asyncpg's
release: an open transaction is rolled back, then `RESET_SESSION` clears what a
session can keep. docs/benchmarks.md, "The service path", has the figures. The
fast path does what asyncpg's acquire and release do to a holder, by the private
names of asyncpg 0.30-0.32 (pyproject pins `<0.33`; tests/test_pool.py holds it).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager, suppress
from contextvars import ContextVar
from typing import Any

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from tether.errors import CommitUnknown, ConnectionLost, PoolExhausted, TetherError
from tether.translate import DRIVER_ERRORS, closed, target, translate

# How long a call waits for a pooled connection before PoolExhausted, by default.
ACQUIRE_TIMEOUT_SECONDS = 30.0


# The acquisition in progress on this task: whether it had to make a new connection,
# so that a timeout can tell a busy pool from a server that does not answer.
_connecting: ContextVar[list[bool] | None] = ContextVar("tether_connecting", default=None)


class Pool(asyncpg.Pool):  # type: ignore[misc]
    """asyncpg's pool with a bounded wait for a connection.

    asyncpg waits forever by default: with every connection held (most often a
    repository built on the Database, run inside `db.transaction()` on the same
    task), the next call would hang silently. Every acquisition, including the one
    inside `pool.fetch(...)`, gets `acquire_timeout` unless given its own. Only a wait
    for a busy pool is PoolExhausted: a new connection that the server did not answer
    in time (asyncpg's connect `timeout`, or `acquire_timeout` spent connecting) is a
    ConnectionLost.
    """

    def __init__(self, *args: Any, acquire_timeout: float, **options: Any) -> None:
        super().__init__(*args, **options)
        self._acquire_timeout = acquire_timeout
        self.statements = Statements(self)

    async def _acquire(self, timeout: float | None) -> Any:  # noqa: ASYNC109 (asyncpg's own)
        wait = self._acquire_timeout if timeout is None else timeout
        if self._idle_connected():
            # Nothing to wait for: asyncpg's wait_for (a task of its own) is skipped.
            proxy = await super()._acquire(None)
            proxy._holder._timeout = wait  # what asyncpg's release gives a reset
            return proxy
        connecting = [False]
        token = _connecting.set(connecting)
        try:
            return await super()._acquire(wait)
        except TimeoutError:
            if connecting[0]:
                raise _no_answer(self._target(), f"within {wait:g} s") from None
            raise PoolExhausted(
                f"pool: no connection free within {wait:g} s; all {self._maxsize} are in use "
                "(the usual cause: code holding a connection, such as a `db.transaction()` "
                "block, calls a repository built on the Database instead of on that "
                "transaction's connection)"
            ) from None
        finally:
            _connecting.reset(token)

    def _idle_connected(self) -> bool:
        """Whether a connected holder waits in the queue (taken without suspending)."""
        queue = self._queue
        if queue is None or self._closing:
            return False
        return any(holder.is_connected() for holder in queue._queue)

    async def _run(
        self, method: Callable[..., Coroutine[Any, Any, Any]], *args: Any, **options: Any
    ) -> Any:
        """One statement on a pooled connection, which goes back without a reset when
        the statement returned and left the connection idle. `lease`'s steps, written
        out: a context manager costs a few µs on the hottest path."""
        holder = self._take_idle()
        if holder is None:
            holder = (await self._acquire(None))._holder
        try:
            result = await method(holder._con, *args, **options)
        except BaseException:
            await self._hand_back(holder, done=False)  # asyncpg's release: rollback, reset
            raise
        if not self._put_back(holder):
            await self._hand_back(holder, done=True)
        return result

    @asynccontextmanager
    async def lease(self) -> AsyncIterator[asyncpg.Connection]:
        """A connection for a block of tether's own statements (a COPY staged in a
        temporary table that goes with its transaction, a cursor in its transaction):
        back without a reset when the block ended well and left it idle."""
        holder = self._take_idle()
        if holder is None:
            holder = (await self._acquire(None))._holder
        try:
            yield holder._con
        except BaseException:
            await self._hand_back(holder, done=False)
            raise
        if not self._put_back(holder):
            await self._hand_back(holder, done=True)

    def _take_idle(self) -> Any:
        """An idle connected holder, taken as asyncpg's acquire takes one but without its
        coroutines, wait_for task and proxy; None when that acquire must run (nothing
        idle, a connection to make or replace)."""
        queue = self._queue
        if queue is None or self.is_closing() or self._setup is not None or not queue._queue:
            return None
        if queue._getters:
            # Callers already wait in asyncpg's acquire: taking the idle connection
            # past them would starve them (a burst of fast calls, and a delete that
            # never gets its turn), so wait in line too.
            return None
        holder = queue._queue[-1]
        if not holder.is_connected() or holder._generation != self._generation:
            return None
        queue.get_nowait()  # that same holder: the queue hands out the last connected one
        holder._maybe_cancel_inactive_callback()
        holder._in_use = self._loop.create_future()
        holder._timeout = self._acquire_timeout  # what asyncpg's release gives a reset
        return holder

    def _put_back(self, holder: Any) -> bool:
        """Hand an idle connection back at once, as asyncpg's release does after its
        reset; False when asyncpg's own release must run (the connection is in a
        transaction, being cancelled, due to be closed or replaced)."""
        conn = holder._con
        if (
            conn is None
            or self.is_closing()
            or conn.is_closed()
            or conn.is_in_transaction()
            or conn._protocol._is_cancelling()
            or conn._protocol.queries_count >= holder._max_queries
            or holder._generation != self._generation
        ):
            return False
        conn._on_release()
        holder._timeout = None
        holder._release()
        holder._setup_inactive_callback()
        return True

    async def _hand_back(self, holder: Any, done: bool) -> None:
        """asyncpg's release, for a holder `_run` could not put back itself."""
        if holder._in_use is None:
            return  # its connection closed meanwhile, and asyncpg put the holder back
        if holder._proxy is None:
            holder._proxy = PoolConnectionProxy(holder, holder._con)
        await _release(self, holder._proxy, done)

    async def _get_new_connection(self) -> Any:
        if (connecting := _connecting.get()) is not None:
            connecting[0] = True
        try:
            return await super()._get_new_connection()
        except TimeoutError:
            raise _no_answer(self._target(), "in time (connect timeout)") from None

    def _target(self) -> str:
        """Where the pool connects, for a message (tether.translate.target: no password)."""
        dsn = self._connect_args[0] if self._connect_args else self._connect_kwargs.get("dsn")
        return target(dsn) if isinstance(dsn, str) else "the server"


class Statements:
    """tether's own statements on a pool, each on a connection of its own that goes
    back without a reset (`Pool._run`): what a repository built on the `Database`
    runs. The pool's own `fetch`, `execute`, ... stay asyncpg's, reset and all,
    since a caller may send anything through them (`SET ...`, `LISTEN ...`)."""

    __slots__ = ("pool",)

    def __init__(self, pool: Pool) -> None:
        self.pool = pool

    async def fetch(self, query: str, *args: Any) -> Any:
        return await self.pool._run(asyncpg.Connection.fetch, query, *args)

    async def fetchrow(self, query: str, *args: Any) -> Any:
        return await self.pool._run(asyncpg.Connection.fetchrow, query, *args)

    async def fetchval(self, query: str, *args: Any) -> Any:
        return await self.pool._run(asyncpg.Connection.fetchval, query, *args)

    async def execute(self, query: str, *args: Any) -> Any:
        return await self.pool._run(asyncpg.Connection.execute, query, *args)

    async def copy_records_to_table(self, table_name: str, **options: Any) -> Any:
        return await self.pool._run(asyncpg.Connection.copy_records_to_table, table_name, **options)


def _no_answer(where: str, when: str) -> ConnectionLost:
    return ConnectionLost(
        f"connect to {where}: the server did not answer a new connection {when}; it is "
        "unreachable or stalled (check the host and port)"
    )


# What a handed-out connection is cleared of before its next user, in one round trip
# after asyncpg's rollback of an open transaction: DISCARD ALL's list, less what
# would drop asyncpg's own prepared statements (DEALLOCATE ALL) and cached plans
# (DISCARD PLANS), so statements prepared with SQL's PREPARE are deallocated by name.
# asyncpg's default reset query has the first three and RESET ALL only: temp
# tables, SET ROLE and PREPARE would outlive it.
RESET_SESSION = """\
SELECT pg_advisory_unlock_all();
CLOSE ALL;
UNLISTEN *;
SET SESSION AUTHORIZATION DEFAULT;
RESET ALL;
DISCARD TEMP;
DISCARD SEQUENCES;
DO $$
DECLARE name text;
BEGIN
    FOR name IN SELECT s.name FROM pg_prepared_statements s WHERE s.from_sql LOOP
        EXECUTE format('DEALLOCATE %I', name);
    END LOOP;
END $$;"""


async def reset_session(conn: asyncpg.Connection) -> None:
    """asyncpg's `reset` hook: runs on the release of a connection that was handed out."""
    await conn.execute(RESET_SESSION)


# What asyncpg.create_pool passes to the pool, where the caller says nothing.
POOL_DEFAULTS: dict[str, Any] = {
    "reset": reset_session,
    "connection_class": asyncpg.Connection,
    "record_class": asyncpg.Record,
    "max_queries": 50000,
    "max_inactive_connection_lifetime": 300.0,
    "loop": None,
}


@asynccontextmanager
async def borrow(pool: asyncpg.Pool) -> AsyncIterator[asyncpg.Connection]:
    """A connection of `pool` for a block; a failure to get one, or the connection
    dying under a tether error, is a ConnectionLost."""
    try:
        conn = await pool.acquire()
    except DRIVER_ERRORS as error:
        raise translate(error, "connect") from None
    done = False
    try:
        yield conn
        done = True
    except TetherError as error:
        # asyncpg hands a pooled connection that died back to the pool at once, and
        # later calls on it fail as if misused ("released back to the pool").
        if isinstance(error, ConnectionLost | CommitUnknown) or not closed(conn):
            raise
        where = str(error).partition(":")[0]  # translate's messages start "where: "
        raise ConnectionLost(f"{where}: the connection to the database was lost") from None
    finally:
        await _release(pool, conn, done)


async def _release(pool: asyncpg.Pool, conn: asyncpg.Connection, done: bool) -> None:
    """Hand a connection back to its pool (asyncpg resets it: a round trip).

    The caller's work is over by then, so a failure of the reset is not theirs to see
    (asyncpg drops the connection). Nor is a cancel that lands during it once the
    block ended well (`done`; a transaction's COMMIT returned): the caller gets its
    result, and asyncpg, which shields the reset, finishes it alone. The cancel is
    withdrawn (`uncancel`), as asyncio asks of code that declines one. A faster
    release (issue 18) must keep this rule: tests/reliability/test_cancellation.py.
    """
    try:
        with suppress(*DRIVER_ERRORS):
            await pool.release(conn)
    except asyncio.CancelledError:
        if not done:
            raise
        if (task := asyncio.current_task()) is not None:
            task.uncancel()
