"""The entry point: codecs on every pooled connection, the PgBouncer setting as the
server sees it, transactions, and URLs that never show a password."""

from pathlib import Path

from tether import Database
from tether.database import redact
from tether.queries import parse
from tether.repository import Repository

[ECHO_JSON, ECHO_VECTOR] = parse(
    "-- name: echo_json :val\nselect :v::jsonb\n-- name: echo_vector :val\nselect :v::vector\n",
    Path("x.sql"),
    "unit",
)


class Echo(Repository):
    async def json(self, value):
        return await self._val(ECHO_JSON, v=value)

    async def vector(self, value):
        return await self._val(ECHO_VECTOR, v=value)


async def test_json_and_vectors_travel_as_python_values(tether_db):
    echo = Echo(tether_db)
    document = {"topics": ["limits", "séries"], "n": 3, "ok": True, "none": None}
    assert await echo.json(document) == document
    vector = await echo.vector([0.5, -1.0, 2.25])
    assert vector.to_list() == [0.5, -1.0, 2.25]


async def test_json_goes_through_copy_both_ways(tether_db):
    """COPY speaks binary only: json and jsonb codecs must have a binary form."""
    documents = [{"page": 3, "heading": "Limits"}, ["a", 1], "text", None]
    async with tether_db.connection() as conn:
        await conn.execute("create temp table docs (j json, b jsonb)")
        await conn.copy_records_to_table("docs", records=[(d, d) for d in documents])
        rows = await conn.fetch("select j, b from docs")
        assert [tuple(r) for r in rows] == [(d, d) for d in documents]
        assert await conn.fetchval("select b ->> 'heading' from docs limit 1") == "Limits"


async def prepared_statements_kept(db: Database) -> int:
    async with db.connection() as conn:
        for _ in range(3):
            await conn.fetchval("select 1 + $1::int", 1)
        kept: int = await conn.fetchval("select count(*) from pg_prepared_statements")
        return kept


async def test_the_pgbouncer_setting_keeps_no_prepared_statements(tether_url):
    async with Database(tether_url, pgbouncer=True) as bounced:
        assert await prepared_statements_kept(bounced) == 0
    async with Database(tether_url, pgbouncer=False) as direct:
        assert await prepared_statements_kept(direct) > 0


def test_pgbouncer_setting_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("TETHER_PGBOUNCER", "1")
    assert Database("postgresql://h/db").pgbouncer
    monkeypatch.setenv("TETHER_PGBOUNCER", "0")
    assert not Database("postgresql://h/db").pgbouncer


def test_urls_never_show_a_password(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    url = "postgresql://app:s3cret-pw@db.internal:5432/app"
    assert redact(url) == "postgresql://app:***@db.internal:5432/app"
    assert "s3cret-pw" not in repr(Database(url))
    assert repr(Database()) == "<Database embedded (not started) pgbouncer=False connected=False>"
