"""A database with data at the head before tenancy migrates forward with nothing lost
(issue 16): for each domain, `common` and the domain are migrated to the head and
filled by the domain's story, then the domain's tenancy migrations are rolled back
(their rollbacks restore the schema before them exactly: the stairway test), which
leaves the story's rows in the schema of the head before tenancy, and migrated
forward again. Every row that was there is there, unchanged in every column it had;
the keys the migration added are those of the rows' parents (each composite foreign
key is validated, and `tether check` finds nothing in the domain's tenancy). The
story runs at the head because repositories may pass a tenant key (planner's tasks,
tutor's chunks) that the schema before tenancy does not have.

A domain joins once it has its tenancy migration (`<domain>_NNNN_tenancy.sql`)."""

import asyncio
import os

import pytest
from yoyo import get_backend, read_migrations

from tether import admin, migrations, stories
from tether import domains as registry
from tether.check.schema import MigrationSource
from tether.check.tenancy import tenancy_findings
from tether.database import Database
from tether.resources import migrations_dir

pytestmark = pytest.mark.reliability

# Each table of a schema with its columns, in column order.
TABLES = """
select c.relname::text,
       array_agg(a.attname::text order by a.attnum)
from pg_class c
join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
where c.relnamespace = $1::regnamespace and c.relkind = 'r'
group by c.relname
"""

NOT_VALIDATED = """
select array_agg(conname::text order by conname) from pg_constraint
where connamespace = $1::regnamespace and not convalidated
"""


def tenancy_migration(domain: registry.Domain) -> str | None:
    """The id of the domain's tenancy migration, if it has one yet."""
    found = sorted(domain.migrations.glob(f"{domain.name}_*_tenancy.sql"))
    return found[0].stem if found else None


def roll_back_tenancy(url: str, domain: registry.Domain, tenancy: str) -> None:
    """Roll back the domain's tenancy migrations (`tenancy` and those after it; common's
    stays), back to the schema of the head before tenancy."""
    backend = get_backend(migrations.yoyo_url(url))
    try:
        with backend.lock():
            applied = backend.to_rollback(read_migrations(str(domain.migrations)))
            for migration in [m for m in applied if m.id >= tenancy]:
                backend.rollback_one(migration)
    finally:
        backend.connection.close()


async def rows(db: Database, schema: str, tables: dict[str, list[str]]) -> dict[str, list[str]]:
    """Every row of each table, as the text of its (old) columns, sorted."""
    found = {}
    for table, columns in tables.items():
        listed = ", ".join(f'"{c}"' for c in columns)
        found[table] = await db.pool.fetchval(
            f"select coalesce(array_agg(r::text order by r::text), '{{}}') "
            f"from (select {listed} from {schema}.{table}) as r"
        )
    return found


@pytest.mark.parametrize("domain", registry.DOMAINS, ids=lambda d: d.name)
async def test_a_filled_database_migrates_to_tenancy_with_nothing_lost(tether_server_url, domain):
    tenancy = tenancy_migration(domain)
    if tenancy is None:
        pytest.skip(f"{domain.name} has no tenancy migration yet")
    name = f"tether_upgrade_{domain.name}_{os.getpid()}"
    async with admin.scratch_database(tether_server_url, name) as url:
        await asyncio.to_thread(migrations.migrate, url, domains=[domain.name])
        async with Database(url) as db:
            await stories.story(domain)(db, lambda _: None)
        await asyncio.to_thread(roll_back_tenancy, url, domain, tenancy)
        async with Database(url) as db:
            tables = {r[0]: r[1] for r in await db.pool.fetch(TABLES, domain.schema)}
            before = await rows(db, domain.schema, tables)
        assert sum(map(len, before.values())) > 0

        applied = await asyncio.to_thread(migrations.migrate, url, domains=[domain.name])
        assert tenancy in applied

        async with Database(url) as db:
            assert await rows(db, domain.schema, tables) == before
            # The backfill had rows to fill (a story may leave some tables empty, as the
            # tutor's deletes week 1; tickets' tables all held their tenant key already,
            # so none grew there).
            grown = {
                r[0]
                for r in await db.pool.fetch(TABLES, domain.schema)
                if r[0] in tables and r[1] != tables[r[0]]  # later migrations add tables too
            }
            assert not grown or any(before[table] for table in grown), (grown, before)
            assert await db.pool.fetchval(NOT_VALIDATED, domain.schema) is None
            source = MigrationSource(migrations_dir())
            assert await tenancy_findings(db, [domain.schema], source) == []
