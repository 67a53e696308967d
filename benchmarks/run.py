"""One benchmark run: a fresh database, migrations, fixtures, every domain's scenarios.

The database (`tether_bench` unless told otherwise) is dropped and created on the
server of `$DATABASE_URL`, or on the embedded server, then migrated with the
project's own migrations. Everything before the timed rounds is untimed.

Each domain of tether.domains brings a package `benchmarks/<domain>/`: `SIZES` by
mode, `scenarios(connections, sizes)` for the four contenders, and optionally
`figures(server_url, mode, progress)` for measures of its own, taken after the
scenarios (each in databases of its own: job queues side by side, recall...).
With `replicas`, the figures of benchmarks/replicas.py (reads on a hot standby)
are taken last. With `scoped`, every scenario that names its tenant also runs inside
an open transaction, unscoped and scoped (benchmarks/harness.py), and the figures of
benchmarks/tenancy.py are taken: what scoping a request costs by itself, and what a
derived tenant key costs a single insert.
"""

from __future__ import annotations

import cProfile
import datetime as dt
import io
import os
import platform
import pstats
import time
from collections.abc import AsyncIterator, Iterable
from contextlib import AsyncExitStack, asynccontextmanager
from importlib.metadata import version
from pathlib import Path
from types import ModuleType
from typing import Any

import asyncpg
import attrs
import sqlalchemy
from attrs import frozen
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from tether import admin, embedded, queries
from tether import domains as registry
from tether.database import configured_url, init_connection

from . import tenancy
from .harness import (
    CONTENDERS,
    Connections,
    Figure,
    Orm,
    Outcome,
    Progress,
    Scenario,
    measure,
)
from .service import SERVICE_CONTENDERS, SERVICE_RATIOS, on_pools, pools

B = queries.load_folder(Path(__file__).resolve().parent / "sql", "bench")


@frozen
class Mode:
    name: str
    rounds: int
    light_ops: int  # operations per contender per round, for the fast scenarios
    heavy_ops: int  # and for the heavy ones (bulk writes, cascade deletes)


MODES = {
    # Rounds in fours: each contender takes each place in the order equally often.
    "full": Mode("full", 8, 1000, 3),
    "quick": Mode("quick", 4, 250, 1),
    # The test suite's: every scenario for real, tiny data; its numbers mean nothing.
    "smoke": Mode("smoke", 1, 3, 1),
}


def packages(domains: Iterable[str] | None = None) -> list[ModuleType]:
    """The benchmark package of each chosen domain (default: all), in registry order."""
    return [domain.module(within="benchmarks") for domain in registry.select(domains)]


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
        tuned=tuned,
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


async def _scenarios(db: Connections, mode: Mode, chosen: list[ModuleType]) -> list[Scenario]:
    """The chosen domains' scenarios, their fixtures loaded and analyzed; each named
    `<domain>.<scenario>` in the results."""
    found = []
    for package in chosen:
        domain = package.__name__.rpartition(".")[2]
        for scenario in await package.scenarios(db, package.SIZES[mode.name]):
            scenario.name = f"{domain}.{scenario.name}"
            found.append(scenario)
    await db.setup.execute(B.vacuum_analyze.sql)
    return found


async def run(
    mode: Mode,
    *,
    database: str,
    progress: Progress,
    server_url: str | None = None,
    domains: Iterable[str] | None = None,
    replicas: bool = False,
    scoped: bool = False,
) -> dict[str, Any]:
    """Set up, measure every scenario and figure of the chosen domains (default: all),
    scoped too when asked, and the replica figures when asked, and return the results
    (as results.json holds them)."""
    started = time.monotonic()
    server_url = server_url or configured_url() or embedded.start()
    chosen = packages(domains)
    async with (
        admin.scratch_database(server_url, database, migrated=True) as url,
        connections(url) as db,
    ):
        found = await _scenarios(db, mode, chosen)
        progress(f"fixtures loaded in {time.monotonic() - started:.0f} s")
        outcomes = await measure(
            found,
            rounds=mode.rounds,
            light_ops=mode.light_ops,
            heavy_ops=mode.heavy_ops,
            progress=progress,
            scoped=scoped,
        )
        progress("the service path: the same scenarios on pools")
        async with pools(url) as pooled:
            on_pools(found, pooled)
            service = await measure(
                found,
                rounds=mode.rounds,
                light_ops=mode.light_ops,
                heavy_ops=mode.heavy_ops,
                progress=progress,
                contenders=SERVICE_CONTENDERS,
                ratios=SERVICE_RATIOS,
                first_number=SERVICE_NUMBERS,
            )
        found_versions = await versions(db.setup)
        scoping = await tenancy.figures(url, mode.light_ops) if scoped else []
    figures = [
        figure
        for package in chosen
        if hasattr(package, "figures")
        for figure in await package.figures(server_url, mode.name, progress)
    ]
    figures += scoping
    if replicas:
        from . import replicas as standby

        figures += await standby.figures(mode.name, progress)
    return results(mode, outcomes, service, figures, found_versions, time.monotonic() - started)


# The service path's operations are numbered from here: past any of the first pass.
SERVICE_NUMBERS = 10_000_000


def _table(outcomes: list[Outcome]) -> dict[str, Any]:
    return {
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
    }


def results(
    mode: Mode,
    outcomes: list[Outcome],
    service: list[Outcome],
    figures: list[Figure],
    found_versions: dict[str, str],
    seconds: float,
) -> dict[str, Any]:
    return {
        "mode": mode.name,
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "rounds": mode.rounds,
        "duration_s": round(seconds, 1),
        "versions": found_versions,
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "contenders": {
            c.key: {"label": c.label, "what": c.what} for c in (*CONTENDERS, *SERVICE_CONTENDERS)
        },
        "scenarios": _table(outcomes),
        "service": _table(service),
        "figures": [attrs.asdict(figure) for figure in figures],
    }


async def profile_tether(
    mode: Mode,
    *,
    database: str,
    operations: int,
    top: int,
    domains: Iterable[str] | None = None,
) -> str:
    """cProfile around tether's (L's) operations only; the functions that cost most."""
    server_url = configured_url() or embedded.start()
    profiler = cProfile.Profile()
    async with (
        admin.scratch_database(server_url, database, migrated=True) as url,
        connections(url) as db,
    ):
        for scenario in await _scenarios(db, mode, packages(domains)):
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
