"""Fixtures of the reliability suite: a plain connection for the test's own SQL, and
PgBouncer."""

import json

import asyncpg
import pytest

from .pgbouncer import PgBouncer, find_or_install


@pytest.fixture
async def sql(tether_url):
    """A connection of the test's own, outside tether: invariants are checked with it,
    and it is the hand that kills other connections. JSON comes back as Python values."""
    conn = await asyncpg.connect(tether_url)
    # JSON read back as Python values (the stdlib's own codec), to compare with what was sent.
    for name in ("json", "jsonb"):
        await conn.set_type_codec(name, encoder=json.dumps, decoder=json.loads, schema="pg_catalog")
    yield conn
    await conn.close()


@pytest.fixture(scope="session")
def pgbouncer(tether_server_url):
    """PgBouncer in transaction pooling mode in front of the test server (installed
    with apt-get when missing and we are root); skips only where it cannot be had."""
    executable, why_not = find_or_install()
    if executable is None:
        pytest.skip(why_not)
    bouncer = PgBouncer(executable, tether_server_url)
    yield bouncer
    bouncer.stop()
