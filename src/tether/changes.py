"""Count what a statement did to every table, cascades included.

PostgreSQL keeps per-transaction counters (`pg_stat_xact_user_tables`) of the
rows each statement inserted, updated and deleted, including those that ON
DELETE CASCADE / SET NULL touched. Diffing them around a statement tells
exactly what it cascaded to: the demo prints it, tests assert it.

    async with db.transaction() as conn:
        async with track(conn) as changes:
            await UserRepository(conn).delete(user_id)
    changes.deleted  # {"planner.users": 1, "planner.plans": 4, ...}

`preview` does the same in a savepoint it rolls back: what a delete *would*
remove, for an admin screen's "deleting this course removes 12 weeks, 340 chunks".
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from attrs import define, frozen

from tether.catalog import Q
from tether.database import Database
from tether.repository import Repository


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
    TABLE_COUNTERS = Q.table_counters.returning(TableCounters)

    async def snapshot(self) -> dict[str, TableCounters]:
        return {row.table_name: row for row in await self._many(self.TABLE_COUNTERS)}


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


async def preview(
    db: Database | asyncpg.Connection, work: Callable[[asyncpg.Connection], Awaitable[Any]]
) -> Changes:
    """What `work(conn)` would insert, update and delete in every table, cascades and
    SET NULL included, as PostgreSQL counts them; then all of it is rolled back.

    `work` runs in a savepoint (inside the caller's transaction) or in a transaction of
    its own; whatever it does, nothing of it stays. Only sequences move on (they are
    not transactional), and an error inside `work` reaches the caller after the
    rollback.
    """
    if isinstance(db, Database):
        async with db.connection() as conn:
            return await preview(conn, work)
    counters = _Counters(db)
    changes = Changes({}, {}, {})
    savepoint = db.transaction()
    await savepoint.start()
    try:
        before = await counters.snapshot()
        await work(db)
        _count_into(changes, before, await counters.snapshot())
    finally:
        await savepoint.rollback()
    return changes
