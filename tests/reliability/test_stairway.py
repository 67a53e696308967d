"""Migrations, step by step and side by side: each one applies, rolls back to exactly the
schema before it and applies again ("stairway"); two `tether migrate` processes started
together on a fresh database leave one correct schema."""

import asyncio
import os
import re

import asyncpg
import pytest
from yoyo import get_backend, read_migrations

from tether import admin, migrations

from .commands import TETHER, run

pytestmark = pytest.mark.reliability

# Everything a migration can create, as sorted lines of text: schemas, extensions,
# relations, columns, constraints, indexes, functions, triggers, enum labels. Objects
# that belong to an extension, and yoyo's own bookkeeping tables, are left out.
SCHEMA_FACTS = """
with user_namespaces as (
    select oid, nspname from pg_namespace
    where nspname not like 'pg\\_%' and nspname <> 'information_schema'
),
own_relations as (
    select c.* from pg_class c join user_namespaces n on n.oid = c.relnamespace
    where c.relname not like '\\_yoyo%' and c.relname <> 'yoyo_lock'
      and not exists (select 1 from pg_depend d where d.classid = 'pg_class'::regclass
                      and d.objid = c.oid and d.deptype = 'e')
)
select array(select fact from (
    select 'schema ' || nspname as fact from user_namespaces
    union all
    select format('extension %s in %s', extname, extnamespace::regnamespace)
    from pg_extension where extname <> 'plpgsql'
    union all
    select format('relation %s kind %s', oid::regclass, relkind) from own_relations
    union all
    select format('column %s.%s %s not null %s default %s identity %s', a.attrelid::regclass,
                  a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
                  pg_get_expr(d.adbin, d.adrelid), a.attidentity)
    from pg_attribute a join own_relations r on r.oid = a.attrelid
    left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
    where a.attnum > 0 and not a.attisdropped
    union all
    select format('constraint %s on %s: %s', conname, conrelid::regclass,
                  pg_get_constraintdef(oid))
    from pg_constraint where conrelid in (select oid from own_relations)
    union all
    select pg_get_indexdef(indexrelid) from pg_index
    where indrelid in (select oid from own_relations)
    union all
    select format('function %s: %s', p.oid::regprocedure, pg_get_functiondef(p.oid))
    from pg_proc p join user_namespaces n on n.oid = p.pronamespace
    where p.prokind in ('f', 'p')
      and not exists (select 1 from pg_depend d where d.classid = 'pg_proc'::regclass
                      and d.objid = p.oid and d.deptype = 'e')
    union all
    select pg_get_triggerdef(oid) from pg_trigger
    where not tgisinternal and tgrelid in (select oid from own_relations)
    union all
    select format('row security on %s: enabled %s forced %s', oid::regclass, relrowsecurity,
                  relforcerowsecurity)
    from own_relations where relkind = 'r'
    union all
    select format('policy %s on %s.%s to %s using %s with check %s', policyname, schemaname,
                  tablename, roles, qual, with_check)
    from pg_policies where schemaname in (select nspname from user_namespaces)
    union all
    select format('grant %s on %s.%s to %s', privilege_type, table_schema, table_name, grantee)
    from information_schema.role_table_grants
    where grantee = 'tether_service'
    union all
    select format('enum %s: %s', enumtypid::regtype, enumlabel) from pg_enum e
    join pg_type t on t.oid = e.enumtypid
    where t.typnamespace in (select oid from user_namespaces)
) facts order by fact)
"""


async def schema_of(url: str) -> list[str]:
    conn = await asyncpg.connect(url)
    try:
        return list(await conn.fetchval(SCHEMA_FACTS))
    finally:
        await conn.close()


def facts_of(facts: list[str], schema: str) -> list[str]:
    """The facts of `schema`'s objects (a domain's own, in a database that holds others):
    those naming something in it (`schema.x`), and the schema itself."""
    named = re.compile(rf"(?<![\w.]){re.escape(schema)}\.|^schema {re.escape(schema)}$")
    return [fact for fact in facts if named.search(fact)]


@pytest.fixture
async def fresh_url(tether_server_url):
    """An empty database of this test's own, made by tether.admin."""
    async with admin.scratch_database(tether_server_url, f"tether_stairs_{os.getpid()}") as url:
        yield url


async def test_each_migration_applies_rolls_back_and_applies_again(fresh_url, tether_url):
    steps = read_migrations(*(str(folder) for folder in migrations.sources()))
    backend = get_backend(migrations.yoyo_url(fresh_url))
    try:
        below = await schema_of(fresh_url)
        empty = below
        for step in backend.to_apply(steps):
            with backend.lock():
                backend.apply_one(step)
            built = await schema_of(fresh_url)
            assert built != below, f"{step.id} changed nothing"

            # tether's rollback undoes exactly this step ...
            assert await asyncio.to_thread(migrations.rollback, fresh_url) == [step.id]
            assert await schema_of(fresh_url) == below, f"{step.id} did not roll back cleanly"
            # ... and the step applies again onto what is left.
            with backend.lock():
                backend.apply_one(step)
            assert await schema_of(fresh_url) == built, f"{step.id} re-applied differently"
            below = built
    finally:
        backend.connection.close()

    # Down to nothing and up again with tether's own calls; the top equals the schema
    # every other test runs on (the template behind tether_url).
    await asyncio.to_thread(migrations.rollback, fresh_url, None)
    assert await schema_of(fresh_url) == empty
    await asyncio.to_thread(migrations.migrate, fresh_url)
    assert await schema_of(fresh_url) == below == await schema_of(tether_url)


async def test_two_tether_migrate_processes_at_once_leave_one_schema(fresh_url, tether_url):
    migrate = (TETHER, "--database", fresh_url, "migrate")
    done = await asyncio.gather(run(*migrate), run(*migrate))
    outputs = [out for _, out in done]
    assert [code for code, _ in done] == [0, 0], outputs

    expected = [step.id for step in read_migrations(*map(str, migrations.sources()))]
    conn = await asyncpg.connect(fresh_url)
    try:
        recorded = await conn.fetch(
            "select migration_id, count(*) from _yoyo_migration group by 1 order by 1"
        )
        applied = await conn.fetch(
            "select migration_id, count(*) from _yoyo_log where operation = 'apply' group by 1"
        )
        tables = await conn.fetchval(
            "select array_agg(tablename::text order by tablename) from pg_tables "
            "where schemaname = 'planner'"
        )
    finally:
        await conn.close()
    # Every migration recorded once and applied once (the other process found it done).
    assert sorted((r["migration_id"], r["count"]) for r in recorded) == sorted(
        (m, 1) for m in expected
    )
    assert sorted((r["migration_id"], r["count"]) for r in applied) == sorted(
        (m, 1) for m in expected
    )
    assert tables == ["ai_tasks", "feedback", "plans", "subjects", "users"]
    assert await schema_of(fresh_url) == await schema_of(tether_url)
    # One process applied everything, the other found nothing left to do.
    assert sorted("already up to date" in out for out in outputs) == [False, True], outputs
