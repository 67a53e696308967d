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
markers; `tether distribution --write-docs` rewrites them (and appends a missing
domain's), and tests/test_distribution.py fails when one differs from a freshly
migrated database.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, Literal

import psycopg
from attrs import frozen

from tether import admin, docblocks, queries
from tether import domains as registry
from tether.check import Out, scratch_name
from tether.check.catalog import Catalog, ErdColumn, ForeignKey, UniqueKey
from tether.database import Database
from tether.queries import Query

Kind = Literal["distributed", "reference", "standalone"]
BLOCK = "distribution"  # docs/scale-out.md's blocks: <!-- distribution:<domain> -->


@frozen
class TablePlan:
    name: str
    kind: Kind
    column: str | None  # the distribution column, present or to add
    present: bool  # whether the table has it already
    via: ForeignKey | None  # the foreign key that ties the table to its tenant
    nullable: bool  # rows may have no tenant (the column, or the key it comes from, allows NULL)
    keys: list[UniqueKey]  # primary key first, then the unique indexes


@frozen
class QueryPlan:
    name: str
    shards: Literal["one", "all", "none"]  # none: it touches no distributed table
    why: str


@frozen
class DomainPlan:
    schema: str
    root: str
    declared: bool
    key: str  # the name the tenant's key has in the tables that refer to it
    tables: list[TablePlan]
    foreign_keys: list[ForeignKey]
    queries: list[QueryPlan]

    def table(self, name: str) -> TablePlan:
        return next(table for table in self.tables if table.name == name)


# --- tables -----------------------------------------------------------------------------


def _parents(foreign_keys: Iterable[ForeignKey], tables: set[str]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {table: set() for table in tables}
    for key in foreign_keys:
        if key.parent_name in tables and key.parent_name != key.table_name:
            found[key.table_name].add(key.parent_name)
    return found


def _ancestors(table: str, parents: dict[str, set[str]]) -> set[str]:
    seen: set[str] = set()
    stack = [table]
    while stack:
        for parent in parents[stack.pop()]:
            if parent not in seen:
                seen.add(parent)
                stack.append(parent)
    return seen


def suggest_root(tables: set[str], foreign_keys: Sequence[ForeignKey]) -> str:
    """The table most tables belong to: reached from them through ON DELETE CASCADE
    foreign keys, the way a tenant owns its rows (a lookup table is referred to, not
    an owner). Ties: the one more tables belong to directly, then by name."""
    parents = _parents((k for k in foreign_keys if k.on_delete == "cascade"), tables)
    reached = Counter(a for table in tables for a in _ancestors(table, parents))
    direct = Counter(p for table in tables for p in parents[table])
    return min(tables, key=lambda t: (-reached[t], -direct[t], t))


def plan_tables(
    root: str,
    columns: Sequence[ErdColumn],
    foreign_keys: Sequence[ForeignKey],
    unique_keys: Sequence[UniqueKey],
) -> tuple[str, list[TablePlan]]:
    """The tenant key's name and each table's place in a distribution by `root`."""
    tables = {column.table_name for column in columns}
    not_null = {(c.table_name, c.column_name): c.not_null for c in columns}
    keys_of = {table: [k for k in unique_keys if k.table_name == table] for table in tables}
    primary = next((k for k in keys_of[root] if k.primary_key), None)
    if primary is None or len(primary.columns) != 1 or primary.columns[0] is None:
        raise ValueError(f"tenant root {root} has no single-column primary key")
    root_key = primary.columns[0]
    parents = _parents(foreign_keys, tables)
    bound = {t for t in tables if root in _ancestors(t, parents)} | {root}
    own = [k for k in foreign_keys if k.parent_name in tables and k.parent_name != k.table_name]

    def refers_to_root(key: ForeignKey) -> str | None:
        pairs = dict(zip(key.parent_columns, key.columns, strict=True))
        return pairs.get(root_key) if key.parent_name == root else None

    named = Counter(c for key in own if (c := refers_to_root(key)) is not None)
    key_name = named.most_common(1)[0][0] if named else f"{root}_{root_key}"

    column: dict[str, str] = {root: root_key}
    present: dict[str, bool] = {root: True}
    via: dict[str, ForeignKey] = {}
    nullable: dict[str, bool] = {root: False}
    # First the tables that carry the column: a key to the root, or to a parent that
    # has its column, including it; in turns, as parents are resolved.
    changed = True
    while changed:
        changed = False
        for table in sorted(bound - column.keys()):
            for key in sorted(
                (k for k in own if k.table_name == table and k.parent_name in column),
                key=lambda k: (k.parent_name != root, k.constraint_name),
            ):
                parent = key.parent_name
                pairs = dict(zip(key.parent_columns, key.columns, strict=True))
                if present[parent] and column[parent] in pairs:
                    column[table] = pairs[column[parent]]
                    present[table], via[table] = True, key
                    nullable[table] = not not_null[(table, column[table])]
                    changed = True
                    break
    # Then the tables that lack it: copied from the parent they reach first (every
    # table in `bound` leads to the root, so each turn settles at least one).
    while missing := sorted(bound - column.keys()):
        for table in missing:
            found = (k for k in own if k.table_name == table and k.parent_name in column)
            if (first := next(found, None)) is not None:
                parent = first.parent_name
                column[table] = key_name if parent == root else column[parent]
                present[table], via[table] = False, first
                nullable[table] = nullable[parent] or not first.required
    referenced = {a for table in bound for a in _ancestors(table, parents)} - bound

    def kind(table: str) -> Kind:
        if table in bound:
            return "distributed"
        return "reference" if table in referenced else "standalone"

    plans = [
        TablePlan(
            name=table,
            kind=kind(table),
            column=column.get(table),
            present=present.get(table, False),
            via=via.get(table),
            nullable=nullable.get(table, False),
            keys=keys_of[table],
        )
        for table in sorted(tables)
    ]
    return key_name, plans


# --- queries ----------------------------------------------------------------------------

EXPLAIN = b"explain (generic_plan, verbose, format json) "


def explain(url: str, loaded: Iterable[Query]) -> dict[str, Any]:
    """Each query's generic plan (JSON), or the server's refusal (a string), by name."""
    plans: dict[str, Any] = {}
    with psycopg.connect(url, autocommit=True) as conn:
        for query in loaded:
            try:
                row = conn.execute(EXPLAIN + query.sql.encode()).fetchone()
            except psycopg.Error as error:
                plans[query.name] = str(error).splitlines()[0]
                continue
            plan = row[0] if row else None
            plans[query.name] = json.loads(plan) if isinstance(plan, str) else plan
    return plans


def _nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", ()):
        yield from _nodes(child)


# Where a plan node keeps conditions: on a scan's own rows, and on a join's.
_CONDITIONS = (
    "Index Cond",
    "Filter",
    "Recheck Cond",
    "TID Cond",
    "Hash Cond",
    "Merge Cond",
    "Join Filter",
)
_PARAMETER = re.compile(r"\(?\$(\d+)\)?(?:::[\w .\[\]]+)?")
_COLUMN = r'(?<![\w."])"?(\w+)"?\.(\w+)(?!\w)'  # alias.column, as EXPLAIN VERBOSE writes it
_COLUMN_IS_PARAMETER = re.compile(
    rf"{_COLUMN} = {_PARAMETER.pattern}|{_PARAMETER.pattern} = {_COLUMN}"
)
_COLUMN_IS_COLUMN = re.compile(rf"{_COLUMN} = {_COLUMN}")
_GENERATED = ("nextval(", "gen_random_uuid(")


def _pinned_scans(scans: dict[str, TablePlan], conditions: list[str]) -> dict[str, set[int]]:
    """For each scan (by alias) of a table that has its distribution column, the
    parameters the column equals: directly (`p.user_id = $1`), or through a join on
    distribution columns to a scan that is pinned (`t.user_id = p.user_id`)."""
    pinned: dict[str, set[int]] = {alias: set() for alias in scans}

    def distributes(alias: str, column: str) -> bool:
        table = scans.get(alias)
        return table is not None and table.present and table.column == column

    links = []
    for text in conditions:
        for match in _COLUMN_IS_PARAMETER.finditer(text):
            alias, column, number = (
                (match[1], match[2], match[3]) if match[1] else (match[5], match[6], match[4])
            )
            if distributes(alias, column):
                pinned[alias].add(int(number))
        for match in _COLUMN_IS_COLUMN.finditer(text):
            if distributes(match[1], match[2]) and distributes(match[3], match[4]):
                links += [(match[1], match[3]), (match[3], match[1])]
    changed = True
    while changed:
        changed = False
        for alias, other in links:
            if not pinned[other] <= pinned[alias]:
                pinned[alias] |= pinned[other]
                changed = True
    return pinned


def _pinned_insert(node: dict[str, Any], attnum: int) -> set[int] | None:
    """The parameter an INSERT takes the column from; an empty set for a fresh key
    (nextval, gen_random_uuid); None when it comes from anything else."""
    source = next(
        (child for child in node.get("Plans", ()) if child.get("Parent Relationship") == "Outer"),
        None,
    )
    outputs = source.get("Output", []) if source else []
    if attnum > len(outputs):
        return None
    value = outputs[attnum - 1]
    if match := _PARAMETER.fullmatch(value):
        return {int(match[1])}
    return set() if value.startswith(_GENERATED) else None


def plan_query(
    query: Query,
    explained: Any,
    schema: str,
    tables: dict[str, TablePlan],
    attnums: dict[tuple[str, str], int],
) -> QueryPlan:
    if isinstance(explained, str):
        return QueryPlan(query.name, "all", f"not planned: {explained}")
    scans: dict[str, TablePlan] = {}  # alias -> table, for each scan of a distributed table
    inserts: list[tuple[TablePlan, set[int] | None]] = []
    conditions: list[str] = []
    for node in _nodes(explained[0]["Plan"]):
        conditions += [node[name] for name in _CONDITIONS if name in node]
        name = node.get("Relation Name")
        table = tables.get(name) if node.get("Schema") == schema and name else None
        if table is None or table.kind != "distributed" or table.column is None:
            continue
        if node["Node Type"] != "ModifyTable":
            scans[node.get("Alias", table.name)] = table
        elif node.get("Operation") == "Insert":
            attnum = attnums.get((table.name, table.column), 0)
            inserts.append((table, _pinned_insert(node, attnum) if table.present else None))
        # An UPDATE or DELETE: the scan below it says which rows.
    pinned = _pinned_scans(scans, conditions)
    touched: dict[str, set[int] | None] = {}  # table -> pinning parameters (None: unpinned)
    instances = [*((t, pinned[a] or None) for a, t in scans.items()), *inserts]
    for table, parameters in instances:
        before = touched.get(table.name, set())
        touched[table.name] = None if before is None or parameters is None else before | parameters
    if not touched:
        return QueryPlan(query.name, "none", "no distributed table")
    loose = [t for t, parameters in touched.items() if parameters is None]
    if loose:
        why = "; ".join(
            f"{t} has no {tables[t].column} yet"
            if not tables[t].present
            else f"{t} not by {tables[t].column}"
            for t in sorted(loose)
        )
        return QueryPlan(query.name, "all", why)
    numbers = sorted({n for parameters in touched.values() if parameters for n in parameters})
    if len(numbers) > 1:
        named = ", ".join(f":{query.params[n - 1]}" for n in numbers)
        return QueryPlan(query.name, "all", f"several tenants ({named})")
    by = f"by :{query.params[numbers[0] - 1]}" if numbers else "by the new row's key"
    return QueryPlan(query.name, "one", f"{', '.join(sorted(touched))} {by}")


# --- a domain ---------------------------------------------------------------------------


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


# --- Markdown ---------------------------------------------------------------------------


def _cols(names: Iterable[str | None]) -> str:
    return "(" + ", ".join(name or "?" for name in names) + ")"


def _key_cell(table: TablePlan, key: UniqueKey) -> str:
    shown = _cols(key.definitions) + (" partial" if key.partial else "")
    if table.kind != "distributed" or table.column is None:
        return f"{key.index_name} {shown}"
    if table.present and table.column in key.columns:
        return f"yes: {key.index_name} {shown}"
    wanted = _cols([*key.definitions, table.column])
    if key.primary_key:
        return f"**no**: {key.index_name} {shown}; Citus needs {wanted}"
    return (
        f"**no**: {key.index_name} {shown}; not enforceable across shards "
        f"(Citus takes {wanted}: unique per tenant only)"
    )


def _table_row(plan: DomainPlan, table: TablePlan) -> str:
    kind = {
        "distributed": "distributed (tenant root)" if table.name == plan.root else "distributed",
        "reference": "reference",
        "standalone": "standalone",
    }[table.kind]
    if table.kind != "distributed":
        column = "-"
    elif table.present:
        column = f"`{table.column}`"
    else:
        assert table.via is not None
        through = ", ".join(table.via.columns)
        column = f"`{table.column}`, **to add** (from {table.via.parent_name}, by {through})"
    if table.nullable:
        column += "; can be NULL: rows without a tenant have no shard"
    primary = next((k for k in table.keys if k.primary_key), None)
    uniques = [k for k in table.keys if not k.primary_key]
    cells = [
        f"`{table.name}`",
        kind,
        column,
        "-" if primary is None else _key_cell(table, primary),
        "<br>".join(_key_cell(table, k) for k in uniques) or "-",
    ]
    return "| " + " | ".join(cells) + " |"


def _foreign_key_row(plan: DomainPlan, key: ForeignKey) -> str:
    child = plan.table(key.table_name)
    parent = next((t for t in plan.tables if t.name == key.parent_name), None)
    target = f"{key.parent_name} {_cols(key.parent_columns)}"
    name = f"`{key.constraint_name}`: {key.table_name} {_cols(key.columns)} -> {target}"
    if child.kind != "distributed" or parent is None:
        verdict = "yes (no distributed table on the referring side)"
    elif parent.kind != "distributed":
        verdict = "yes (to a reference table)"
    else:
        assert child.column is not None
        assert parent.column is not None
        pairs = set(zip(key.columns, key.parent_columns, strict=True))
        cleared = key.on_delete in ("set null", "set default") and child.column in (
            key.on_delete_columns or key.columns
        )
        if not (child.present and parent.present and (child.column, parent.column) in pairs):
            wanted = [*key.columns, child.column], [*key.parent_columns, parent.column]
            verdict = (
                f"**no**: co-located only as {_cols(wanted[0])} -> "
                f"{key.parent_name} {_cols(wanted[1])}"
            )
        elif cleared:
            kept = [c for c in key.columns if c != child.column]
            remedy = f"limit it to {_cols(kept)}" if kept else "rows cannot outlive their tenant"
            verdict = (
                f"**no**: ON DELETE {key.on_delete.upper()} would clear {child.column}, the "
                f"distribution column; {remedy}"
            )
        else:
            verdict = "yes"
    return f"| {name} | {verdict} |"


def markdown(plan: DomainPlan) -> str:
    root = plan.table(plan.root)
    chosen = (
        "declared in tether.domains"
        if plan.declared
        else "suggested from the catalog: declare it as `tenant` in tether.domains"
    )
    others = sorted(
        {
            t.column
            for t in plan.tables
            if t.kind == "distributed" and t.name != plan.root and t.column is not None
        }
        - {plan.key}
    )
    also = f" ({', '.join(f'`{c}`' for c in others)} in some)" if others else ""
    one = sum(q.shards == "one" for q in plan.queries)
    none = sum(q.shards == "none" for q in plan.queries)
    lines = [
        f"### {plan.schema}",
        "",
        f"Tenant root `{plan.schema}.{plan.root}` ({chosen}): distributed by "
        f"`{plan.root}.{root.column}`, which the tables that refer to it carry as "
        f"`{plan.key}`{also}.",
        "",
        "| table | in Citus | distribution column | primary key | unique keys |",
        "|---|---|---|---|---|",
        *(_table_row(plan, table) for table in plan.tables),
        "",
        "| foreign key | includes the distribution column |",
        "|---|---|",
        *(_foreign_key_row(plan, key) for key in plan.foreign_keys),
        "",
        f"Queries: {one} of {len(plan.queries)} stay on one shard as written"
        + (f", {none} touch no distributed table" if none else "")
        + ".",
        "",
        "| query | shards | why |",
        "|---|---|---|",
        *(f"| `{q.name}` | {q.shards} | {q.why} |" for q in plan.queries),
    ]
    return "\n".join(lines)


def page_block(plan: DomainPlan) -> str:
    return docblocks.block(BLOCK, plan.schema, markdown(plan))


async def plans(url: str, domains: Iterable[str] | None = None) -> list[DomainPlan]:
    """The plans of the chosen domains (default: all) in the migrated database at `url`."""
    async with Database(url, min_size=1, max_size=1) as db:
        return [await plan(db, url, domain) for domain in registry.select(domains)]


async def _plans_of_migrations(server_url: str, domains: list[str]) -> list[DomainPlan]:
    async with admin.scratch_database(
        server_url, scratch_name(), migrated=True, domains=domains
    ) as url:
        return await plans(url, domains)


def write_page(text: str, found: Sequence[DomainPlan]) -> str:
    """The page with each plan's block rewritten; a domain without one gets it after
    the last block (at the end when there is none)."""
    refreshed, missing = docblocks.refresh(BLOCK, text, {p.schema: page_block(p) for p in found})
    for plan in found:
        if plan.schema not in missing:
            continue
        new = page_block(plan)
        present = list(docblocks.blocks(BLOCK, refreshed).values())
        if present:
            last = refreshed.rindex(present[-1]) + len(present[-1])
            refreshed = f"{refreshed[:last]}\n\n{new}{refreshed[last:]}"
        else:
            refreshed = f"{refreshed.rstrip()}\n\n{new}\n" if refreshed.strip() else f"{new}\n"
    return refreshed


def command(
    server_url: str, domains: Iterable[str] | None, page: Path | None, out: Out, note: Out
) -> int:
    """`tether distribution`: print the plans of the chosen domains (default: all), or
    rewrite them in `page`; 2 for an unknown domain or a plan that cannot be made."""
    try:
        chosen = [domain.name for domain in registry.select(domains)]
        found = asyncio.run(_plans_of_migrations(server_url, chosen))
    except ValueError as error:
        note(f"tether distribution: {error}")
        return 2
    if page is None:
        out("\n\n".join(markdown(plan) for plan in found))
        return 0
    text = page.read_text(encoding="utf-8") if page.exists() else ""
    refreshed = write_page(text, found)
    if refreshed != text:
        page.write_text(refreshed, encoding="utf-8")
    note(f"{page}: distribution plan of {', '.join(chosen)} up to date")
    return 0
