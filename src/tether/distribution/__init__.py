"""`tether distribution`: how each domain would shard by tenant (Citus), derived from
the live catalog and the domain's queries.

A domain declares at most its tenant root (`Domain.tenant` in tether.domains,
planner's `users`); without one, the plan suggests the table most others belong to
(through ON DELETE CASCADE foreign keys). Everything else is derived:

- each table's distribution column: the root's primary key; in a table with a
  foreign key to the root, that key's column; in a table whose foreign key to a
  distributed parent includes the parent's column (`foreign key (x_id, session_id)`),
  that column; otherwise the column is missing and must be added, copied from the
  parent the table reaches first;
- reference tables (copied to every node): those the tenant's tables refer to that
  do not lead to the root; standalone tables: tied to neither;
- which primary keys and unique keys include the distribution column (a sharded
  table enforces only those), and which foreign keys between distributed tables
  include it on both sides (co-located, as Citus requires), or would clear it with
  ON DELETE SET NULL;
- which queries stay on one shard as written: every distributed table they touch is
  pinned by `column = :parameter`, or joined on its distribution column to a table
  that is (an INSERT: given the column from a parameter or a fresh key), as each
  query's generic plan (`EXPLAIN (GENERIC_PLAN, VERBOSE)`) shows.

docs/scale-out.md carries each domain's plan between `<!-- distribution:<domain> -->`
markers; `tether distribution --write-docs` rewrites them (a domain without its
markers is refused, as `tether erd` refuses: see tether.commands), and
tests/test_distribution.py fails when one differs from a freshly migrated database.

The parts: `model` (what a plan holds), `tables` (each table's place), `query_plans`
(each query's reach), `markdown` (the page's blocks); here, a domain's plan and the
command.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from pathlib import Path

from tether import domains as registry
from tether import queries
from tether.check.catalog import Catalog
from tether.commands import Out, migrated_scratch, write_blocks
from tether.database import Database
from tether.distribution.markdown import BLOCK, markdown, page_block
from tether.distribution.model import DomainPlan, QueryPlan, TablePlan
from tether.distribution.query_plans import explain, plan_query
from tether.distribution.tables import plan_tables, suggest_root
from tether.queries import Query

__all__ = [
    "BLOCK",
    "DomainPlan",
    "QueryPlan",
    "TablePlan",
    "command",
    "markdown",
    "page_block",
    "plan",
    "plan_schema",
    "plans",
]


async def plan(db: Database, url: str, domain: registry.Domain) -> DomainPlan:
    """The distribution plan of a domain, from the migrated database at `url` (which
    `db` is connected to) and its queries in sql/<domain>/."""
    return await plan_schema(db, url, domain.schema, domain.tenant, list(queries.load(domain.name)))


async def plan_schema(
    db: Database, url: str, schema: str, tenant: str | None, loaded: Sequence[Query]
) -> DomainPlan:
    catalog = Catalog(db)
    columns = await catalog.erd_columns(schema)
    if not columns:
        raise ValueError(f"schema {schema} has no tables")
    foreign_keys = await catalog.foreign_keys([schema])
    unique_keys = await catalog.unique_keys([schema])
    tables = {column.table_name for column in columns}
    root = tenant or suggest_root(tables, foreign_keys)
    if root not in tables:
        raise ValueError(f"tenant root {schema}.{root} is not a table of {schema}")
    key, table_plans = plan_tables(root, columns, foreign_keys, unique_keys)
    by_name = {table.name: table for table in table_plans}
    attnums = {(c.table_name, c.column_name): c.attnum for c in columns}
    explained = await asyncio.to_thread(explain, url, loaded)
    return DomainPlan(
        schema=schema,
        root=root,
        declared=tenant is not None,
        key=key,
        tables=table_plans,
        foreign_keys=foreign_keys,
        queries=[
            plan_query(q, explained[q.name], schema, by_name, attnums)
            for q in sorted(loaded, key=lambda q: (q.path.name, q.line))
        ],
    )


async def plans(url: str, domains: Iterable[str] | None = None) -> list[DomainPlan]:
    """The plans of the chosen domains (default: all) in the migrated database at `url`."""
    async with Database(url, min_size=1, max_size=1) as db:
        return [await plan(db, url, domain) for domain in registry.select(domains)]


async def _plans_of_migrations(server_url: str, domains: list[str]) -> list[DomainPlan]:
    async with migrated_scratch(server_url, domains) as url:
        return await plans(url, domains)


def command(
    server_url: str, domains: Iterable[str] | None, page: Path | None, out: Out, note: Out
) -> int:
    """`tether distribution`: print the plans of the chosen domains (default: all), or
    rewrite them in `page` (tether.commands.write_blocks: 1 when the page lacks a
    domain's markers); 2 for an unknown domain or a plan that cannot be made."""
    try:
        chosen = [domain.name for domain in registry.select(domains)]
        found = asyncio.run(_plans_of_migrations(server_url, chosen))
    except ValueError as error:
        note(f"tether distribution: {error}")
        return 2
    if page is None:
        out("\n\n".join(markdown(plan) for plan in found))
        return 0
    blocks = {plan.schema: page_block(plan) for plan in found}
    return write_blocks(page, BLOCK, blocks, "distribution plan", note)
