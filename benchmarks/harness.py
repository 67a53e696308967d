"""The measuring loop, independent of any domain: contenders, scenarios, rounds, ratios.

A scenario is one operation written four times, once per contender. Each round
runs every scenario with the contenders in a rotated order, taking turns every
few operations; a contender's time in a round is the median of its operations
there; the ratios (tether to floor, ORM to tether) are taken per round, and a
scenario reports their median with the lowest and highest round. Round trips
are counted on an untimed run after the warm-up, so counting never weighs on a
timing.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

import asyncpg
from attrs import frozen
from sqlalchemy.ext.asyncio import AsyncConnection, async_sessionmaker

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
        held = getattr(self, contender)
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


async def _once(scenario: Scenario, contender: str, number: int) -> int:
    """Prepare, run and clean up one operation; return how long the run alone took (ns)."""
    argument = await scenario.argument(SERVICE_CODE.get(contender, contender), number)
    operation = scenario.operation(contender)
    start = time.perf_counter_ns()
    await operation(argument)
    elapsed = time.perf_counter_ns() - start
    await scenario.clean(argument)
    return elapsed


async def _count_round_trips(scenario: Scenario, contender: str, number: int) -> int:
    argument = await scenario.argument(contender, number)
    with counting(await scenario.db.driver(contender)) as counter:
        await scenario.operation(contender)(argument)
    await scenario.clean(argument)
    return counter.count


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
) -> list[Outcome]:
    """Every scenario by every contender, in rotated order, over `rounds` rounds. Round
    trips are counted for contenders on a connection of their own (not on a pool).
    Operations are numbered from `first_number` (a second pass on the same fixtures
    starts past the first's)."""
    keys = [c.key for c in contenders]
    round_trips: dict[str, dict[str, int]] = {s.name: {} for s in scenarios}
    for scenario in scenarios:
        for key in keys:
            await _once(scenario, key, first_number)  # warm-up: caches, compiled SQL
            if key not in SERVICE_CODE:
                round_trips[scenario.name][key] = await _count_round_trips(
                    scenario, key, first_number + 1
                )
        progress(f"warmed up {scenario.name}: round trips {round_trips[scenario.name]}")

    # per scenario, per contender: the median operation time (ns) of each round
    per_round: dict[str, dict[str, list[float]]] = {
        s.name: {key: [] for key in keys} for s in scenarios
    }
    gc.freeze()  # what setup and warm-up made stays out of every collection from here on
    for round_number in range(rounds):
        order = rotated(keys, round_number)
        for scenario in scenarios:
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
        progress(f"round {round_number + 1}/{rounds} done (order {' '.join(order)})")
    gc.unfreeze()

    outcomes = []
    for scenario in scenarios:
        times = per_round[scenario.name]
        outcomes.append(
            Outcome(
                name=scenario.name,
                what=scenario.what,
                operations=heavy_ops if scenario.heavy else light_ops,
                medians_us={key: statistics.median(times[key]) / 1000 for key in keys},
                round_trips=round_trips[scenario.name],
                ratios={
                    ratio: Spread.of(
                        [a / b for a, b in zip(times[top], times[bottom], strict=True)]
                    )
                    for ratio, (top, bottom) in ratios.items()
                },
            )
        )
    return outcomes
