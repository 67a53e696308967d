"""Count what a statement did to every table, cascades included.

PostgreSQL keeps per-transaction counters (`pg_stat_xact_user_tables`) of the
rows each statement inserted, updated and deleted, including those that ON
DELETE CASCADE / SET NULL touched. Diffing them around a statement tells
exactly what it cascaded to: the demo prints it, tests assert it.

    async with db.transaction() as conn:
        async with track(conn) as changes:
            await UserRepository(conn).delete(user_id)
    changes.deleted  # {"planner.users": 1, "planner.plans": 4, ...}
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from attrs import define, frozen

from tether import queries
from tether.repository import Repository

Q = queries.load("catalog")


@frozen
class TableCounters:
    table_name: str
    inserted: int
    updated: int
    deleted: int


@define
class Changes:
    """Rows touched per schema-qualified table; tables left untouched are absent."""

    inserted: dict[str, int]
    updated: dict[str, int]
    deleted: dict[str, int]


class _Counters(Repository):
    COUNTERS = Q.table_counters.returning(TableCounters)

    async def snapshot(self) -> dict[str, TableCounters]:
        return {row.table_name: row for row in await self._many(self.COUNTERS)}


def _count_into(
    changes: Changes, before: dict[str, TableCounters], after: dict[str, TableCounters]
) -> None:
    for table, now in after.items():
        then = before.get(table, TableCounters(table, 0, 0, 0))
        for kind in ("inserted", "updated", "deleted"):
            delta = getattr(now, kind) - getattr(then, kind)
            if delta:
                getattr(changes, kind)[table] = delta


@asynccontextmanager
async def track(conn: asyncpg.Connection) -> AsyncIterator[Changes]:
    """Yield a Changes that, after the block, holds what the block did on `conn`.

    The counters live in a transaction: if `conn` is not in one, the block runs in
    a new one that commits at the end (or rolls back on error).
    """
    counters = _Counters(conn)
    changes = Changes({}, {}, {})
    async with conn.transaction():  # a savepoint when the caller already has a transaction
        before = await counters.snapshot()
        yield changes
        _count_into(changes, before, await counters.snapshot())
