"""Each table's place in a distribution by tenant: distributed (and by which column,
present or to add), reference, or standalone; and the tenant root to suggest when a
domain declares none."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from tether.check.catalog import ErdColumn, ForeignKey, UniqueKey
from tether.distribution.model import Kind, TablePlan


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
