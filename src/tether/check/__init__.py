"""`tether check`: every named query and the schema, against a freshly migrated database.

For each query of every folder under `sql/`: the server prepares it (a refusal
is reported at the file line it points to, with PostgreSQL's hint), its
parameters are counted, its command is held to its columns (`:exec` and
`:execrows` none, `:val` one, `:one`/`:many` the record a repository declared
with `Q.name.returning(Record)`), and its columns are held to that record's
fields: same names in the same order, types that fit (tether.check.pytypes),
and no column that can be NULL in a field that cannot hold None: a nullable
table column the Describe names, or what the query's generic plan shows can be
NULL (an outer join's nullable side, an aggregate over no rows, a scalar
subquery: tether.check.nullability). Then the catalog:
indexed foreign keys, no redundant index, plain words for every rule, a
rollback for every migration. A query of a domain folder that no repository
binds is a finding too: dead SQL. Each finding is one line, `path:line: message`.

`tether check DOMAIN ...` checks `common` and those domains only, as a service
that uses them deploys them. `tether check --live` compares a live database's
catalog with the migrations instead (tether.check.drift).
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
from collections.abc import Iterable
from pathlib import Path

import attrs
from attrs import frozen

from tether import domains as registry
from tether.check.catalog import Catalog
from tether.check.findings import Finding
from tether.check.nullability import NullabilityCatalog, scanned_tables
from tether.check.pytypes import PgType
from tether.check.schema import MigrationSource, rollback_findings, schema_findings
from tether.check.statements import column_verdicts, describe, judge, undecided
from tether.check.tenancy import tenancy_findings
from tether.commands import Out, migrated_scratch
from tether.database import Database
from tether.queries import Query, QueryError, is_bound, load
from tether.resources import migrations_dir, sql_dir

__all__ = ["Finding", "Report", "command", "run"]

# Core modules that bind catalog queries to records; each domain's repositories
# and story bind its own.
BINDING_MODULES = (
    "tether.changes",
    "tether.replicas",
    "tether.testing",
    "tether.check.catalog",
    "tether.check.nullability",
    "tether.check.drift",
)
CATALOG_FOLDER = "catalog"


@frozen
class Report:
    findings: list[Finding]
    query_count: int
    schemas: list[str]
    # Columns whose NULL the plans do not decide, read into fields that cannot hold
    # None: notes for `--verbose`, never findings (tether.check.nullability).
    undecided: list[Finding] = attrs.Factory(list)


def binding_modules(domains: Iterable[registry.Domain] = registry.DOMAINS) -> list[str]:
    own = [d.module_name(part) for d in domains for part in ("repositories", "story")]
    return own + list(BINDING_MODULES)


def import_bindings(domains: Iterable[registry.Domain] = registry.DOMAINS) -> list[Finding]:
    """Import every module that declares query records; one that fails is a finding."""
    findings = []
    for name in binding_modules(domains):
        try:
            importlib.import_module(name)
        except Exception as error:  # whatever stops the import is the finding
            if isinstance(error, ModuleNotFoundError) and error.name == "pytest":
                continue  # tether.testing is a pytest plugin: without pytest its queries never run
            findings.append(_import_failure(name, error))
    return findings


def _import_failure(name: str, error: Exception) -> Finding:
    spec = importlib.util.find_spec(name)
    path = Path(spec.origin) if spec and spec.origin else Path(name.replace(".", "/") + ".py")
    return Finding.at(path, 1, f"cannot import {name}: {type(error).__name__}: {error}")


def stray_folders(root: Path) -> list[Finding]:
    """A folder of queries under `root` that is neither a domain's nor the catalog's."""
    known = {CATALOG_FOLDER, *(d.name for d in registry.DOMAINS)}
    return [
        Finding.at(folder, 1, f"query folder {folder.name} belongs to no domain of tether.domains")
        for folder in sorted(p for p in root.iterdir() if p.is_dir() and p.name[0] not in "._")
        if folder.name not in known
    ]


def load_queries(root: Path, folders: Iterable[str]) -> tuple[list[Query], list[Finding]]:
    """Every query of the named folders under `root`; a file the loader refuses is a finding."""
    loaded: list[Query] = []
    findings: list[Finding] = []
    for name in folders:
        try:
            loaded.extend(load(name, root))
        except QueryError as error:
            findings.append(Finding.at(error.path or root / name, error.line or 1, error.message))
    return loaded, findings


def unbound_findings(loaded: Iterable[Query]) -> list[Finding]:
    """A domain query that no repository class binds is dead SQL."""
    domains = {domain.name for domain in registry.DOMAINS}
    return [
        Finding.at(
            query.path,
            query.line,
            f"query {query.name} is run by no repository: bind it on the repository that "
            f"runs it ({query.name.upper()} = Q.{query.name}...), or delete it",
        )
        for query in loaded
        if query.domain in domains and not is_bound(query)
    ]


async def run(
    url: str,
    *,
    domains: Iterable[str] | None = None,
    sql_root: Path | None = None,
    migrations_root: Path | None = None,
    folders: Iterable[str] | None = None,
) -> Report:
    """Check the queries of the chosen domains (default: all) and the catalog under
    `sql_root` (default: tether's sql/), or of the named `folders` there, and the
    schema of the migrated database at `url` (made by the migrations under
    `migrations_root`)."""
    chosen = registry.select(domains)
    findings = import_bindings(chosen)
    sql_root = sql_root or sql_dir()
    if folders is None:
        folders = [CATALOG_FOLDER, *(d.name for d in chosen)]
        findings += stray_folders(sql_root)
    loaded, refused_files = load_queries(sql_root, folders)
    findings += unbound_findings(loaded)
    described, refused = await asyncio.to_thread(describe, url, loaded)
    findings += refused_files + refused
    columns = [column for query in described for column in query.columns]
    root = migrations_root or migrations_dir()
    async with Database(url, min_size=1, max_size=1) as db:
        catalog = Catalog(db)
        described_types = await catalog.types(column.type_oid for column in columns)
        types = {oid: PgType.of(described) for oid, described in described_types.items()}
        origins = await catalog.column_origins(
            (column.table_oid, column.attnum) for column in columns if column.table_oid
        )
        scanned = (
            table for query in described if query.plan for table in scanned_tables(query.plan)
        )
        not_null = await NullabilityCatalog(db).not_null(scanned)
        undecided_columns: list[Finding] = []
        for query in described:
            verdicts = column_verdicts(query, types, lambda *column: not_null.get(column))
            findings.extend(judge(query, types, origins, verdicts))
            undecided_columns.extend(undecided(query, verdicts))
        schemas = await catalog.domain_schemas()
        findings += await schema_findings(catalog, schemas, MigrationSource(root))
        findings += await tenancy_findings(db, schemas, MigrationSource(root))
    findings += rollback_findings(root)
    return Report(sorted(findings), len(loaded), schemas, sorted(undecided_columns))


async def command(
    server_url: str,
    out: Out,
    note: Out,
    domains: Iterable[str] | None = None,
    *,
    verbose: bool = False,
) -> int:
    """`tether check`: findings on `out`, a summary on `note`; 1 if anything was found."""
    async with migrated_scratch(server_url, domains) as url:
        report = await run(url, domains=domains)
    for finding in report.findings:
        out(str(finding))
    for column in report.undecided if verbose else ():
        note(f"note: {column}")
    checked = f"{report.query_count} queries and schema(s) {', '.join(report.schemas) or '(none)'}"
    if report.undecided and not verbose:
        checked += f" ({len(report.undecided)} column(s) of unknown NULL: --verbose lists them)"
    if report.findings:
        note(f"tether check: {len(report.findings)} finding(s) in {checked}")
        return 1
    note(f"tether check: {checked}: no findings")
    return 0
