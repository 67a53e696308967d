"""The tickets measures beside the four contenders' latencies, each in databases of its
own: how the cost of adding a dependency grows with the session's graph, and how many
audit events a second concurrent writers append.
"""

from __future__ import annotations

import asyncio
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
from attrs import frozen
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from tether import Database, admin
from tether.database import init_connection
from tether.tickets import AuditRepository, DependencyRepository
from tether.tickets.repositories import Q

from ..harness import Figure, Progress
from .fixtures import load_graph, load_sessions, reach
from .scenarios import MODELS

DOMAIN = ["tickets"]  # each figure's database holds common and tickets only
SQL = Q.insert_audit_event.sql


@frozen
class Growth:
    """The graphs of the growth figure: `sizes` tickets, each depending on `per_ticket`
    earlier ones; each addition timed `repeats` times."""

    sizes: tuple[int, ...]
    per_ticket: int
    repeats: int


@frozen
class Throughput:
    writers: int  # concurrent writers, over as many connections
    appends: int  # events appended in all, per contender


WARM_UP = 5


async def _add_cost(
    conn: asyncpg.Connection, edge: tuple[uuid.UUID, uuid.UUID], repeats: int
) -> float:
    """The median µs of adding `edge` with DependencyRepository.add inside a transaction
    that is then rolled back: the statement and its checks (the session lock, the walk),
    without the commit's flush to disk, which costs the same whatever the graph."""
    dependencies = DependencyRepository(conn)
    samples = []
    for _ in range(WARM_UP + repeats):
        transaction = conn.transaction()
        await transaction.start()
        start = time.perf_counter_ns()
        await dependencies.add(*edge)
        samples.append(time.perf_counter_ns() - start)
        await transaction.rollback()
    return statistics.median(samples[WARM_UP:]) / 1000


async def dependency_growth(server_url: str, growth: Growth, progress: Progress) -> list[Figure]:
    """Add a dependency from a loose ticket to the first ticket (which depends on nothing)
    and to the last one (which depends, directly or not, on most of the graph), in graphs
    of each size: the first cost should stay flat, the second follow what it reaches."""
    near: dict[str, float] = {}
    far: dict[str, float] = {}
    reached: list[str] = []
    for size in growth.sizes:
        name = f"tether_bench_tickets_graph_{size}"
        async with admin.scratch_database(
            server_url, name, migrated=True, domains=["tickets"]
        ) as url:
            conn = await asyncpg.connect(url)
            try:
                await init_connection(conn)
                graph = await load_graph(conn, size, growth.per_ticket, loose=1)
                await conn.execute("vacuum analyze")
                label = f"{size:,}/{graph.dependencies:,}"
                near[label] = await _add_cost(
                    conn, (graph.loose[0], graph.tickets[0]), growth.repeats
                )
                far[label] = await _add_cost(
                    conn, (graph.loose[0], graph.tickets[-1]), growth.repeats
                )
                reached.append(f"{label}: {await reach(conn, graph.tickets[-1]):,}")
            finally:
                await conn.close()
        progress(
            f"tickets: adding a dependency at {label}: {near[label]:.0f} / {far[label]:.0f} µs"
        )
    flat = max(near.values()) <= 2 * min(near.values())
    what = (
        "µs to add one dependency (the statement, commit aside), by tickets/dependencies "
        "in the session"
    )
    return [
        Figure(
            domain="tickets",
            name="add_dependency_near",
            what=f"{what}; its target depends on nothing",
            unit="µs",
            values=near,
            goal=(
                "cost follows what the new edge reaches, not the graph: flat "
                "(the largest within 2x the smallest)"
            ),
            met=flat,
        ),
        Figure(
            domain="tickets",
            name="add_dependency_far",
            what=f"{what}; its target depends on most of the graph",
            unit="µs",
            values=far,
            note="tickets the target reaches: " + ", ".join(reached),
        ),
    ]


async def _rate(writers: int, appends: int, append: Callable[[int], Awaitable[Any]]) -> float:
    """Events per second, `writers` tasks appending `appends` events between them."""
    numbers = iter(range(appends))

    async def writer() -> None:
        for number in numbers:
            await append(number)

    start = time.perf_counter()
    await asyncio.gather(*(writer() for _ in range(writers)))
    return appends / (time.perf_counter() - start)


async def audit_throughput(server_url: str, shape: Throughput, progress: Progress) -> Figure:
    """Audit events appended per second by concurrent writers, one connection each, one
    event per transaction: bare asyncpg, tether, SQLAlchemy as the seed and tuned."""
    name = "tether_bench_tickets_audit"
    rates: dict[str, float] = {}
    async with admin.scratch_database(server_url, name, migrated=True, domains=DOMAIN) as url:
        setup = await asyncpg.connect(url)
        try:
            [session_id] = await load_sessions(setup, 1, 0)
        finally:
            await setup.close()
        details = {"ticket": "BENCH-1", "fields": ["summary", "priority"]}

        size = {"min_size": shape.writers, "max_size": shape.writers}
        pool = await asyncpg.create_pool(url, init=init_connection, **size)
        try:
            rates["F"] = await _rate(
                shape.writers,
                shape.appends,
                lambda n: pool.fetchrow(SQL, session_id, "x", "bench", details),
            )
        finally:
            await pool.close()

        async with Database(url, **size) as db:
            audit = AuditRepository(db)
            rates["L"] = await _rate(
                shape.writers,
                shape.appends,
                lambda n: audit.append("x", session_id=session_id, actor="bench", details=details),
            )

        engine = create_async_engine(
            "postgresql+asyncpg://",
            async_creator=lambda: asyncpg.connect(url),
            pool_size=shape.writers,
            max_overflow=0,
        )
        try:
            sessions = async_sessionmaker(engine, expire_on_commit=False)
            for label, tuned in (("O1", False), ("O2", True)):
                AuditLog = MODELS[tuned].AuditLog

                async def append(n: int, AuditLog: Any = AuditLog) -> None:
                    async with sessions() as session:
                        session.add(
                            AuditLog(
                                session_id=session_id, action="x", actor="bench", details=details
                            )
                        )
                        await session.commit()

                rates[label] = await _rate(shape.writers, shape.appends, append)
        finally:
            await engine.dispose()
    progress("tickets: audit throughput " + ", ".join(f"{k} {v:.0f}/s" for k, v in rates.items()))
    return Figure(
        domain="tickets",
        name="audit_append_throughput",
        what=(
            f"audit events appended per second by {shape.writers} concurrent writers, "
            "one event per transaction"
        ),
        unit="events/s",
        values=rates,
    )
