"""Each named query against the live schema: prepared, described, compared with its record.

The Describe of a prepared statement tells, per result column, its name, its
type and, when it is a plain column of a table, that table's oid and the
column's number (the protocol's RowDescription). asyncpg keeps the last two to
itself, so the Describe goes through libpq (psycopg, which tether already
installs for yoyo): `PQprepare` + `PQdescribePrepared` on the unnamed statement,
which nothing ever executes.
"""

from __future__ import annotations

import typing
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import attrs
import psycopg
from attrs import frozen
from psycopg import pq

from tether.check.catalog import ColumnOrigin
from tether.check.findings import Finding
from tether.check.nullability import NotNull, Plan, PlanReader, Verdict, explain
from tether.check.pytypes import PgType, allows_none, expected, fits, hint_text
from tether.queries import Query, record_of

_ROWLESS = ("exec", "execrows")
_ROWS = ("one", "many")


@frozen
class Column:
    name: str
    type_oid: int
    table_oid: int  # 0 unless the column is a plain column of a table
    attnum: int


@frozen
class Described:
    query: Query
    parameter_count: int
    columns: tuple[Column, ...]
    plan: Plan | None = None  # the generic plan of a query that returns records


def describe(url: str, queries: Iterable[Query]) -> tuple[list[Described], list[Finding]]:
    """Prepare and describe every query; a query the server refuses becomes a finding."""
    described: list[Described] = []
    refused: list[Finding] = []
    with psycopg.connect(url, autocommit=True) as conn:
        pgconn = conn.pgconn
        for query in queries:
            prepared = pgconn.prepare(b"", query.sql.encode())
            if prepared.status != pq.ExecStatus.COMMAND_OK:
                refused.append(_refusal(query, prepared))
                continue
            result = pgconn.describe_prepared(b"")
            columns = tuple(
                Column(
                    name=(result.fname(i) or b"").decode(),
                    type_oid=result.ftype(i),
                    table_oid=result.ftable(i),
                    attnum=result.ftablecol(i),
                )
                for i in range(result.nfields)
            )
            plan = explain(conn, query) if query.command in _ROWS else None
            described.append(Described(query, result.nparams, columns, plan))
    return described, refused


def _refusal(query: Query, result: pq.abc.PGresult) -> Finding:
    """The server's error, at the line of the .sql file it points to, with its hint."""

    def field(code: pq.DiagnosticField) -> str | None:
        value = result.error_field(code)
        return None if value is None else value.decode()

    message = field(pq.DiagnosticField.MESSAGE_PRIMARY) or "the server refused the statement"
    hint = field(pq.DiagnosticField.MESSAGE_HINT)
    position = field(pq.DiagnosticField.STATEMENT_POSITION)
    line = _sql_start_line(query)
    if position is not None:
        line += query.sql[: int(position) - 1].count("\n")
    words = f"query {query.name}: {message}" + (f" (hint: {hint})" if hint else "")
    return Finding.at(query.path, line, words)


def _sql_start_line(query: Query) -> int:
    """The file line where the query's SQL begins: after its header, its doc comment
    lines and any blank lines (the loader strips the same ones)."""
    lines = query.path.read_text(encoding="utf-8").splitlines()
    number = query.line + 1
    while number <= len(lines) and lines[number - 1].strip().startswith("--"):
        number += 1
    while number <= len(lines) and not lines[number - 1].strip():
        number += 1
    return number


def column_verdicts(
    described: Described, types: dict[int, PgType], not_null: NotNull
) -> list[Verdict]:
    """Whether each result column can be NULL, from the query's plan (none without one)."""
    if described.plan is None:
        return []
    arrays = [types[column.type_oid].element is not None for column in described.columns]
    return PlanReader(described.plan, not_null).columns(len(described.columns), arrays)


def undecided(described: Described, verdicts: Sequence[Verdict]) -> Iterator[Finding]:
    """A note for each column whose NULL the plan does not decide, read into a field that
    cannot hold None: what `tether check --verbose` lists, never a failure."""
    query = described.query
    record = record_of(query)
    if record is None or not attrs.has(record) or len(verdicts) != len(described.columns):
        return
    try:
        hints = typing.get_type_hints(record)
    except (NameError, TypeError):
        return
    fields = [f.name for f in attrs.fields(record) if f.init]
    for column, field, verdict in zip(described.columns, fields, verdicts, strict=False):
        if verdict.state == "unknown" and not allows_none(hints.get(field, Any)):
            message = f"query {query.name}: column {column.name}: NULL unknown ({verdict.reason})"
            yield Finding.at(query.path, query.line, message)


