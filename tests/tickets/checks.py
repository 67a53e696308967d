"""What several tickets tests check the same way, in SQL of the tests' own."""

from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

import asyncpg
import pytest

import domain_checks
from tether import TetherError
from tether.translate import translate

counts = partial(domain_checks.counts, schema="tickets")


async def refusal(db, statement: str, *args: Any) -> TetherError:
    """Run SQL outside the repositories; its refusal as tether reports it."""
    with pytest.raises(asyncpg.PostgresError) as refused:
        await db.pool.execute(statement, *args)
    return translate(refused.value, "raw SQL")


async def statements_sent(db, call: Callable[[asyncpg.Connection], Awaitable[Any]]) -> list[str]:
    """The statements `call(conn)` sends, on a connection that already ran it once (asyncpg
    introspects nested row types on a connection's first use of them)."""
    async with db.connection() as conn:
        await call(conn)
        sent: list[str] = []

        def log(record: Any) -> None:
            sent.append(record.query)

        conn.add_query_logger(log)
        try:
            await call(conn)
        finally:
            conn.remove_query_logger(log)
    return sent
