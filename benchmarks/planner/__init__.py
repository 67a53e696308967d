"""The planner domain (seed 001): its fixtures and scenarios.

A domain's benchmark is a package like this one: fixtures loaded with COPY, and
scenarios written once per contender (see benchmarks/harness.py).
"""

from __future__ import annotations

from attrs import frozen

from ..harness import Connections, Scenario
from .fixtures import READER, History, load_users, subject_ids
from .scenarios import (
    BulkGeneration,
    Calendar,
    CascadeDelete,
    GetUser,
    InsertUser,
    SubjectsPage,
)


@frozen
class Sizes:
    readers: int  # users the read scenarios cycle through
    bulk_days: int
    bulk_tasks_per_day: int
    victim: History  # what the user of the cascade delete owns


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
