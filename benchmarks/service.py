"""The service path: every scenario again, each operation on a pooled connection as a
service runs it, against the same operation on a connection held throughout.

A service calls repositories on a `Database`: each call takes a connection from the
pool and gives it back. bare asyncpg's pool does the same for `pool.fetchrow(...)`,
and by default resets the connection on its way back (one more round trip); with a
`reset` that does nothing it does not. The contenders, in one rotation:

- F, L: the held connections of the main table (bare asyncpg; tether);
- Fp: bare asyncpg's pool, default reset; Fp0: the same pool without a reset;
- Lp: tether's repositories on a `Database`.

Every pool holds POOL_SIZE connections, opened before the timing starts. The pooled
contenders run the held ones' code (`floor`, `tether`) on a copy of the scenario
whose connections are the pools (`pooled`); a contender's per-contender fixtures are
those of the code it runs.
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager

import asyncpg
from attrs import evolve, frozen

from tether import Database
from tether.database import init_connection
from tether.repository import Repository

from .harness import CONTENDERS, Contender, Scenario

POOL_SIZE = 4

SERVICE_CONTENDERS = (
    *(c for c in CONTENDERS if c.key in ("floor", "tether")),
    Contender("floor_pool", "Fp", "bare asyncpg's pool (4 connections), default reset"),
    Contender("floor_pool_bare", "Fp0", "bare asyncpg's pool (4 connections), no reset"),
    Contender("tether_pool", "Lp", "tether's repositories on a Database (4 connections)"),
)

# What results.json reports per scenario of the service path: name -> (top, bottom).
SERVICE_RATIOS = {
    "tether_pool_vs_tether": ("tether_pool", "tether"),
    "tether_pool_vs_floor_pool": ("tether_pool", "floor_pool"),
    "tether_pool_vs_floor_pool_bare": ("tether_pool", "floor_pool_bare"),
    "floor_pool_vs_floor": ("floor_pool", "floor"),
}


@frozen
class Pools:
    reset: asyncpg.Pool
    bare: asyncpg.Pool
    database: Database


async def _no_reset(conn: asyncpg.Connection) -> None:
    return None


@asynccontextmanager
async def pools(url: str) -> AsyncIterator[Pools]:
    """The three pools, each with POOL_SIZE connections set up as tether sets up its own."""
    async with AsyncExitStack() as stack:
        sized = {"min_size": POOL_SIZE, "max_size": POOL_SIZE, "init": init_connection}
        reset = await stack.enter_async_context(asyncpg.create_pool(url, **sized))
        bare = await stack.enter_async_context(asyncpg.create_pool(url, reset=_no_reset, **sized))
        database = await stack.enter_async_context(
            Database(url, min_size=POOL_SIZE, max_size=POOL_SIZE)
        )
        yield Pools(reset, bare, database)


def on_pools(scenarios: Sequence[Scenario], found: Pools) -> None:
    """Give every scenario its pooled copies (`Scenario.pooled`)."""
    for scenario in scenarios:
        scenario.pooled = {
            "floor_pool": _copy(scenario, floor=found.reset),
            "floor_pool_bare": _copy(scenario, floor=found.bare),
            "tether_pool": _copy(scenario, database=found.database),
        }


def _copy(
    scenario: Scenario, *, floor: asyncpg.Pool | None = None, database: Database | None = None
) -> Scenario:
    """The scenario with its floor on `floor`, or its repositories on `database`."""
    twin = copy.copy(scenario)
    if floor is not None:
        twin.db = evolve(scenario.db, floor=floor)
    if database is not None:
        held = scenario.db.tether
        for name, value in vars(scenario).items():
            if isinstance(value, Repository) and value._db is held:
                pooled = copy.copy(value)
                pooled._db = database.statements  # as Repository(database) binds it
                setattr(twin, name, pooled)
    return twin