def judge(
    described: Described,
    types: dict[int, PgType],
    origins: dict[tuple[int, int], ColumnOrigin],
    verdicts: Sequence[Verdict] = (),
) -> Iterator[Finding]:
    """Findings about one described query: parameters, command, record fit."""
    query = described.query

    def finding(message: str) -> Finding:
        return Finding.at(query.path, query.line, f"query {query.name}: {message}")

    names = [column.name for column in described.columns]
    if described.parameter_count != len(query.params):
        yield finding(
            f"PostgreSQL sees {described.parameter_count} parameter(s), the query names "
            f"{len(query.params)} ({', '.join(':' + p for p in query.params) or 'none'})"
        )
    if query.command in _ROWLESS and names:
        yield finding(f":{query.command} returns no rows, but this query returns {_listed(names)}")
    elif query.command == "val" and len(names) != 1:
        yield finding(f":val returns exactly one column, this query returns {_listed(names)}")
    elif query.command in _ROWS:
        record = record_of(query)
        if record is None:
            yield finding(
                f":{query.command} needs a record: declare it in the repository that runs it "
                f"(Q.{query.name}.returning(SomeRecord))"
            )
        else:
            yield from (
                finding(m) for m in _against_record(described, record, types, origins, verdicts)
            )


def _against_record(
    described: Described,
    record: type[Any],
    types: dict[int, PgType],
    origins: dict[tuple[int, int], ColumnOrigin],
    verdicts: Sequence[Verdict],
) -> Iterator[str]:
    name = record.__qualname__
    if not attrs.has(record):
        yield f"{name} is not an attrs class"
        return
    try:
        hints = typing.get_type_hints(record)
    except (NameError, TypeError) as error:
        yield f"the field types of {name} cannot be resolved ({error})"
        return
    fields = [(f.name, hints.get(f.name, Any)) for f in attrs.fields(record) if f.init]
    columns = [column.name for column in described.columns]
    mismatch = _name_mismatch(columns, [field for field, _ in fields], name)
    if mismatch:
        yield mismatch
        return
    for index, (column, (field, hint)) in enumerate(zip(described.columns, fields, strict=True)):
        pg_type = types[column.type_oid]
        verdict = fits(pg_type, hint)
        if verdict is None:
            yield (
                f"column {column.name} is {pg_type}, a type tether.check.pytypes has no "
                "Python type for (add it to PYTHON_TYPES)"
            )
        elif not verdict:
            yield (
                f"column {column.name} is {pg_type}, but {name}.{field} is {hint_text(hint)} "
                f"(expected {expected(pg_type)})"
            )
        if allows_none(hint):
            continue
        origin = origins.get((column.table_oid, column.attnum))
        if origin is not None and not origin.not_null:
            yield (
                f"column {column.name} comes from {origin.column_name}, which can be NULL, "
                f"but {name}.{field} is {hint_text(hint)} (make it Optional, or select a "
                "value that is never NULL)"
            )
        elif index < len(verdicts) and (null := verdicts[index]).state == "nullable":
            yield (
                f"column {column.name} can be NULL ({null.reason}), but {name}.{field} is "
                f"{hint_text(hint)} (make it Optional, or select a value that is never NULL)"
            )


def _name_mismatch(columns: list[str], fields: list[str], record: str) -> str | None:
    if columns == fields:
        return None
    said = f"columns {_listed(columns)} do not match the fields of {record} {_listed(fields)}"
    if sorted(columns) == sorted(fields):
        return f"{said}: same names in another order (rows build records positionally)"
    details = []
    if missing := [f for f in fields if f not in columns]:
        details.append(f"no column for {', '.join(missing)}")
    if extra := [c for c in columns if c not in fields]:
        details.append(f"no field for {', '.join(extra)}")
    if not details:
        details.append("a name is repeated")
    return f"{said}: {'; '.join(details)}"


def _listed(names: list[str]) -> str:
    return f"({', '.join(names)})" if names else "no columns"
