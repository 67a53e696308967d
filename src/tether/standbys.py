"""The state behind reads on hot standbys (tether.replicas): tokens, the policy, each
standby's pool and whether it serves now, and what this process knows of the
primary's WAL position."""

from __future__ import annotations

import asyncio
import logging
import math
import re
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import suppress
from typing import Any, Literal

import asyncpg
from attrs import Attribute, define, field, frozen

from tether.errors import InvalidValue, TetherError
from tether.translate import DRIVER_ERRORS

log = logging.getLogger("tether.replicas")

Fallback = Literal["primary", "raise"]

_LSN = re.compile(r"([0-9A-Fa-f]{1,8})/([0-9A-Fa-f]{1,8})")
_MAX_LSN = (1 << 64) - 1


def _a_wal_position(_: object, __: Attribute[int], lsn: int) -> None:
    if type(lsn) is not int or not 0 <= lsn <= _MAX_LSN:
        raise InvalidValue("replica token: a WAL position is an integer of 0 to 2**64 - 1")


@frozen(order=True)
class Token:
    """A position in the primary's WAL, taken after a write committed: the write is at
    or before it. `str(token)` is PostgreSQL's notation (`16/B374D848`), fit for a
    cookie or a header; `Token.parse` reads it back. Tokens compare by position, so
    `max(a, b)` is the later of two."""

    lsn: int = field(validator=_a_wal_position)

    def __str__(self) -> str:
        return f"{self.lsn >> 32:X}/{self.lsn & 0xFFFFFFFF:X}"

    @classmethod
    def parse(cls, text: str) -> Token:
        """The token `str(token)` wrote; InvalidValue for anything else."""
        match = _LSN.fullmatch(text.strip())
        if match is None:
            raise InvalidValue("replica token: not a WAL position such as 16/B374D848")
        return cls(int(match[1], 16) << 32 | int(match[2], 16))

    @classmethod
    def of(cls, value: object) -> Token | None:
        """A Token, its text or None, as `db.replica()` takes it; InvalidValue for
        anything else (an int, bytes, a list), at once rather than at the first read."""
        if value is None or isinstance(value, Token):
            return value
        if isinstance(value, str):
            return cls.parse(value)
        raise InvalidValue(
            f"replica token: a Token, its text (such as 16/B374D848) or None, "
            f"not {type(value).__name__}"
        )


@frozen
class ReplicaPolicy:
    """How reads sent to the standbys behave.

    - `wait`: how long a read with a token waits for a standby to replay it (s);
    - `max_lag`: a standby further behind than this is skipped by reads (s);
    - `fallback`: when no standby can serve a read, `"primary"` reads there,
      `"raise"` raises ReplicaUnavailable;
    - `retry_after`: a standby found down is tried again after this long (s);
    - `check_every`: how often a standby's lag is measured, at most (s);
    - `connect_timeout`: how long connecting to a standby may take (s);
    - `read_timeout`: how long a statement on a standby may take (s): the standby's
      `statement_timeout`, and (with `ANSWER_GRACE` more) the client's own bound for a
      standby that stops answering. Past it, the standby is marked down and the read
      runs elsewhere.
    """

    wait: float = 0.25
    max_lag: float = 1.0
    fallback: Fallback = "primary"
    retry_after: float = 5.0
    check_every: float = 1.0
    connect_timeout: float = 5.0
    read_timeout: float = 5.0


# How much longer than read_timeout the client waits for an answer: the standby's own
# statement_timeout should have ended the statement by then, so silence means it stalled.
ANSWER_GRACE = 0.5


def standby_pool_options(
    policy: ReplicaPolicy, pgbouncer: bool, settings: Mapping[str, str]
) -> dict[str, Any]:
    """asyncpg pool options for a standby: the connect timeout; every statement bounded
    by the client (asyncpg's command_timeout, which cancels it) and by the server
    (statement_timeout; not behind PgBouncer, which refuses settings at connect)."""
    options: dict[str, Any] = {
        "timeout": policy.connect_timeout,
        "command_timeout": policy.read_timeout + ANSWER_GRACE,
    }
    if not pgbouncer:
        limit = f"{max(1, round(policy.read_timeout * 1000))}ms"
        options["server_settings"] = {**settings, "statement_timeout": limit}
    return options


@define
class ReadCounts:
    """What the reads sent through `db.replica()` did, since the Database connected."""

    standby: int = 0  # served by a standby
    primary: int = 0  # served by the primary (no standby could, or none is configured)
    waited: int = 0  # found their token not yet replayed, and polled for it
    timed_out: int = 0  # of those, waited `wait` in vain


State = Literal["up", "down", "behind"]


class Standby:
    """One standby: its pool, and whether reads should use it now.

    The Database makes the pool with `connected` as its `init`, after `setup` (the
    codecs every tether connection has). An outage (down or behind, for whatever
    reasons, one after another) is logged once when it starts and once when a read
    begun after it started succeeds: a read begun before, which ends well after the
    standby was marked, says nothing about it now (`outages` tells them apart)."""

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
        self.outages = 0  # how many times it was marked down or behind

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
        self.outages += 1
        if self.state == "up":
            log.warning("standby %s: %s; reads go elsewhere, and it is %s", self.name, why, then)
        self.state = state

    def serving(self, outages_at_start: int) -> None:
        """A read begun when `outages` was `outages_at_start` succeeded here."""
        if self.state != "up" and outages_at_start == self.outages:
            log.info("standby %s: serving reads again", self.name)
            self.state = "up"

    def __str__(self) -> str:
        return f"{self.name} is {self.state}" + (f" ({self.why})" if self.state != "up" else "")

    async def release(self, conn: asyncpg.Connection) -> None:
        with suppress(*DRIVER_ERRORS):
            await self.pool.release(conn)


class Replicas:
    """The standbys of a Database, taken in turns, and the primary's WAL position as
    this process last heard it (every `db.token()` tells it)."""

    def __init__(self, standbys: list[Standby]) -> None:
        self.standbys = standbys
        self.counts = ReadCounts()
        self._turn = 0
        self.primary_lsn = 0
        self._primary_asked_at = -math.inf
        self._asking = asyncio.Lock()

    def primary_at(self, lsn: int, asked_at: float) -> None:
        """The primary's WAL position was `lsn` (asked at `asked_at`, time.monotonic)."""
        self.primary_lsn = max(self.primary_lsn, lsn)
        self._primary_asked_at = max(self._primary_asked_at, asked_at)

    async def ahead_of_primary(self, token: Token, ask: Callable[[], Awaitable[object]]) -> bool:
        """Whether `token` is beyond the primary's WAL position, which no standby will
        ever reach (forged, or from another cluster). The primary is asked (`ask`: one
        round trip, `db.token()`) only when the token is ahead of the last answer and
        came after that question was put: an honest token was taken before it came, so
        an answer asked later is at or past it. One question at a time; the readers
        waiting meanwhile share its answer. When the primary cannot answer, the token
        is given the benefit of the doubt (its read waits on a standby, bounded)."""
        if token.lsn <= self.primary_lsn:
            return False
        came = time.monotonic()
        async with self._asking:
            if token.lsn > self.primary_lsn and self._primary_asked_at < came:
                try:
                    await ask()
                except TetherError:
                    return False
        return token.lsn > self.primary_lsn

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
