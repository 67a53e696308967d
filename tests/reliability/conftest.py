"""Fixtures of the reliability suite: a plain connection for the test's own SQL."""

import asyncpg
import pytest


@pytest.fixture
async def sql(tether_url):
    """A connection of the test's own, outside tether: invariants are checked with it,
    and it is the hand that kills other connections."""
    conn = await asyncpg.connect(tether_url)
    yield conn
    await conn.close()
