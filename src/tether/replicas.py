"""Reads on hot standbys, with read-your-writes.

    db = Database(primary_url, replicas=[standby_url])   # or $DATABASE_REPLICA_URL
    user = await UserRepository(db).create(...)          # writes: always the primary
    token = await db.token()                             # str(token) fits a cookie
    reader = db.replica(token)                           # what repositories read through
    await UserRepository(reader).get(user.id)            # a standby that has replayed token

Nothing reaches a standby unless it is sent through `db.replica()`. A read given a
token runs on a standby once `pg_last_wal_replay_lsn()` there has passed it, after
waiting at most `ReplicaPolicy.wait`; a read without one may be stale by the
standby's lag. A standby that is down, unreachable (no answer within
`connect_timeout`), silent or slow past `read_timeout`, or further behind than
`max_lag`, is skipped (logged once per outage: when it starts, and when it ends). A
token ahead of the primary's WAL is refused before any standby is asked. When no
standby can serve a read, it goes to the primary, or raises ReplicaUnavailable
(`fallback="raise"`). Reads that reach the primary through a reader run read-only
there too: a write sent through a reader fails as ReadOnly (SQLSTATE 25006)
wherever it lands.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TYPE_CHECKING, Any, TypeVar

import asyncpg
from attrs import frozen

from tether.catalog import Q
from tether.errors import (
    ConnectionLost,
    PoolExhausted,
    ReplicaUnavailable,
    TetherError,
    Timeout,
)
from tether.standbys import (
    ANSWER_GRACE,
    Fallback,
    ReadCounts,
    ReplicaPolicy,
    Replicas,
    Standby,
    Token,
    standby_pool_options,
)
from tether.translate import DRIVER_ERRORS, closed, primary_message, translate

__all__ = [
    "Fallback",
    "ReadCounts",
    "Reader",
    "ReplicaPolicy",
    "Replicas",
    "Standby",
    "Token",
    "replayed_to",
    "standby_pool_options",
]

if TYPE_CHECKING:
    from tether.database import Database

T = TypeVar("T")


@frozen
class StandbyLag:
    replayed: int | None
    streaming: bool
    lag_seconds: float | None


# Bound here so that `tether check` holds the query to its record.
STANDBY_LAG = Q.standby_lag.returning(StandbyLag)

# A token read polls the standby: at once a few times (each poll is a round trip of
# 0.1-0.3 ms, about the usual lag), then every 1-2 ms (asyncio sleeps whole
# milliseconds) until `wait` is spent.
_QUICK_POLLS = 8
_MIN_SLEEP, _MAX_SLEEP = 0.001, 0.002


def _why(error: BaseException) -> str:
    """What went wrong, in the driver's or the server's words (never a DETAIL)."""
    message = primary_message(error)
    return f"{type(error).__name__}: {message}" if message else type(error).__name__


def _lost(error: BaseException, conn: asyncpg.Connection) -> bool:
    return closed(conn) or isinstance(translate(error, "standby"), ConnectionLost)


# A standby cancels a read that conflicts with replay (rows it must remove) with 40001:
# the read is fine anywhere else.
_CONFLICT_WITH_RECOVERY = "40001"
_STATEMENT_TIMEOUT = "57014"


def _fault(error: BaseException, conn: asyncpg.Connection, policy: ReplicaPolicy) -> str | None:
    """Why a statement's failure shows its standby unfit to serve now (it stopped
    answering, ran past read_timeout, or was lost), or None when the failure is the
    statement's own. A connection that stopped answering is closed here: asyncpg
    would wait for the cancel of its statement before handing it back."""
    # A Timeout without SQLSTATE is the client's: asyncpg's command_timeout, translated.
    client_side = isinstance(error, Timeout) and not isinstance(error, PoolExhausted)
    if isinstance(error, TimeoutError) or (client_side and not getattr(error, "sqlstate", "")):
        conn.terminate()
        return f"no answer within {policy.read_timeout + ANSWER_GRACE:g} s"
    if getattr(error, "sqlstate", None) == _STATEMENT_TIMEOUT:
        return f"a statement ran past read_timeout ({policy.read_timeout:g} s)"
    if isinstance(error, ConnectionLost):
        return f"lost during a read ({error})"
    if isinstance(error, DRIVER_ERRORS) and _lost(error, conn):
        return f"lost during a read ({_why(error)})"
    return None


class Reader:
    """Reads sent to the standbys, for repositories to run on like a pool:
    `UserRepository(db.replica(token)).get(id)`. Each call picks a usable standby
    (in turns), waits for the token there, and runs; a standby lost on the way, or
    silent past `read_timeout`, is marked down and the call runs elsewhere.
    `connection()` holds one connection for several statements."""

    __slots__ = ("_db", "_fallback", "_replicas", "_token", "_wait")

    def __init__(
        self,
        db: Database,
        replicas: Replicas,
        token: Token | None,
        *,
        fallback: Fallback,
        wait: float,
    ) -> None:
        self._db = db
        self._replicas = replicas
        self._token = token
        self._fallback = fallback
        self._wait = wait

    async def fetch(self, query: str, *args: Any) -> list[Any]:
        return await self._run(lambda conn: conn.fetch(query, *args))

    async def fetchrow(self, query: str, *args: Any) -> Any:
        return await self._run(lambda conn: conn.fetchrow(query, *args))

    async def fetchval(self, query: str, *args: Any) -> Any:
        return await self._run(lambda conn: conn.fetchval(query, *args))

    async def execute(self, query: str, *args: Any) -> str:
        return await self._run(lambda conn: conn.execute(query, *args))

    async def copy_records_to_table(self, table_name: str, **options: Any) -> str:
        return await self._run(lambda conn: conn.copy_records_to_table(table_name, **options))

    async def _run(self, call: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
        while not isinstance(found := await self._standby(), str):
            standby, conn, outages = found
            try:
                result = await call(conn)
            except DRIVER_ERRORS as error:
                if (fault := _fault(error, conn, standby.policy)) is not None:
                    standby.down(fault)
                    continue
                if getattr(error, "sqlstate", None) != _CONFLICT_WITH_RECOVERY:
                    raise
                found = f"{standby.name} cancelled the read (a conflict with replay)"
                break
            finally:
                await standby.release(conn)
            standby.serving(outages)
            self._replicas.counts.standby += 1
            return result
        async with self._primary(found) as conn:
            return await call(conn)

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[asyncpg.Connection]:
        """One connection for several reads: on a standby that has replayed the token,
        or read-only on the primary. A standby lost meanwhile, or silent past
        `read_timeout`, is marked down and the error (ConnectionLost, Timeout) raised:
        run the block again."""
        found = await self._standby()
        if isinstance(found, str):
            async with self._primary(found) as conn:
                yield conn
            return
        standby, conn, outages = found
        try:
            yield conn
        except (TetherError, *DRIVER_ERRORS) as error:
            if (fault := _fault(error, conn, standby.policy)) is not None:
                standby.down(fault)
            raise
        else:
            standby.serving(outages)
            self._replicas.counts.standby += 1
        finally:
            await standby.release(conn)

    def _primary(self, why: str) -> AbstractAsyncContextManager[asyncpg.Connection]:
        """The read's way to the primary, when no standby served it (`why`; empty when
        none was usable: the standbys' states say why)."""
        if self._fallback == "raise" and self._replicas.standbys:
            why = why or "; ".join(map(str, self._replicas.standbys))
            raise ReplicaUnavailable(f"replica: no standby can serve this read: {why}")
        self._replicas.counts.primary += 1
        return self._db.read_only_connection()

    async def _standby(self) -> tuple[Standby, asyncpg.Connection, int] | str:
        """A connection to a usable standby within max_lag that has replayed the token,
        with the standby's count of outages when the read began; else why there is
        none. A token ahead of the primary's WAL holds no standby connection."""
        token, replicas = self._token, self._replicas
        if (
            token is not None
            and replicas.standbys
            and await replicas.ahead_of_primary(token, self._db.token)
        ):
            return f"token {token} is ahead of the primary's WAL"
        for standby in replicas.rotation():
            outages = standby.outages
            try:
                conn = await standby.pool.acquire()
            except PoolExhausted:
                raise  # every connection to it busy: the standby is up
            except (TetherError, *DRIVER_ERRORS) as error:
                standby.down(f"cannot connect ({_why(error)})")
                continue
            waited = False
            try:
                why = await self._fresh(standby, conn)
                if why is None and token is not None:
                    waited = True
                    why = await self._caught_up(standby, conn, token)
            except DRIVER_ERRORS as error:
                fault = _fault(error, conn, standby.policy) or _why(error)
                await standby.release(conn)
                standby.down(f"failed while checking it ({fault})")
                continue
            except BaseException:
                await standby.release(conn)
                raise
            if why is None:
                return standby, conn, outages
            await standby.release(conn)
            if waited:
                return why  # the wait is spent: further standbys would wait again
        return ""

    async def _fresh(self, standby: Standby, conn: asyncpg.Connection) -> str | None:
        """None when a standby is within max_lag (measured at most every check_every),
        else why not. Reads with a token are held to it too: a token as old as 0/0
        asks for nothing, and must not reach a standby that lags without bound."""
        now = time.monotonic()
        if now - standby.checked_at < standby.policy.check_every:
            return None
        row = await conn.fetchrow(STANDBY_LAG.query.sql)
        state = STANDBY_LAG.record(*row)
        standby.checked_at = now
        if state.replayed is None:
            standby.down("it is not a standby (not in recovery)")
            return str(standby)
        standby.replayed = max(standby.replayed, state.replayed)
        lag = math.inf if state.lag_seconds is None else state.lag_seconds
        if lag <= standby.policy.max_lag:
            return None
        if state.streaming:
            behind = f"{lag:.3g} s behind"
        else:
            behind = (
                f"not streaming from the primary, its last replayed transaction {lag:.3g} s old"
            )
        standby.behind(f"{behind} (limit {standby.policy.max_lag:g} s)")
        return str(standby)

    async def _caught_up(
        self, standby: Standby, conn: asyncpg.Connection, token: Token
    ) -> str | None:
        """None when a standby has replayed `token` (polled for at most `wait`), else
        why not."""
        if token.lsn <= standby.replayed:
            return None
        counts = self._replicas.counts
        replayed = await replayed_to(conn, token.lsn, 0)
        if replayed is not None and replayed < token.lsn:
            counts.waited += 1
            replayed = await replayed_to(conn, token.lsn, self._wait)
        if replayed is None:
            standby.down("it is not a standby (not in recovery)")
            return str(standby)
        standby.replayed = max(standby.replayed, replayed)
        if replayed >= token.lsn:
            return None
        counts.timed_out += 1
        standby.behind(f"it had not replayed {token} after {self._wait:g} s")
        return str(standby)


async def replayed_to(conn: asyncpg.Connection, lsn: int, wait: float) -> int | None:
    """Poll a standby until it has replayed `lsn` or `wait` seconds have passed (one
    poll for 0); the last replay position seen, None on a server that is no standby."""
    deadline = time.monotonic() + wait
    polls, pause = 0, 0.0
    while True:
        replayed: int | None = await conn.fetchval(Q.replayed_lsn.sql)
        left = deadline - time.monotonic()
        if replayed is None or replayed >= lsn or left <= 0:
            return replayed
        polls += 1
        if polls >= _QUICK_POLLS:
            pause = min(max(pause * 2, _MIN_SLEEP), _MAX_SLEEP, left)
        await asyncio.sleep(pause)
