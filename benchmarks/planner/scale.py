"""The planner at scale, as figures: the reads a service makes for one user, for a user
with a long history (or buried under other users' newer plans) against a light one,
side by side in one run.

A database of its own holds, in this order: `light` (a page of generations), `mid`
(a thousand), `heavy` (ten thousand), `others` (many users, each with a history,
all written after them), and `newest` (a light user written last). Every
generation has two days of two tasks, and feedback. Each figure runs tether's
repository method for each of its readers in turn, in rotated order, 10
operations at a time; a reader's time in a round is its median operation, and
each reader's ratio to the first (the light reader) is taken per round. Flat
means every ratio's median is within GOAL of 1: a cost that grew with the
history would be tens of times the light reader's at ten thousand generations.
A page of a long history does cost ~1.15x a short one's: its generations sit on
as many index pages as it has generations (their ids are random UUIDs), a short
history's on one; that step is taken by a thousand generations and stays (`mid`
against `heavy`).
"""

from __future__ import annotations

import gc
import os
import statistics
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import asyncpg
from attrs import frozen

from tether import admin
from tether.database import init_connection
from tether.planner import FeedbackRepository, PlanRepository

from ..harness import SLICE, Figure, Progress, rotated
from .fixtures import B, History, load_users

GOAL = 1.5
PAGE = 20


@frozen
class ScaleSizes:
    mid_generations: int
    heavy_generations: int
    others: int  # users writing after the light and heavy readers
    others_generations: int
    operations: int  # per reader per round
    rounds: int


SCALE = {
    "full": ScaleSizes(1_000, 10_000, 1_000, 25, 1_000, 8),
    "quick": ScaleSizes(1_000, 10_000, 1_000, 25, 400, 4),
    "smoke": ScaleSizes(20, 40, 5, 2, 3, 1),
}


def _history(generations: int, tasks_per_day: int = 2) -> History:
    return History(subjects=2, generations=generations, days=2, tasks_per_day=tasks_per_day)


Operation = Callable[[int], Awaitable[object]]


@frozen
class Measure:
    name: str
    what: str
    operation: Operation
    readers: Sequence[tuple[str, int]]  # (label, user id); the first is the baseline


async def _time(
    measure: Measure, sizes: ScaleSizes
) -> tuple[dict[str, float], dict[str, list[float]]]:
    """Median µs per reader, and each reader's per-round ratio to the first."""
    labels = [label for label, _ in measure.readers]
    per_round: dict[str, list[float]] = {label: [] for label in labels}
    for reader in measure.readers:  # warm-up: statement cache, generic plans, buffers
        for _ in range(8):
            await measure.operation(reader[1])
    for round_number in range(sizes.rounds):
        samples: dict[str, list[int]] = {label: [] for label in labels}
        order = rotated(measure.readers, round_number)
        for first in range(0, sizes.operations, SLICE):
            for label, user_id in order:
                gc.collect()
                for _ in range(min(SLICE, sizes.operations - first)):
                    start = time.perf_counter_ns()
                    await measure.operation(user_id)
                    samples[label].append(time.perf_counter_ns() - start)
        for label in labels:
            per_round[label].append(statistics.median(samples[label]))
    medians = {label: statistics.median(per_round[label]) / 1000 for label in labels}
    base = per_round[labels[0]]
    ratios = {
        label: [a / b for a, b in zip(per_round[label], base, strict=True)] for label in labels[1:]
    }
    return medians, ratios


def _figure(
    measure: Measure, medians: dict[str, float], ratios: dict[str, list[float]], *, judged: bool
) -> Figure:
    """The figure of one measure; `judged` false (the smoke run's tiny data): no verdict."""
    base = measure.readers[0][0]
    spreads = {
        label: (statistics.median(values), min(values), max(values))
        for label, values in ratios.items()
    }
    note = ", ".join(
        f"{label}/{base} {median:.2f} ({low:.2f}-{high:.2f})"
        for label, (median, low, high) in spreads.items()
    )
    return Figure(
        domain="planner",
        name=measure.name,
        what=measure.what,
        unit="µs",
        values=medians,
        goal=f"each within {GOAL}x of {base}",
        met=all(median <= GOAL for median, _, _ in spreads.values()) if judged else None,
        note=note,
    )


async def figures(server_url: str, mode: str, progress: Progress) -> list[Figure]:
    sizes = SCALE[mode]
    database = f"tether_bench_planner_scale_{os.getpid()}"
    async with admin.scratch_database(server_url, database, migrated=True) as url:
        conn = await asyncpg.connect(url)
        try:
            await init_connection(conn)
            started = time.monotonic()
            [light] = await load_users(conn, ["light@bench.test"], _history(PAGE))
            [mid] = await load_users(conn, ["mid@bench.test"], _history(sizes.mid_generations))
            [heavy_id] = await load_users(
                conn, ["heavy@bench.test"], _history(sizes.heavy_generations)
            )
            others = await load_users(
                conn,
                [f"other-{n}@bench.test" for n in range(sizes.others)],
                _history(sizes.others_generations, tasks_per_day=1),
            )
            [newest] = await load_users(conn, ["newest@bench.test"], _history(PAGE))
            await conn.execute(B.analyze_planner.sql)
            after = len(others) * sizes.others_generations * 2
            progress(
                f"planner scale fixtures in {time.monotonic() - started:.0f} s: heavy "
                f"{sizes.heavy_generations:,} generations, {after:,} plans by others after"
            )
            plans, feedback = PlanRepository(conn), FeedbackRepository(conn)

            async def first_page(user_id: int) -> Any:
                return await plans.page_of_user(user_id, limit=PAGE)

            async def latest_feedback(user_id: int) -> Any:
                return await feedback.latest(user_id)

            heavy = f"heavy, {sizes.heavy_generations:,}"
            measures = [
                Measure(
                    "generations_page",
                    f"the first page of {PAGE} (PlanRepository.page_of_user): light, "
                    f"{PAGE} generations, against mid, {sizes.mid_generations:,}, and {heavy}",
                    first_page,
                    [("light", light), ("mid", mid), ("heavy", heavy_id)],
                ),
                Measure(
                    "latest_feedback",
                    f"the latest 2 (FeedbackRepository.latest): light, {PAGE} feedback, "
                    f"against {heavy}",
                    latest_feedback,
                    [("light", light), ("heavy", heavy_id)],
                ),
                Measure(
                    "latest_calendar",
                    "the calendar (PlanRepository.latest_calendar): newest, the last "
                    f"writer, against light and {heavy} generations, each followed by "
                    f"{after:,} plans of {len(others):,} other users",
                    plans.latest_calendar,
                    [("newest", newest), ("light", light), ("heavy", heavy_id)],
                ),
            ]
            found = []
            for measure in measures:
                medians, ratios = await _time(measure, sizes)
                found.append(_figure(measure, medians, ratios, judged=mode != "smoke"))
                progress(f"measured planner.{measure.name}: {found[-1].note}")
            return found
        finally:
            await conn.close()
