"""The measuring loop, independent of any domain: contenders, scenarios, rounds, ratios.

A scenario is one operation written four times, once per contender. Each round
runs every scenario with the contenders in a rotated order, taking turns every
few operations; a contender's time in a round is the median of its operations
there; the ratios (tether to floor, ORM to tether) are taken per round, and a
scenario reports their median with the lowest and highest round. Round trips
are counted on an untimed run after the warm-up, so counting never weighs on a
timing.

Scoped (`measure(..., scoped=True)`, issue 16): each scenario that says whose rows an
operation touches (`Scenario.tenant`) also runs as two more contenders on tether's
connection, each operation inside an open transaction (begun, and committed, untimed):
as the owner (Lt), and scoped to that tenant as `db.tenant()` does it (Ls: the role
tether_service under row-level security). Ls/Lt is what the policies cost a query.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from attrs import frozen
from sqlalchemy.ext.asyncio import AsyncConnection, async_sessionmaker

from tether.catalog import Q
from tether.database import TenantKey, tenant_setting

from .roundtrips import counting


@frozen
class Contender:
    key: str
    label: str
    what: str


CONTENDERS = (
    Contender("floor", "F", "bare asyncpg running the SQL text tether sends; raw Records"),
    Contender("tether", "L", "tether's repositories; attrs records"),
    Contender("orm", "O1", "SQLAlchemy 2 async ORM, mapped and used as seed 001 does"),
    Contender("orm_tuned", "O2", "SQLAlchemy 2 async ORM, tuned (passive_deletes, insert())"),
)

# What results.json reports per scenario: name -> (numerator, denominator).
RATIOS = {
    "tether_vs_floor": ("tether", "floor"),
    "orm_vs_tether": ("orm", "tether"),
    "orm_tuned_vs_tether": ("orm_tuned", "tether"),
}

# Scoped mode's contenders: tether's operation inside an open transaction, unscoped and
# scoped; both run scenario.tether on tether's connection, with tether's arguments.
SCOPED_CONTENDERS = (
    Contender("tether_tx", "Lt", "tether's repositories in an open transaction, as the owner"),
    Contender(
        "tether_scoped",
        "Ls",
        "tether's repositories in an open db.tenant() transaction (row-level security)",
    ),
)
SCOPED_RATIOS = {"scoped_vs_unscoped": ("tether_scoped", "tether_tx")}


@frozen
class Orm:
    """One SQLAlchemy contender: sessions bound to its one connection. `tuned` picks the
    mapping a domain's scenarios use: the seed's own, or the tuned one."""

    connection: AsyncConnection
    session: async_sessionmaker[Any]
    tuned: bool


@frozen
class Figure:
    """A measure other than the four contenders' latencies, side by side for whatever
    it compares: jobs per second against dedicated queues, recall, peak memory.

    `values` maps each contender's label to its figure in `unit`; `goal` says in words
    what the figure should show, and `met` whether this run shows it (None: no goal).
    """

    domain: str
    name: str
    what: str
    unit: str
    values: dict[str, float]
    goal: str = ""
    met: bool | None = None
    note: str = ""


@frozen
class Connections:
    """One connection per contender, and one more for untimed setup."""

    floor: asyncpg.Connection
    tether: asyncpg.Connection
    orm: Orm
    orm_tuned: Orm
    setup: asyncpg.Connection

    async def driver(self, contender: str) -> asyncpg.Connection:
        """The asyncpg connection under `contender`, where its round trips are counted."""
        held = self.tether if contender in _SCOPED_KEYS else getattr(self, contender)
        if isinstance(held, Orm):
            raw = await held.connection.get_raw_connection()
            return raw.driver_connection
        return held


class Scenario:
    """One operation as each contender does it.

    Subclasses set `name`, `what` and `heavy` (true for operations that take a
    large fraction of a second: fewer of them run per round), and write the
    timed `floor`, `tether` and `orm` (the last serves both SQLAlchemy
    contenders unless `orm_tuned` is written too). `argument` prepares one
    operation and `clean` undoes what it left behind; both are untimed.
    """

    name: str
    what: str
    heavy = False

    def __init__(self, connections: Connections) -> None:
        self.db = connections

    async def argument(self, contender: str, number: int) -> Any:
        return number

    def tenant(self, argument: Any) -> TenantKey | None:
        """The tenant whose rows the operation on `argument` touches, for scoped mode.
        A scenario that does not write this method is a flow that runs before a
        tenant is known (sign-up, sign-in by e-mail): not run scoped."""
        return None

    async def clean(self, argument: Any) -> None:
        return None

    async def floor(self, argument: Any) -> object:
        raise NotImplementedError

    async def tether(self, argument: Any) -> object:
        raise NotImplementedError

    async def orm(self, orm: Orm, argument: Any) -> object:
        raise NotImplementedError

    async def orm_tuned(self, orm: Orm, argument: Any) -> object:
        return await self.orm(orm, argument)

    # The same scenario on pooled connections, by contender (benchmarks/service.py).
    pooled: dict[str, Scenario]

    def operation(self, contender: str) -> Callable[[Any], Any]:
        if contender in getattr(self, "pooled", {}):
            return self.pooled[contender].operation(SERVICE_CODE[contender])
        if contender in _SCOPED_KEYS:
            return self.tether
        if contender in ("orm", "orm_tuned"):
            orm: Orm = getattr(self.db, contender)
            method = getattr(self, contender)
            return lambda argument: method(orm, argument)
        return getattr(self, contender)


@frozen
class Spread:
    median: float
    min: float
    max: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Spread:
        return cls(statistics.median(values), min(values), max(values))


@frozen
class Outcome:
    """One scenario's result over every round."""

    name: str
    what: str
    operations: int  # per contender per round
    medians_us: dict[str, float]
    round_trips: dict[str, int]
    ratios: dict[str, Spread]


