"""Whether a query's result column can be NULL, read from its generic plan.

A Describe says which table column a result column comes from, but not that it
passed through the nullable side of an outer join, that an aggregate saw no
rows, or that a scalar subquery found nothing. `EXPLAIN (VERBOSE, GENERIC_PLAN)`
shows every plan node's output expressions and the join each passes through,
after the planner has turned outer joins that a WHERE clause makes inner into
inner joins. Each result expression is followed down the plan to the node that
computes it: a table scan (the column's NOT NULL), an aggregate, a window
function, a subplan or a constant, and every outer join it comes up through on
the nullable side makes it nullable.

The inference is conservative: "not null" only when that is proven, "nullable"
with the reason when a NULL can arrive, "unknown" for everything else (columns of
a subquery or CTE the planner kept, UNION branches below the top, functions,
operators). Only "nullable" is a finding; "unknown" is listed by `--verbose`.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, Literal

import psycopg
from attrs import frozen

from tether.catalog import Q
from tether.queries import Query
from tether.repository import Repository

Plan = Mapping[str, Any]
State = Literal["not null", "nullable", "unknown"]
# (schema, table, column) -> attnotnull, for the tables the plans scan.
NotNull = Callable[[str, str, str], bool | None]


@frozen
class Verdict:
    state: State
    reason: str  # why it can be NULL, or why that is unknown; empty for "not null"


NOT_NULL = Verdict("not null", "")
_EXPLAIN = "explain (verbose, generic_plan, costs off, format json) "

_IDENT = r'(?:[A-Za-z_][A-Za-z0-9_$]*|"(?:[^"]|"")+")'
_VAR = re.compile(rf"^(?:({_IDENT})\.)?({_IDENT})$")
# A type as EXPLAIN prints it: lower-case words (keywords it prints are upper case),
# a typmod, array brackets: `character varying(20)`, `timestamp with time zone[]`.
_TYPE = r'(?:[a-z_][a-z0-9_.]*|"(?:[^"]|"")+")(?:\(\d+(?:,\d+)?\)| [a-z_][a-z0-9_]*)*(?:\[\])*'
_CONSTANT = re.compile(rf"^(?:'(?:[^']|'')*'|-?\d+(?:\.\d+)?|true|false)(?:::{_TYPE})*$")
_SUBPLAN = re.compile(r"^\(?(InitPlan|SubPlan) (\d+)\)?(?:\.col(\d+))?$")
_CALL = re.compile(r"^([A-Za-z_][A-Za-z0-9_.]*)\(")
_JOIN_NULLS = {"Left": ("Inner",), "Right": ("Outer",), "Full": ("Outer", "Inner")}
_TREE = ("Outer", "Inner", "Member", "Subquery")
# Calls never NULL, over rows or none: count() and the ranking window functions.
_NEVER_NULL_CALLS = frozenset(
    ("count", "row_number", "rank", "dense_rank", "ntile", "percent_rank", "cume_dist")
)
# Aggregates never NULL over the rows of a group (a group has at least one).
_GROUP_NEVER_NULL = frozenset(
    ("array_agg", "json_agg", "jsonb_agg", "json_object_agg", "jsonb_object_agg")
)
# Aggregates NULL over no rows.
_EMPTY_NULL = _GROUP_NEVER_NULL | frozenset(
    ("max", "min", "sum", "avg", "bool_and", "bool_or", "every", "bit_and", "bit_or", "string_agg")
)


def strip_parens(text: str) -> str:
    """`((a.id))` -> `a.id`: parentheses that wrap the whole expression."""
    text = text.strip()
    while text.startswith("(") and _closing(text, 0) == len(text) - 1:
        text = text[1:-1].strip()
    return text


def _unquoted(text: str, start: int = 0) -> Iterator[tuple[int, str, int]]:
    """Each character outside quotes, from `start`, with the bracket depth before it."""
    depth, quote = 0, ""
    for index in range(start, len(text)):
        char = text[index]
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        else:
            yield index, char, depth
            if char in "([":
                depth += 1
            elif char in ")]":
                depth -= 1


def _closing(text: str, start: int) -> int:
    """The index of the parenthesis that closes the one at `start`, outside quotes."""
    for index, char, depth in _unquoted(text, start):
        if char in ")]" and depth == 1:
            return index
    return -1


def _top_level(text: str, separator: str) -> Iterator[int]:
    """Where `separator` occurs outside parentheses and quotes."""
    for index, char, depth in _unquoted(text):
        if depth == 0 and char not in "()[]" and text.startswith(separator, index):
            yield index


def _arguments(text: str) -> list[str]:
    cuts = [-1, *_top_level(text, ","), len(text)]
    return [text[a + 1 : b].strip() for a, b in itertools.pairwise(cuts)]


def _unquote(identifier: str) -> str:
    return identifier[1:-1].replace('""', '"') if identifier.startswith('"') else identifier


def _children(node: Plan, kinds: tuple[str, ...] = _TREE) -> list[Plan]:
    return [c for c in node.get("Plans", ()) if c.get("Parent Relationship") in kinds]


def _aliases(node: Plan) -> list[str]:
    own = [node["Alias"]] if "Alias" in node else []
    return own + [a for child in _children(node) for a in _aliases(child)]


def _join_words(node: Plan, side: Plan) -> str:
    aliases = ", ".join(dict.fromkeys(_aliases(side))) or "a subquery"
    kind = "FULL JOIN" if node.get("Join Type") == "Full" else "an outer join"
    return f"from the nullable side of {kind} ({aliases})"


class PlanReader:
    """The verdicts of one statement's plan (the `Plan` of EXPLAIN's JSON)."""

    def __init__(self, plan: Plan, not_null: NotNull) -> None:
        self.root = plan
        self.not_null = not_null
        self.subplans = dict(self._subplans(plan))

    def _subplans(self, node: Plan) -> Iterator[tuple[str, Plan]]:
        if "Subplan Name" in node:
            yield node["Subplan Name"], node
        for child in node.get("Plans", ()):
            yield from self._subplans(child)

    def columns(self, count: int, arrays: list[bool]) -> list[Verdict]:
        """One verdict per result column; `arrays` says which are of an array type."""
        root = self.root
        if "Output" not in root and root.get("Node Type") in ("Append", "MergeAppend"):
            members = _children(root, ("Member",))
            return [
                _union([self.at(m, m["Output"][k], arrays[k]) for m in members])
                if all(len(m.get("Output", ())) > k for m in members)
                else Verdict("unknown", "a UNION branch")
                for k in range(count)
            ]
        # The columns come first; sort keys the query does not return may follow.
        outputs = list(root.get("Output", ()))[:count]
        if len(outputs) != count:
            return [Verdict("unknown", "the plan does not list the columns")] * count
        return [
            self.at(root, text, is_array) for text, is_array in zip(outputs, arrays, strict=True)
        ]

    def at(self, node: Plan, text: str, is_array: bool = False) -> Verdict:
        """The verdict of expression `text` as `node` outputs it: followed down to the
        node that computes it, through joins."""
        text = strip_parens(text)
        through: str | None = None
        while True:
            holders = [c for c in _children(node) if text in map(strip_parens, c.get("Output", ()))]
            if holders and _computes_here(node, text):
                # An aggregate this node computes, spelt like one a subquery below computed.
                return Verdict("unknown", f"{text} is computed at two levels")
            if len(holders) != 1:
                break
            child = holders[0]
            if child.get("Parent Relationship") in _JOIN_NULLS.get(node.get("Join Type", ""), ()):
                through = through or _join_words(node, child)
            if "Grouping Sets" in node:
                through = through or "a grouping set (ROLLUP, CUBE) puts NULL in it"
            node = child
        verdict = self._computed(node, text, is_array)
        if through is not None:
            return Verdict("nullable", through)
        return verdict

    def _computed(self, node: Plan, text: str, is_array: bool) -> Verdict:
        """The verdict of `text` computed at `node` (none of its children outputs it)."""
        if _CONSTANT.match(text):
            return NOT_NULL
        if text.startswith("NULL::") or text == "NULL":
            return Verdict("nullable", "the constant NULL")
        if (var := _VAR.match(text)) is not None:
            return self._column(node, var.group(1), var.group(2))
        if (sub := _SUBPLAN.match(text)) is not None:
            return self._subquery(
                f"{sub.group(1)} {sub.group(2)}", int(sub.group(3) or 1), is_array
            )
        if re.match(r"^(EXISTS|ARRAY)\((hashed )?SubPlan \d+\)$", text):
            return NOT_NULL
        if (test := re.fullmatch(r"(.+) IS (?:NOT )?NULL", text)) and _operand(test.group(1)):
            return NOT_NULL
        cast = [*_top_level(text, "::")][-1:]
        if cast and _operand(text[: cast[0]]) and re.fullmatch(_TYPE, text[cast[0] + 2 :]):
            return self.at(node, text[: cast[0]], is_array)
        if (call := _CALL.match(text)) is not None:
            return self._call(node, text, call.group(1), is_array)
        return Verdict("unknown", f"an expression: {text}")

    def _column(self, node: Plan, qualifier: str | None, column: str) -> Verdict:
        alias = node.get("Alias")
        if (
            node.get("Node Type") == "ModifyTable"
            and qualifier in ("old", "new")
            and qualifier != alias
        ):
            absent = _absent_row(node, qualifier)
            if absent is not None:
                return absent
            qualifier = None  # the row was or is in the table: its NOT NULL holds
        if "Relation Name" not in node or (qualifier is not None and _unquote(qualifier) != alias):
            what = f"{node.get('Node Type', 'node')} {alias}" if alias else "a plan node"
            return Verdict("unknown", f"a column of {what}")
        not_null = self.not_null(node["Schema"], node["Relation Name"], _unquote(column))
        if not_null is None:
            return Verdict("unknown", f"{node['Relation Name']}.{_unquote(column)} is no column")
        name = f"{node['Schema']}.{node['Relation Name']}.{_unquote(column)}"
        return NOT_NULL if not_null else Verdict("nullable", f"{name} can be NULL")

    def _subquery(self, name: str, column: int, is_array: bool) -> Verdict:
        plan = self.subplans.get(name)
        if plan is None:
            return Verdict("unknown", f"{name} is not in the plan")
        outputs = plan.get("Output", ())
        if not outputs:  # EXISTS plans select no column
            return NOT_NULL
        if (
            plan.get("Node Type") == "Aggregate"
            and plan.get("Strategy") == "Plain"
            and ("Filter" not in plan)
        ):
            # An aggregate without GROUP BY (or HAVING) returns exactly one row: its value decides.
            return self.at(plan, outputs[column - 1])
        if is_array:
            return Verdict("unknown", "a subquery: ARRAY(...) is never NULL, a scalar one can be")
        return Verdict("nullable", "a scalar subquery, NULL when it finds no row")

    def _call(self, node: Plan, text: str, name: str, is_array: bool) -> Verdict:
        close = _closing(text, len(name))
        inside, after = text[len(name) + 1 : close], text[close + 1 :].strip()
        if not _call_suffix(after):  # an operator follows: `count(*) + x`
            return Verdict("unknown", f"an expression: {text}")
        if name == "COALESCE" and not after:
            verdicts = [self.at(node, argument) for argument in _arguments(inside)]
            if any(v.state == "not null" for v in verdicts):
                return NOT_NULL
            # NULL only when every argument is: one undecided leaves it undecided.
            undecided = [v for v in verdicts if v.state == "unknown"]
            return undecided[0] if undecided else verdicts[0]
        if name in _NEVER_NULL_CALLS:
            return NOT_NULL
        if name in _EMPTY_NULL and node.get("Node Type") == "Aggregate":
            return self._aggregate(node, name, inside, after)
        return Verdict("unknown", f"a call of {name}()")

    def _aggregate(self, node: Plan, name: str, inside: str, after: str) -> Verdict:
        if node.get("Strategy") == "Plain" or "Grouping Sets" in node:
            return Verdict("nullable", f"{name}() over no rows")
        if after.startswith("FILTER"):
            return Verdict("nullable", f"{name}() {after} can see no rows of a group")
        if name in _GROUP_NEVER_NULL:
            return NOT_NULL  # each group has a row
        arguments = _arguments(inside)
        if len(arguments) == 1 and not re.search(r"\b(ORDER BY|DISTINCT)\b", inside):
            verdict = self.at(node, arguments[0])
            # max/min/... of a group are NULL only when the argument is NULL in every row.
            return NOT_NULL if verdict.state == "not null" else Verdict("unknown", f"{name}()")
        return Verdict("unknown", f"{name}()")


def _operand(text: str) -> bool:
    """A column or a parenthesized whole: what `IS NULL` or `::type` applies to alone."""
    return bool(_VAR.match(text)) or (text.startswith("(") and _closing(text, 0) == len(text) - 1)


def _call_suffix(after: str) -> bool:
    """Whether what follows a call's parentheses is only its `FILTER (...)` and `OVER w`."""
    if after.startswith("FILTER ("):
        close = _closing(after, len("FILTER "))
        if close < 0:
            return False
        after = after[close + 1 :].strip()
    if after.startswith("OVER "):
        window = after[len("OVER ") :].strip()
        return bool(re.fullmatch(r"\w+", window)) or _operand(window)
    return not after


