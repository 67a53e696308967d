"""Reads on hot standbys, with read-your-writes.

    db = Database(primary_url, replicas=[standby_url])   # or $DATABASE_REPLICA_URL
    user = await UserRepository(db).create(...)          # writes: always the primary
    token = await db.token()                             # str(token) fits a cookie
    reader = db.replica(token)                           # what repositories read through
    await UserRepository(reader).get(user.id)            # a standby that has replayed token

Nothing reaches a standby unless it is sent through `db.replica()`. A read given a
token runs on a standby once `pg_last_wal_replay_lsn()` there has passed it, after
waiting at most `ReplicaPolicy.wait`; a read without one may be stale by the
standby's lag. A standby that is down, or further behind than `max_lag`, is skipped
(logged once when that starts, once when it ends). When no standby can serve a read,
it goes to the primary, or raises ReplicaUnavailable (`fallback="raise"`). Reads
that reach the primary through a reader run read-only there too: a write sent
through a reader fails as ReadOnly (SQLSTATE 25006) wherever it lands.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, suppress
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import asyncpg
from attrs import define, frozen

from tether.catalog import Q
from tether.errors import (
    ConnectionLost,
    InvalidValue,
    PoolExhausted,
    ReplicaUnavailable,
    TetherError,
)
from tether.translate import DRIVER_ERRORS, closed, primary_message, translate

if TYPE_CHECKING:
    from tether.database import Database

log = logging.getLogger("tether.replicas")

Fallback = Literal["primary", "raise"]
T = TypeVar("T")

_LSN = re.compile(r"([0-9A-Fa-f]{1,8})/([0-9A-Fa-f]{1,8})")


@frozen(order=True)
class Token:
    """A position in the primary's WAL, taken after a write committed: the write is at
    or before it. `str(token)` is PostgreSQL's notation (`16/B374D848`), fit for a
    cookie or a header; `Token.parse` reads it back. Tokens compare by position, so
    `max(a, b)` is the later of two."""

    lsn: int

    def __str__(self) -> str:
        return f"{self.lsn >> 32:X}/{self.lsn & 0xFFFFFFFF:X}"

    @classmethod
    def parse(cls, text: str) -> Token:
        """The token `str(token)` wrote; InvalidValue for anything else."""
        match = _LSN.fullmatch(text.strip())
        if match is None:
            raise InvalidValue("replica token: not a WAL position such as 16/B374D848")
        return cls(int(match[1], 16) << 32 | int(match[2], 16))


@frozen
class ReplicaPolicy:
    """How reads sent to the standbys behave.

    - `wait`: how long a read with a token waits for a standby to replay it (s);
    - `max_lag`: a standby further behind than this is skipped by reads (s);
    - `fallback`: when no standby can serve a read, `"primary"` reads there,
      `"raise"` raises ReplicaUnavailable;
    - `retry_after`: a standby found down is tried again after this long (s);
    - `check_every`: how often a standby's lag is measured, at most (s);
    - `connect_timeout`: how long connecting to a standby may take (s).
    """

    wait: float = 0.25
    max_lag: float = 1.0
    fallback: Fallback = "primary"
    retry_after: float = 5.0
    check_every: float = 1.0
    connect_timeout: float = 5.0


@define
class ReadCounts:
    """What the reads sent through `db.replica()` did, since the Database connected."""

    standby: int = 0  # served by a standby
    primary: int = 0  # served by the primary (no standby could, or none is configured)
    waited: int = 0  # found their token not yet replayed, and polled for it
    timed_out: int = 0  # of those, waited `wait` in vain


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

State = Literal["up", "down", "behind"]


class Standby:
    """One standby: its pool, and whether reads should use it now.

    The Database makes the pool with `connected` as its `init`, after `setup` (the
    codecs every tether connection has)."""

    pool: asyncpg.Pool

    def __init__(
        self,
        name: str,
        policy: ReplicaPolicy,
        setup: Callable[[asyncpg.Connection], Awaitable[None]],
    ) -> None:
        self.name = name  # its URL without a password
        self.policy = policy
        self._setup = setup
        self.state: State = "up"
        self.why = ""  # what made it down or behind
        self.until = 0.0  # when down or behind: skipped until then (time.monotonic)
        self.checked_at = -math.inf  # when its lag was last measured
        self.replayed = 0  # the furthest replay position seen since it last came up

    async def connected(self, conn: asyncpg.Connection) -> None:
        await self._setup(conn)
        # A new connection may reach a standby restarted meanwhile, which may show
        # less than it had replayed before (it replays again from a restartpoint).
        self.replayed = 0

    def usable(self, now: float) -> bool:
        return self.state == "up" or now >= self.until

    def down(self, why: str) -> None:
        self.replayed, self.checked_at = 0, -math.inf
        self._mark(
            "down",
            why,
            self.policy.retry_after,
            f"tried again every {self.policy.retry_after:g} s",
        )

    def behind(self, why: str) -> None:
        self._mark("behind", why, self.policy.check_every, "skipped until it catches up")

    def _mark(self, state: State, why: str, seconds: float, then: str) -> None:
        self.until = time.monotonic() + seconds
        self.why = why
        if state != self.state:
            log.warning("standby %s: %s; reads go elsewhere, and it is %s", self.name, why, then)
            self.state = state

    def serving(self) -> None:
        if self.state != "up":
            log.info("standby %s: serving reads again", self.name)
            self.state = "up"

    def __str__(self) -> str:
        return f"{self.name} is {self.state}" + (f" ({self.why})" if self.state != "up" else "")

    async def release(self, conn: asyncpg.Connection) -> None:
        with suppress(*DRIVER_ERRORS):
            await self.pool.release(conn)


class Replicas:
    """The standbys of a Database, taken in turns."""

    def __init__(self, standbys: list[Standby]) -> None:
        self.standbys = standbys
        self.counts = ReadCounts()
        self._turn = 0

    def rotation(self) -> Iterator[Standby]:
        """The standbys usable now, starting with the next one's turn."""
        count = len(self.standbys)
        if not count:
            return
        self._turn = (self._turn + 1) % count
        now = time.monotonic()
        for offset in range(count):
            standby = self.standbys[(self._turn + offset) % count]
            if standby.usable(now):
                yield standby