Progress = Callable[[str], None]

# Within a round, the contenders take turns every SLICE operations, so that a burst of
# load from elsewhere on the machine falls on all of them rather than on one.
SLICE = 10


# The service path's contenders run the code of these (benchmarks/service.py).
SERVICE_CODE = {"floor_pool": "floor", "floor_pool_bare": "floor", "tether_pool": "tether"}

_SCOPED_KEYS = tuple(c.key for c in SCOPED_CONTENDERS)


@asynccontextmanager
async def _around(scenario: Scenario, contender: str, argument: Any) -> AsyncIterator[None]:
    """Untimed, around one operation: for the scoped mode's contenders, an open
    transaction on tether's connection (scoped to the operation's tenant for Ls)."""
    if contender not in _SCOPED_KEYS:
        yield
        return
    conn = scenario.db.tether
    transaction = conn.transaction()
    await transaction.start()
    try:
        if contender == "tether_scoped":
            await conn.fetchval(Q.scope_to_tenants.sql, tenant_setting([scenario.tenant(argument)]))
        yield
    except BaseException:
        await transaction.rollback()
        raise
    await transaction.commit()


def _argument_of(contender: str) -> str:
    """Whose arguments a contender takes: the scoped mode's take tether's, the service
    path's those of the code they run."""
    if contender in _SCOPED_KEYS:
        return "tether"
    return SERVICE_CODE.get(contender, contender)


async def _once(scenario: Scenario, contender: str, number: int) -> int:
    """Prepare, run and clean up one operation; return how long the run alone took (ns)."""
    argument = await scenario.argument(_argument_of(contender), number)
    operation = scenario.operation(contender)
    async with _around(scenario, contender, argument):
        start = time.perf_counter_ns()
        await operation(argument)
        elapsed = time.perf_counter_ns() - start
    await scenario.clean(argument)
    return elapsed


async def _count_round_trips(scenario: Scenario, contender: str, number: int) -> int:
    argument = await scenario.argument(_argument_of(contender), number)
    async with _around(scenario, contender, argument):
        with counting(await scenario.db.driver(contender)) as counter:
            await scenario.operation(contender)(argument)
    await scenario.clean(argument)
    return counter.count


def _scopable(scenario: Scenario) -> bool:
    """Whether the scenario names its operations' tenants (writes its own `tenant`)."""
    return type(scenario).tenant is not Scenario.tenant


def rotated(items: Sequence[Any], by: int) -> list[Any]:
    shift = by % len(items)
    return [*items[shift:], *items[:shift]]


async def measure(
    scenarios: Sequence[Scenario],
    *,
    rounds: int,
    light_ops: int,
    heavy_ops: int,
    progress: Progress,
    contenders: Sequence[Contender] = CONTENDERS,
    ratios: dict[str, tuple[str, str]] = RATIOS,
    first_number: int = 0,
    scoped: bool = False,
) -> list[Outcome]:
    """Every scenario by every contender, in rotated order, over `rounds` rounds (and,
    `scoped`, the scoped mode's two more where a scenario names its tenants). Round
    trips are counted for contenders on a connection of their own (not on a pool).
    Operations are numbered from `first_number` (a second pass on the same fixtures
    starts past the first's)."""
    base = [c.key for c in contenders]
    keys_of = {
        s.name: base + list(_SCOPED_KEYS) if scoped and _scopable(s) else base for s in scenarios
    }
    round_trips: dict[str, dict[str, int]] = {s.name: {} for s in scenarios}
    for scenario in scenarios:
        keys = keys_of[scenario.name]
        for key in keys:
            await _once(scenario, key, first_number)  # warm-up: caches, compiled SQL
            if key not in SERVICE_CODE:
                round_trips[scenario.name][key] = await _count_round_trips(
                    scenario, key, first_number + 1
                )
        progress(f"warmed up {scenario.name}: round trips {round_trips[scenario.name]}")

    # per scenario, per contender: the median operation time (ns) of each round
    per_round: dict[str, dict[str, list[float]]] = {
        s.name: {key: [] for key in keys_of[s.name]} for s in scenarios
    }
    gc.freeze()  # what setup and warm-up made stays out of every collection from here on
    for round_number in range(rounds):
        for scenario in scenarios:
            keys = keys_of[scenario.name]
            order = rotated(keys, round_number)
            count = heavy_ops if scenario.heavy else light_ops
            step = 1 if scenario.heavy else SLICE
            samples: dict[str, list[int]] = {key: [] for key in keys}
            for first in range(0, count, step):
                for key in order:
                    gc.collect()  # leave no other contender's garbage to this one's timing
                    for number in range(first, min(first + step, count)):
                        argument_number = first_number + 2 + round_number * count + number
                        samples[key].append(await _once(scenario, key, argument_number))
            for key in keys:
                per_round[scenario.name][key].append(statistics.median(samples[key]))
        order = rotated(base, round_number)
        progress(f"round {round_number + 1}/{rounds} done (order {' '.join(order)})")
    gc.unfreeze()

    outcomes = []
    for scenario in scenarios:
        times = per_round[scenario.name]
        named = ratios | (SCOPED_RATIOS if "tether_scoped" in times else {})
        outcomes.append(
            Outcome(
                name=scenario.name,
                what=scenario.what,
                operations=heavy_ops if scenario.heavy else light_ops,
                medians_us={key: statistics.median(values) / 1000 for key, values in times.items()},
                round_trips=round_trips[scenario.name],
                ratios={
                    ratio: Spread.of(
                        [a / b for a, b in zip(times[top], times[bottom], strict=True)]
                    )
                    for ratio, (top, bottom) in named.items()
                },
            )
        )
    return outcomes
