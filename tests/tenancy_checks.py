"""What every domain's tenancy tests check the same way (SPEC "Tenancy"), written once.

A domain's test names its tenant tables and the column holding each one's tenant key
(`{"users": "id", "subjects": "student_id", ...}`), builds two tenants' whole trees, and
asks these helpers what the owner, a scoped connection (`db.tenant(key)`) and an
unscoped `tether_service` each see. Counts are the database's own (count(*) per table).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

from tether.translate import translate

# The tables of a schema under row-level security, and whether it is forced.
RLS_TABLES = """
select c.relname::text, c.relforcerowsecurity
from pg_class c
where c.relnamespace = $1::regnamespace and c.relkind = 'r' and c.relrowsecurity
"""

# Each policy of a schema: its table, name and the roles it applies to.
POLICIES = """
select tablename::text, policyname::text, roles::text[]
from pg_policies where schemaname = $1
"""

# What tether_service may do on each table of a schema.
GRANTS = """
select table_name::text, array_agg(privilege_type::text order by privilege_type) as granted
from information_schema.role_table_grants
where grantee = 'tether_service' and table_schema = $1
group by table_name
"""


async def hand_written(conn: Any, schema: str, sql: str, *args: object) -> None:
    """Run a statement no repository runs, with its failure as the tether error a
    repository would raise (the rule's plain words)."""
    try:
        await conn.execute(sql, *args)
    except asyncpg.PostgresError as error:
        raise translate(error, schema) from None


async def rows_per_table(conn: Any, schema: str, tables: Mapping[str, str]) -> dict[str, int]:
    """How many rows of each table `conn` sees (whatever its role and scope)."""
    return {
        table: await conn.fetchval(f"select count(*) from {schema}.{table}") for table in tables
    }


async def rows_of_tenant(
    conn: Any, schema: str, tables: Mapping[str, str], key: object
) -> dict[str, int]:
    """How many rows of each table belong to the tenant `key`, by its tenant column."""
    return {
        table: await conn.fetchval(
            f"select count(*) from {schema}.{table} where {column} = $1", key
        )
        for table, column in tables.items()
    }


@asynccontextmanager
async def unscoped_service(db: Any) -> AsyncIterator[asyncpg.Connection]:
    """A transaction as tether_service with no tenant set: what a service that forgot
    to scope would see."""
    async with db.transaction() as conn:
        await conn.execute("set local role tether_service")
        yield conn


async def assert_tenant_tables(db: Any, schema: str, tables: Mapping[str, str]) -> None:
    """Exactly `tables` are under forced row-level security, each with its tenant policy
    for tether_service and the owner's unscoped one."""
    found = {r[0]: r[1] for r in await db.pool.fetch(RLS_TABLES, schema)}
    assert found == dict.fromkeys(tables, True)
    policies = {(r[0], r[1], tuple(r[2])) for r in await db.pool.fetch(POLICIES, schema)}
    owner = await db.pool.fetchval("select current_user")
    assert policies == {
        (table, policy, (role,))
        for table in tables
        for policy, role in (("tenant_scope", "tether_service"), ("owner_unscoped", owner))
    }


async def grants(db: Any, schema: str) -> dict[str, list[str]]:
    """The privileges tether_service holds on each table of `schema`."""
    return {r[0]: r[1] for r in await db.pool.fetch(GRANTS, schema)}


async def assert_isolated(
    db: Any, schema: str, tables: Mapping[str, str], a: object, b: object
) -> None:
    """Both tenants have rows in every table; scoped to `a`, each table shows exactly
    a's rows (as the owner counts them); scoped to both, both; unscoped as
    tether_service, none."""
    async with db.transaction() as owner:
        of_a = await rows_of_tenant(owner, schema, tables, a)
        of_b = await rows_of_tenant(owner, schema, tables, b)
    assert all(of_a.values()) and all(of_b.values()), (of_a, of_b)
    async with db.tenant(a) as conn:
        assert await rows_per_table(conn, schema, tables) == of_a
        assert await rows_of_tenant(conn, schema, tables, b) == dict.fromkeys(tables, 0)
    async with db.tenant(a, b) as conn:
        both = {table: of_a[table] + of_b[table] for table in tables}
        assert await rows_per_table(conn, schema, tables) == both
    async with unscoped_service(db) as conn:
        assert await rows_per_table(conn, schema, tables) == dict.fromkeys(tables, 0)