def _why(error: BaseException) -> str:
    """What went wrong, in the driver's or the server's words (never a DETAIL)."""
    message = primary_message(error)
    return f"{type(error).__name__}: {message}" if message else type(error).__name__


def _lost(error: BaseException, conn: asyncpg.Connection) -> bool:
    return closed(conn) or isinstance(translate(error, "standby"), ConnectionLost)


# A standby cancels a read that conflicts with replay (rows it must remove) with 40001:
# the read is fine anywhere else.
_CONFLICT_WITH_RECOVERY = "40001"


class Reader:
    """Reads sent to the standbys, for repositories to run on like a pool:
    `UserRepository(db.replica(token)).get(id)`. Each call picks a usable standby
    (in turns), waits for the token there, and runs; a standby lost on the way is
    marked down and the call runs elsewhere. `connection()` holds one connection
    for several statements."""

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
            standby, conn = found
            try:
                result = await call(conn)
            except DRIVER_ERRORS as error:
                if _lost(error, conn):
                    standby.down(f"lost during a read ({_why(error)})")
                    continue
                if getattr(error, "sqlstate", None) != _CONFLICT_WITH_RECOVERY:
                    raise
                found = f"{standby.name} cancelled the read (a conflict with replay)"
                break
            finally:
                await standby.release(conn)
            standby.serving()
            self._replicas.counts.standby += 1
            return result
        async with self._primary(found) as conn:
            return await call(conn)

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[asyncpg.Connection]:
        """One connection for several reads: on a standby that has replayed the token,
        or read-only on the primary. A standby lost meanwhile raises ConnectionLost
        (and is marked down): run the block again."""
        found = await self._standby()
        if isinstance(found, str):
            async with self._primary(found) as conn:
                yield conn
            return
        standby, conn = found
        try:
            yield conn
        except DRIVER_ERRORS as error:
            if _lost(error, conn):
                standby.down(f"lost during a read ({_why(error)})")
            raise
        except ConnectionLost as error:
            standby.down(f"lost during a read ({error})")
            raise
        else:
            standby.serving()
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

    async def _standby(self) -> tuple[Standby, asyncpg.Connection] | str:
        """A connection to a usable standby that has replayed the token (or, without
        one, lags less than max_lag); else why there is none."""
        for standby in self._replicas.rotation():
            try:
                conn = await standby.pool.acquire()
            except PoolExhausted:
                raise
            except (TetherError, *DRIVER_ERRORS) as error:
                standby.down(f"cannot connect ({_why(error)})")
                continue
            try:
                why = await (
                    self._fresh(standby, conn)
                    if self._token is None
                    else self._caught_up(standby, conn, self._token)
                )
            except DRIVER_ERRORS as error:
                await standby.release(conn)
                standby.down(f"lost while checking it ({_why(error)})")
                continue
            except BaseException:
                await standby.release(conn)
                raise
            if why is None:
                return standby, conn
            await standby.release(conn)
            if self._token is not None:
                return why  # the wait is spent: further standbys would wait again
        return ""

    async def _fresh(self, standby: Standby, conn: asyncpg.Connection) -> str | None:
        """None when a standby is within max_lag (measured at most every check_every),
        else why not."""
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
        if await self._db.token() < token:
            # Forged, or from another cluster: no standby will ever reach it, and the
            # standby is not to blame.
            return f"token {token} is ahead of the primary's WAL"
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
