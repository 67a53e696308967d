"""The tenancy figures of `--scoped` (issue 16), beside the scenarios' Ls/Lt: what
scoping a request costs by itself, and what the database's derivation of a row's
tenant key costs a single insert."""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Any

import asyncpg

from tether import queries
from tether.database import Database, init_connection

from .harness import Figure

B = queries.load_folder(Path(__file__).resolve().parent / "sql", "bench")

# Inserts per variant in a block; the variants take turns block by block.
BLOCK = 10


async def figures(url: str, operations: int) -> list[Figure]:
    """Both figures, `operations` timings per variant each."""
    return [await scoping_cost(url, operations), *await derived_key_cost(url, operations)]


async def scoping_cost(url: str, operations: int) -> Figure:
    """An empty `db.tenant(key)` block against an empty `db.transaction()` block, taking
    turns on one pooled connection."""
    timings: dict[str, list[int]] = {"transaction": [], "tenant": []}
    async with Database(url, min_size=1, max_size=1) as db:
        blocks = {"transaction": db.transaction, "tenant": lambda: db.tenant(1)}
        for number in range(2 * operations):
            for name, block in blocks.items():
                start = time.perf_counter_ns()
                async with block():
                    pass
                if number >= operations // 10:  # the first tenth warms up
                    timings[name].append(time.perf_counter_ns() - start)
    medians = {name: statistics.median(found) / 1000 for name, found in timings.items()}
    return Figure(
        domain="tenancy",
        name="scoping_cost",
        what="an empty db.tenant(key) block against an empty db.transaction() block: "
        "BEGIN, COMMIT and one set_config round trip more",
        unit="µs",
        values={"db.transaction()": medians["transaction"], "db.tenant(key)": medians["tenant"]},
        note=f"{medians['tenant'] - medians['transaction']:.0f} µs more per request",
    )


async def derived_key_cost(url: str, operations: int) -> list[Figure]:
    """A planner task and a chat message inserted naming only the SPEC's columns (a
    BEFORE INSERT trigger looks the tenant key up in the parent) against the same
    insert naming the key (the trigger is skipped), each insert its own transaction,
    in alternating blocks; the ratio is the median of the blocks' ratios (lowest-highest).
    Goal: at most 1.10."""
    conn = await asyncpg.connect(url)
    try:
        await init_connection(conn)
        parents = dict(await conn.fetchrow(B.derived_key_parents.sql))
        cases = {
            "planner.ai_tasks": (
                B.task_key_derived,
                B.task_key_named,
                {
                    "plan_id": parents["plan_id"],
                    "subject_id": parents["subject_id"],
                    "user_id": parents["planner_user_id"],
                },
            ),
            "chat.messages": (
                B.message_key_derived,
                B.message_key_named,
                {
                    "conversation_id": parents["conversation_id"],
                    "user_id": parents["chat_user_id"],
                },
            ),
        }
        return [
            await _derived_key_figure(conn, table, derived, named, arguments, operations)
            for table, (derived, named, arguments) in cases.items()
        ]
    finally:
        await conn.close()


async def _derived_key_figure(
    conn: asyncpg.Connection,
    table: str,
    derived: Any,
    named: Any,
    arguments: dict[str, Any],
    operations: int,
) -> Figure:
    variants = {"derived": derived, "named": named}
    statements = {key: await conn.prepare(query.sql) for key, query in variants.items()}
    values = {
        key: query.args({name: arguments[name] for name in query.params})
        for key, query in variants.items()
    }
    for key in variants:  # warm-up: plans, the trigger's cached plan
        for _ in range(BLOCK):
            await statements[key].fetch(*values[key])
    medians: dict[str, list[float]] = {key: [] for key in variants}
    for block in range(max(1, operations // BLOCK)):
        order = list(variants) if block % 2 == 0 else list(reversed(variants))
        for key in order:
            timings = []
            for _ in range(BLOCK):
                start = time.perf_counter_ns()
                await statements[key].fetch(*values[key])
                timings.append(time.perf_counter_ns() - start)
            medians[key].append(statistics.median(timings) / 1000)
    ratios = sorted(d / n for d, n in zip(medians["derived"], medians["named"], strict=True))
    ratio = statistics.median(ratios)
    return Figure(
        domain="tenancy",
        name=f"derived_key_cost.{table}",
        what=f"a single {table} insert whose tenant key the database derives, against one "
        "naming it (each its own transaction)",
        unit="µs",
        values={
            "key derived": statistics.median(medians["derived"]),
            "key named": statistics.median(medians["named"]),
        },
        goal="at most 1.10x",
        met=ratio <= 1.10,
        note=f"{ratio:.2f}x ({ratios[0]:.2f}-{ratios[-1]:.2f} over {len(ratios)} blocks)",
    )