def _absent_row(node: Plan, side: str) -> Verdict | None:
    """Whether `RETURNING old.x`/`new.x` (PostgreSQL 18) can find no row on that side:
    old of an inserted row, new of a deleted one; None when the row is always there."""
    operation, upsert = node.get("Operation"), "Conflict Resolution" in node
    if side == "old" and (operation == "Insert" or upsert):
        return Verdict("nullable", "old.* is NULL for a row the statement inserts")
    if side == "new" and operation == "Delete":
        return Verdict("nullable", "new.* is NULL for a row the statement deletes")
    if operation == "Merge":
        return Verdict("unknown", f"{side}.* of MERGE")
    return None


def _computes_here(node: Plan, text: str) -> bool:
    """Whether `text` is an aggregate call that the Aggregate `node` itself computes
    (window calls name their window, `OVER w1`, so they cannot be mistaken)."""
    call = _CALL.match(text)
    if call is None or node.get("Node Type") != "Aggregate" or " OVER " in text:
        return False
    return call.group(1) in _EMPTY_NULL | _NEVER_NULL_CALLS


def _union(verdicts: list[Verdict]) -> Verdict:
    """Of UNION ALL branches: NULL if any can be; not null if every one is proven."""
    for verdict in verdicts:
        if verdict.state == "nullable":
            return verdict
    for verdict in verdicts:
        if verdict.state == "unknown":
            return verdict
    return NOT_NULL


