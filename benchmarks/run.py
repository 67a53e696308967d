"""One benchmark run: a fresh database, migrations, fixtures, every domain's scenarios.

The database (`tether_bench` unless told otherwise) is dropped and created on the
server of `$DATABASE_URL`, or on the embedded server, then migrated with the
project's own migrations. Everything before the timed rounds is untimed.
"""

from __future__ import annotations

import cProfile
import datetime as dt
import io
import os
import platform
import pstats
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from importlib.metadata import version
from typing import Any

import asyncpg
import sqlalchemy
from attrs import frozen
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from tether import admin, embedded
from tether.database import configured_url, init_connection

from . import planner
from .harness import CONTENDERS, Connections, Orm, Outcome, Progress, Scenario, measure
from .planner.fixtures import B, History
from .planner.orm import mapped


@frozen
class Mode:
    name: str
    rounds: int
    light_ops: int  # operations per contender per round, for the fast scenarios
    heavy_ops: int  # and for the bulk insert and the cascade delete
    planner: planner.Sizes


# ~50,000 rows: 20 subjects, 50 generations of 20 day plans with 49 tasks each, 50 feedback.
VICTIM = History(subjects=20, generations=50, days=20, tasks_per_day=49)

MODES = {
    # Rounds in fours: each contender takes each place in the order equally often.
    "full": Mode("full", 8, 1000, 3, planner.Sizes(200, 100, 100, VICTIM)),
    "quick": Mode("quick", 4, 250, 1, planner.Sizes(50, 100, 100, VICTIM)),
    # The test suite's: every scenario for real, tiny data; its numbers mean nothing.
    "smoke": Mode("smoke", 1, 3, 1, planner.Sizes(3, 10, 10, History(3, 4, 5, 8))),
}


async def _connect(url: str) -> asyncpg.Connection:
    """A connection set up as tether's pool sets up each of its connections."""
    conn = await asyncpg.connect(url)
    await init_connection(conn)
    return conn


async def _orm(engine: AsyncEngine, *, tuned: bool) -> Orm:
    connection = await engine.connect()
    return Orm(
        connection=connection,
        session=async_sessionmaker(bind=connection, expire_on_commit=False),
        models=mapped(passive_deletes=tuned),
    )


@asynccontextmanager
async def connections(url: str) -> AsyncIterator[Connections]:
    async with AsyncExitStack() as stack:

        async def connected(conn: asyncpg.Connection) -> asyncpg.Connection:
            stack.push_async_callback(conn.close)
            return conn

        engine = create_async_engine(
            "postgresql+asyncpg://",
            async_creator=lambda: asyncpg.connect(url),
            pool_size=2,
            max_overflow=0,
        )
        stack.push_async_callback(engine.dispose)
        orm, orm_tuned = await _orm(engine, tuned=False), await _orm(engine, tuned=True)
        stack.push_async_callback(orm.connection.close)
        stack.push_async_callback(orm_tuned.connection.close)
        yield Connections(
            floor=await connected(await _connect(url)),
            tether=await connected(await _connect(url)),
            orm=orm,
            orm_tuned=orm_tuned,
            setup=await connected(await _connect(url)),
        )


async def versions(conn: asyncpg.Connection) -> dict[str, str]:
    server = await conn.fetchrow(B.versions.sql)
    return {
        "postgresql": server["postgresql"],
        "pgvector": server["pgvector"],
        "asyncpg": asyncpg.__version__,
        "sqlalchemy": sqlalchemy.__version__,
        "python": platform.python_version(),
        "tether": version("tether"),
    }


async def _scenarios(db: Connections, mode: Mode) -> list[Scenario]:
    """Every domain's scenarios (study and tickets join here as they land)."""
    found = await planner.scenarios(db, mode.planner)
    await db.setup.execute(B.vacuum_analyze.sql)
    return found


async def run(
    mode: Mode, *, database: str, progress: Progress, server_url: str | None = None
) -> dict[str, Any]:
    """Set up, measure every scenario, and return the results (as results.json holds them)."""
    started = time.monotonic()
    server_url = server_url or configured_url() or embedded.start()
    async with (
        admin.scratch_database(server_url, database, migrated=True) as url,
        connections(url) as db,
    ):
        found = await _scenarios(db, mode)
        progress(f"fixtures loaded in {time.monotonic() - started:.0f} s")
        outcomes = await measure(
            found,
            rounds=mode.rounds,
            light_ops=mode.light_ops,
            heavy_ops=mode.heavy_ops,
            progress=progress,
        )
        found_versions = await versions(db.setup)
    return results(mode, outcomes, found_versions, time.monotonic() - started)


def results(
    mode: Mode, outcomes: list[Outcome], found_versions: dict[str, str], seconds: float
) -> dict[str, Any]:
    return {
        "mode": mode.name,
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "rounds": mode.rounds,
        "duration_s": round(seconds, 1),
        "versions": found_versions,
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "contenders": {c.key: {"label": c.label, "what": c.what} for c in CONTENDERS},
        "scenarios": {
            o.name: {
                "what": o.what,
                "operations_per_round": o.operations,
                **{
                    name: {"median": s.median, "min": s.min, "max": s.max}
                    for name, s in o.ratios.items()
                },
                "median_us": o.medians_us,
                "round_trips": o.round_trips,
            }
            for o in outcomes
        },
    }


async def profile_tether(mode: Mode, *, database: str, operations: int, top: int) -> str:
    """cProfile around tether's (L's) operations only; the functions that cost most."""
    server_url = configured_url() or embedded.start()
    profiler = cProfile.Profile()
    async with (
        admin.scratch_database(server_url, database, migrated=True) as url,
        connections(url) as db,
    ):
        for scenario in await _scenarios(db, mode):
            count = max(1, operations // 100) if scenario.heavy else operations
            for number in range(count):
                argument = await scenario.argument("tether", number)
                profiler.enable()
                await scenario.tether(argument)
                profiler.disable()
                await scenario.clean(argument)
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(top)
    return out.getvalue()
