"""The base of every typed repository: run a named query, translate errors, build records.

A repository wraps whatever it is given (a `Database`, an asyncpg pool, or a
connection inside the caller's transaction) and runs each method's single query
on it. Nothing here parses SQL or builds dicts per call: the query was compiled
at import, arguments go straight to `$1..$n`, rows become records positionally.
"""

from __future__ import annotations

from typing import Any, TypeAlias, TypeVar

import asyncpg

from tether.database import Database
from tether.errors import DRIVER_ERRORS, NotFound, translate
from tether.queries import Mapped, Query

R = TypeVar("R")

# A pool (one pooled connection per call) or a connection (the caller's transaction).
Executor: TypeAlias = asyncpg.Pool | asyncpg.Connection


class Repository:
    __slots__ = ("_db",)

    def __init__(self, db: Database | Executor) -> None:
        self._db: Executor = db.pool if isinstance(db, Database) else db

    async def _one(self, stmt: Mapped[R], **args: Any) -> R | None:
        query = stmt.query
        try:
            row = await self._db.fetchrow(query.sql, *query.args(args))
        except DRIVER_ERRORS as error:
            raise translate(error, query) from None
        return None if row is None else stmt.record(*row)

    async def _returning(self, stmt: Mapped[R], /, **args: Any) -> R:
        """For `insert ... returning`, whose row is always there when no error was raised."""
        row = await self._one(stmt, **args)
        assert row is not None, f"{stmt.query.name} returned no row"
        return row

    async def _get(self, stmt: Mapped[R], table: str, /, **args: Any) -> R:
        """Like `_one`, but a missing row is a NotFound naming `table`."""
        found = await self._one(stmt, **args)
        if found is None:
            raise NotFound(f"{table}: no row matches", table=table)
        return found

    async def _many(self, stmt: Mapped[R], **args: Any) -> list[R]:
        query = stmt.query
        try:
            rows = await self._db.fetch(query.sql, *query.args(args))
        except DRIVER_ERRORS as error:
            raise translate(error, query) from None
        make = stmt.record
        return [make(*row) for row in rows]

    async def _val(self, query: Query, **args: Any) -> Any:
        try:
            return await self._db.fetchval(query.sql, *query.args(args))
        except DRIVER_ERRORS as error:
            raise translate(error, query) from None

    async def _execrows(self, query: Query, **args: Any) -> int:
        """Run a statement; return how many rows it touched (directly, not by cascade)."""
        try:
            status: str = await self._db.execute(query.sql, *query.args(args))
        except DRIVER_ERRORS as error:
            raise translate(error, query) from None
        return int(status.rpartition(" ")[2] or 0)