def scanned_tables(plan: Plan) -> Iterator[tuple[str, str]]:
    """(schema, table) of every relation the plan reads or writes."""
    if "Relation Name" in plan and "Schema" in plan:
        yield plan["Schema"], plan["Relation Name"]
    for child in plan.get("Plans", ()):
        yield from scanned_tables(child)


def explain(conn: psycopg.Connection[Any], query: Query) -> Plan | None:
    """The generic plan of a query (`$n` parameters); None if EXPLAIN refuses it."""
    try:
        rows = conn.execute(_EXPLAIN + query.sql).fetchone()
    except psycopg.Error:
        return None
    return None if rows is None else dict(rows[0][0]["Plan"])


@frozen
class TableColumn:
    schema_name: str
    table_name: str
    column_name: str
    not_null: bool


class NullabilityCatalog(Repository):
    TABLE_COLUMNS_NOT_NULL = Q.table_columns_not_null.returning(TableColumn)

    async def not_null(self, tables: Iterable[tuple[str, str]]) -> dict[tuple[str, str, str], bool]:
        """attnotnull by (schema, table, column) of every column of `tables`."""
        wanted = sorted(set(tables))
        rows = await self._many(
            self.TABLE_COLUMNS_NOT_NULL,
            schemas=[schema for schema, _ in wanted],
            tables=[table for _, table in wanted],
        )
        return {(r.schema_name, r.table_name, r.column_name): r.not_null for r in rows}
