"""A distribution plan in Markdown, as docs/scale-out.md carries it between
`<!-- distribution:<domain> -->` markers."""

from __future__ import annotations

from collections.abc import Iterable

from tether import docblocks
from tether.check.catalog import ForeignKey, UniqueKey
from tether.distribution.model import DomainPlan, TablePlan

BLOCK = "distribution"  # docs/scale-out.md's blocks: <!-- distribution:<domain> -->


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
