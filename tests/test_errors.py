"""Driver errors become tether errors with plain words, and never the values."""

from pathlib import Path

import pytest

from tether import InvalidValue, Retryable, TetherError
from tether.planner import UserRepository
from tether.queries import parse
from tether.repository import Repository


async def test_a_missing_value_names_the_column(tether_db):
    with pytest.raises(InvalidValue) as refused:
        await UserRepository(tether_db).create(None)  # type: ignore[arg-type]
    assert str(refused.value) == "planner.users: email must have a value"
    assert refused.value.sqlstate == "23502"


async def test_a_query_that_does_not_fit_the_schema_says_why(tether_db):
    [query] = parse("-- name: broken :val\nselect nope from planner.users", Path("x.sql"), "unit")

    class Broken(Repository):
        async def run(self):
            return await self._val(query)

    with pytest.raises(TetherError, match='column "nope" does not exist') as refused:
        await Broken(tether_db).run()
    assert refused.value.sqlstate == "42703"
    assert refused.value.__suppress_context__  # asyncpg's exception is not chained


async def test_an_invalid_text_value_is_described_without_echoing_it(tether_db):
    [query] = parse("-- name: cast :val\nselect (:v::text)::uuid", Path("x.sql"), "unit")

    class Cast(Repository):
        async def run(self, value):
            return await self._val(query, v=value)

    with pytest.raises(InvalidValue) as refused:
        await Cast(tether_db).run("not-a-uuid-secret")
    assert "not-a-uuid-secret" not in str(refused.value)
    assert "invalid text representation" in str(refused.value)


async def test_a_type_asyncpg_cannot_decode_is_no_lost_connection(tether_db):
    """An enum inside an anonymous row has no decoder in asyncpg: that is the query's
    fault, said as such, not a ConnectionLost a retry would repeat forever."""
    async with tether_db.connection() as conn:
        await conn.execute("create type public.mood as enum ('calm', 'busy')")
    [query] = parse(
        "-- name: moods :val\nselect row('calm'::public.mood, 1)", Path("x.sql"), "unit"
    )

    class Moods(Repository):
        async def run(self):
            return await self._val(query)

    with pytest.raises(TetherError, match="a result column cannot be decoded") as refused:
        await Moods(tether_db).run()
    assert not isinstance(refused.value, Retryable)
    assert await UserRepository(tether_db).find_by_email("x@example.com") is None
