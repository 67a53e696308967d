"""Tenancy as `tether check` reads it from pg_catalog (SPEC "Tenancy").

In each domain schema, every table but the domain's global ones (`Domain.global_tables`)
is a tenant table, and:

- has row-level security enabled and forced (FORCE: the owner's queries too);
- has a policy for tether_service comparing its tenant column with
  `public.tether_tenants()` (without one the role sees every row, or none);
- every foreign key from it to another tenant table includes the tenant column on
  both sides, so no row can point at another tenant's row.

Findings point at the migration line that first names the table or the key.
"""

from __future__ import annotations

import re

from attrs import frozen

from tether import domains as registry
from tether.catalog import Q
from tether.check.catalog import Catalog
from tether.check.findings import Finding
from tether.check.schema import MigrationSource
from tether.database import Database
from tether.repository import Repository

# A policy's USING as pg_get_expr writes it: `COALESCE((user_id = ANY (( SELECT
# (tether_tenants())::bigint[] ...` (the COALESCE optional).
_TENANT_POLICY = re.compile(r"^(?:COALESCE)?\(*(\w+) = ANY \(.*\btether_tenants\(\)", re.DOTALL)


@frozen
class TenantTable:
    schema_name: str
    table_name: str
    enabled: bool
    forced: bool
    service_policies: list[str]

    @property
    def tenant_column(self) -> str | None:
        """The column its tether_service policy compares with the tenants, if any."""
        for using in self.service_policies:
            if match := _TENANT_POLICY.match(using):
                return match[1]
        return None


class TenancyCatalog(Repository):
    TENANT_TABLES = Q.tenant_tables.returning(TenantTable)

    async def tenant_tables(self, schemas: list[str]) -> list[TenantTable]:
        """The tables of `schemas` that are tenant tables: all but the global ones."""
        tables: list[TenantTable] = await self._many(self.TENANT_TABLES, schemas=schemas)
        return [t for t in tables if t.table_name not in _global_tables(t.schema_name)]


def _global_tables(schema: str) -> tuple[str, ...]:
    known = {domain.name: domain for domain in registry.DOMAINS}
    return known[schema].global_tables if schema in known else ()


async def tenancy_findings(
    db: Database, schemas: list[str], source: MigrationSource
) -> list[Finding]:
    domains = [schema for schema in schemas if schema in registry.names()]
    tables = await TenancyCatalog(db).tenant_tables(domains)
    findings: list[Finding] = []

    def add(schema: str, table: str, name: str, message: str) -> None:
        path, line = source.locate(schema, name, f"{schema}.{table}")
        findings.append(Finding.at(path, line, f"{schema}.{table}: {message}"))

    for table in tables:
        qualified = f"{table.schema_name}.{table.table_name}"
        if not (table.enabled and table.forced):
            add(
                table.schema_name,
                table.table_name,
                qualified,
                "tenant table without forced row-level security (alter table ... enable "
                "row level security, then force row level security)",
            )
        if table.tenant_column is None:
            add(
                table.schema_name,
                table.table_name,
                qualified,
                "tenant table without a policy for tether_service comparing its tenant "
                "column with public.tether_tenants(): a scoped service sees every row or none",
            )
    column_of = {(t.schema_name, t.table_name): t.tenant_column for t in tables}
    for key in await Catalog(db).foreign_keys(domains):
        child = column_of.get((key.schema_name, key.table_name))
        parent = column_of.get((key.schema_name, key.parent_name))
        if child is None or parent is None:
            continue  # not between tenant tables, or a table already reported above
        if (child, parent) in zip(key.columns, key.parent_columns, strict=True):
            continue
        columns, parents = ", ".join(key.columns), ", ".join(key.parent_columns)
        add(
            key.schema_name,
            key.table_name,
            key.constraint_name,
            f"foreign key {key.constraint_name} ({columns}) -> {key.parent_name} ({parents}) "
            f"leaves the tenant column out: make it ({columns}, {child}) -> "
            f"{key.parent_name} ({parents}, {parent}), so no row can point at another "
            "tenant's row",
        )
    return findings
