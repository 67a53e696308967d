"""Which queries stay on one shard as written, read from each query's generic plan
(`EXPLAIN (GENERIC_PLAN, VERBOSE)`)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from typing import Any

import psycopg

from tether.distribution.model import QueryPlan, TablePlan
from tether.queries import Query

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
