"""The base of every typed repository: run a named query, translate errors, build records.

A repository wraps whatever it is given (a `Database`, an asyncpg pool, a
connection inside the caller's transaction, or `db.replica()`'s reader for reads
on a standby) and runs each method's query on it.
Nothing here parses SQL or builds dicts per call: the query was compiled at
import, arguments go straight to `$1..$n`, rows become records positionally
(by each record class's builder, made once: tether.records).

Every statement a repository runs is bound on its class, named after the query
in capitals (`GET_USER = Q.get_user.returning(User)`, `DELETE_USER =
Q.delete_user`): a misspelt query name fails when the module is imported, and
`tether check` finds a query that no repository runs.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import AsyncExitStack
from functools import cache
from operator import attrgetter
from typing import Any, TypeAlias, TypeVar

import asyncpg

from tether import paging
from tether.database import Database
from tether.errors import InvalidValue, NotFound
from tether.paging import Page
from tether.pool import Statements
from tether.queries import Mapped, Query, mark_bound
from tether.replicas import Reader
from tether.translate import DRIVER_ERRORS, translate

R = TypeVar("R")

# A pool (one pooled connection per call; a Database's pool, without a reset when the
# call is done: tether.pool), a connection (the caller's transaction), or a reader (one
# standby connection per call, see tether.replicas).
Executor: TypeAlias = asyncpg.Pool | Statements | asyncpg.Connection | Reader


class Repository:
    __slots__ = ("_db",)

    def __init_subclass__(cls, **options: Any) -> None:
        super().__init_subclass__(**options)
        for attribute, value in vars(cls).items():
            query = value.query if isinstance(value, Mapped) else value
            if not isinstance(query, Query):
                continue
            if attribute != query.name.upper():
                raise TypeError(
                    f"{cls.__qualname__}.{attribute} binds query {query.domain}.{query.name}: "
                    f"name it {query.name.upper()} (a query is bound under its own name, "
                    "in capitals)"
                )
            mark_bound(query)

    def __init__(self, db: Database | Executor) -> None:
        self._db: Executor = db.statements if isinstance(db, Database) else db

    async def _one(self, stmt: Mapped[R], **args: Any) -> R | None:
        query = stmt.query
        try:
            row = await self._db.fetchrow(query.sql, *query.args(args))
        except DRIVER_ERRORS as error:
            raise translate(error, query) from None
        return None if row is None else stmt.rows.one(row)

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
        return stmt.rows.many(rows)

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

    async def _connection(self, stack: AsyncExitStack) -> asyncpg.Connection:
        """One connection for several statements: the executor itself when it is one,
        else one borrowed from it until `stack` closes (from a Database's pool, for
        tether's own statements only: back without a reset, tether.pool)."""
        held = self._db
        if isinstance(held, Statements):
            return await stack.enter_async_context(held.pool.lease())
        if isinstance(held, Reader):
            return await stack.enter_async_context(held.connection())
        if isinstance(held, asyncpg.Pool):
            return await stack.enter_async_context(held.acquire())
        return held

    async def _copy(self, query: Query, rows: Iterable[Sequence[Any]]) -> int:
        """Write rows with COPY (binary) into a :copy query's table; return how many.

        Each row holds the query's columns in order. Constraints and triggers hold as
        for INSERT, and a refused row refuses the whole COPY: nothing is written. A
        value the column's codec cannot encode (a str for an integer, a set for jsonb)
        is an InvalidValue too: COPY raises the codec's own TypeError or ValueError.
        Under row-level security (a `db.tenant(...)` transaction, or a table owner
        that is not a superuser), where PostgreSQL refuses COPY FROM, the rows are
        copied into a temporary table first and inserted from it in one statement;
        a superuser's COPY goes straight in (one round trip).
        """
        table = f"{query.copy_schema}.{query.copy_table}"
        try:
            async with AsyncExitStack() as stack:
                conn = await self._connection(stack)
                if not _bypasses_row_security(conn):
                    if not conn.is_in_transaction():
                        await stack.enter_async_context(conn.transaction())
                    status = await _copy_staged(conn, query, rows)
                else:
                    status = await conn.copy_records_to_table(
                        query.copy_table,
                        schema_name=query.copy_schema,
                        columns=query.copy_columns,
                        records=rows,
                    )
        except DRIVER_ERRORS as error:
            raise translate(error, query) from None
        except (TypeError, ValueError) as error:
            # The codec's message names the type, never the value; say only which kind.
            raise InvalidValue(
                f"{query.domain}.{query.name}: a row holds a value its column type cannot "
                f"take ({type(error).__name__})",
                table=table,
            ) from None
        return int(status.rpartition(" ")[2] or 0)

    async def _stream(self, stmt: Mapped[R], /, *, prefetch: int, **args: Any) -> AsyncIterator[R]:
        """The rows one by one from a server-side cursor, `prefetch` rows per round trip:
        however many rows there are, at most `prefetch` are held at once.

        A cursor lives in a transaction: on a pool or a reader, a connection is held
        (in a read-only transaction) until the iteration ends; on a connection outside
        a transaction, one is opened for it; inside the caller's, it joins that one.
        Close early with `contextlib.aclosing` to hand the connection back at once.
        """
        query = stmt.query
        values = query.args(args)
        make = stmt.rows.one
        async with AsyncExitStack() as stack:
            try:
                conn = await self._connection(stack)
                if not conn.is_in_transaction():
                    readonly = conn is not self._db  # borrowed for this iteration alone
                    await stack.enter_async_context(conn.transaction(readonly=readonly))
                cursor = conn.cursor(query.sql, *values, prefetch=prefetch)
                async for row in cursor:
                    yield make(row)
            except DRIVER_ERRORS as error:
                raise translate(error, query) from None

    async def _page(
        self,
        stmt: Mapped[R],
        /,
        *,
        key: Sequence[str],
        limit: int,
        after: str | None,
        **args: Any,
    ) -> Page[R]:
        """One page of a keyset query, and the cursor of the next.

        The query takes `:after_<field>` for each field of `key` (all NULL for the
        first page) and `:limit`, orders by `key` and returns rows strictly after
        the cursor. One more row than `limit` is asked for, to know whether a next
        page exists.
        """
        query = stmt.query
        if type(limit) is not int or not 1 <= limit <= paging.MAX_PAGE:
            paging.check_limit(limit, f"{query.domain}.{query.name}")
        names, last_key = _page_key(tuple(key))
        if after is None:
            bounds = dict.fromkeys(names)
        else:
            start = paging.decode(after, len(key), f"{query.domain}.{query.name}")
            bounds = dict(zip(names, start, strict=True))
        try:
            rows = await self._db.fetch(
                query.sql, *query.args({**args, **bounds, "limit": limit + 1})
            )
        except DRIVER_ERRORS as error:
            raise translate(error, query) from None
        if len(rows) <= limit:
            return Page(tuple(stmt.rows.many(rows)), None)
        # The row past the page only says that a next page exists: it becomes no record.
        items = tuple(stmt.rows.many(rows[:limit]))
        return Page(items, paging.encode(last_key(items[-1])))


@cache
def _page_key(key: tuple[str, ...]) -> tuple[tuple[str, ...], Callable[[Any], Sequence[Any]]]:
    """A page key's query parameters (`after_<field>`) and a getter of its values."""
    fields = attrgetter(*key)
    values = (lambda record: (fields(record),)) if len(key) == 1 else fields
    return tuple(f"after_{field}" for field in key), values


def _bypasses_row_security(conn: asyncpg.Connection) -> bool:
    """Whether the role running now is a superuser (PostgreSQL reports is_superuser to
    the client whenever it changes, SET ROLE included): no policy applies to it. Any
    other role may be under a tenant table's forced policies, and COPY FROM is refused
    there."""
    reported: str = conn.get_settings().is_superuser
    return reported == "on"


async def _copy_staged(
    conn: asyncpg.Connection, query: Query, rows: Iterable[Sequence[Any]]
) -> str:
    """COPY into a temporary table shaped like the query's columns, then one INSERT from
    it (row and statement triggers, policies and constraints run as for any INSERT);
    the INSERT's status. Runs inside a transaction: the table goes with it at its end
    (three round trips: the table, the COPY, the INSERT)."""
    await conn.execute(query.copy_stage)
    await conn.copy_records_to_table(
        query.copy_staging_table, schema_name="pg_temp", columns=query.copy_columns, records=rows
    )
    status: str = await conn.execute(query.copy_insert)
    return status
