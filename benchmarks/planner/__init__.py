"""The planner domain (seed 001): its fixtures and scenarios.

A domain's benchmark is a package like this one (benchmarks/run.py finds it by the
domain's name in tether.domains): `SIZES` per mode, `scenarios` (fixtures loaded
with COPY, untimed, then operations written once per contender, see
benchmarks/harness.py), and, where a domain compares other things than the four
contenders' latencies (throughput against a job queue, recall, memory),
`figures`. The planner's figures (scale.py) show its reads for a user with a long
history, or buried under other users' newer plans, against a light one.
"""

from __future__ import annotations

from attrs import frozen

from ..harness import Connections, Scenario
from .fixtures import READER, History, load_users, subject_ids
from .scale import figures
from .scenarios import (
    BulkGeneration,
    Calendar,
    CascadeDelete,
    GetUser,
    InsertUser,
    SubjectsPage,
)

__all__ = ["SIZES", "figures", "scenarios"]


@frozen
class Sizes:
    readers: int  # users the read scenarios cycle through
    bulk_days: int
    bulk_tasks_per_day: int
    victim: History  # what the user of the cascade delete owns


# ~50,000 rows: 20 subjects, 50 generations of 20 day plans with 49 tasks each, 50 feedback.
VICTIM = History(subjects=20, generations=50, days=20, tasks_per_day=49)

SIZES = {
    "full": Sizes(200, 100, 100, VICTIM),
    "quick": Sizes(50, 100, 100, VICTIM),
    "smoke": Sizes(3, 10, 10, History(3, 4, 5, 8)),
}


async def scenarios(connections: Connections, sizes: Sizes) -> list[Scenario]:
    """Load the planner fixtures (untimed) and return its scenarios."""
    readers = await load_users(
        connections.setup, [f"reader-{n}@bench.test" for n in range(sizes.readers)], READER
    )
    [bulk_user] = await load_users(
        connections.setup, ["bulk@bench.test"], History(20, 0, 0, 0, feedback=False)
    )
    bulk_subjects = await subject_ids(connections.setup, bulk_user)
    return [
        GetUser(connections, readers),
        SubjectsPage(connections, readers),
        InsertUser(connections),
        BulkGeneration(
            connections,
            bulk_user,
            bulk_subjects,
            sizes.bulk_days,
            sizes.bulk_tasks_per_day,
        ),
        Calendar(connections, readers),
        CascadeDelete(connections, sizes.victim),
    ]
