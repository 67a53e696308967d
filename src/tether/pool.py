"""tether's connection pool: asyncpg's, with a bounded wait that tells a busy pool
from a server that does not answer, and `borrow`, a pooled connection for a block
that hands it back whatever happens (a cancel included)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from contextvars import ContextVar
from typing import Any

import asyncpg

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

    async def _acquire(self, timeout: float | None) -> Any:  # noqa: ASYNC109 (asyncpg's own)
        wait = self._acquire_timeout if timeout is None else timeout
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


def _no_answer(where: str, when: str) -> ConnectionLost:
    return ConnectionLost(
        f"connect to {where}: the server did not answer a new connection {when}; it is "
        "unreachable or stalled (check the host and port)"
    )


# What asyncpg.create_pool passes to the pool, where the caller says nothing.
POOL_DEFAULTS: dict[str, Any] = {
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
