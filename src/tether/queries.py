"""Named SQL queries: `sql/<domain>/*.sql` parsed once into immutable Query objects.

A file holds queries in the spirit of sqlc::

    -- name: get_user :one
    -- The user with this id.
    select id, email from planner.users where id = :id;

`:name` placeholders become `$1..$n` at load time. The rewrite lexes PostgreSQL:
it leaves alone quoted strings ('..', E'..', "..", $tag$..$tag$), comments,
`::` casts and array slices (`a[1:2]`, `a[lo:hi]`).

A `:copy` query is an `insert into schema.table (columns) values (:columns)`:
repositories send its rows with COPY (binary), and `tether check` prepares the
INSERT, so the table, the columns and their types are checked like any query.
Each folder is loaded once per process: every `load("catalog")` is the same set.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from operator import itemgetter
from pathlib import Path
from typing import Any, Generic, LiteralString, NoReturn, TypeVar

import attrs

from tether.records import RowBuilder, builder
from tether.resources import sql_dir

# Loading errors and the lexer are part of this module's face too.
from tether.sqllex import QueryError as QueryError
from tether.sqllex import rewrite as rewrite

COMMANDS = ("one", "many", "val", "exec", "execrows", "copy")

_HEADER = re.compile(r"^--\s*name:\s*(?P<name>\w+)\s*(?::(?P<command>\w+))?\s*$")
# The target of a :copy query: `insert into schema.table (a, b) values (:a, :b)`.
_COPY_TARGET = re.compile(
    r"insert\s+into\s+(?P<schema>[a-z_][a-z0-9_]*)\.(?P<table>[a-z_][a-z0-9_]*)\s*"
    r"\((?P<columns>[a-z0-9_,\s]+)\)\s*values\s*\((?P<values>[^()]*)\)",
    re.IGNORECASE,
)

R = TypeVar("R")


@attrs.frozen
class Query:
    """One named statement, ready to run: `sql` uses `$n`, `params[n-1]` is its name."""

    domain: str
    name: str
    command: str
    sql: LiteralString
    params: tuple[str, ...]
    doc: str
    path: Path
    line: int
    # For :copy queries, where COPY writes: the table's schema and name, and its columns.
    copy_schema: str = ""
    copy_table: str = ""
    copy_columns: tuple[str, ...] = ()
    # Where a role under row-level security copies instead (COPY FROM is refused there):
    # a temporary table shaped like the columns (made anew, in the round trip that drops
    # a previous COPY's of the same transaction), and the INSERT from it. Built here, from
    # the file's own names, so nothing is assembled when a repository runs.
    copy_staging_table: str = ""
    copy_stage: str = ""
    copy_insert: str = ""
    # Takes `params`' values, in order, out of a dict: built once, run on every call.
    _pick: Callable[[dict[str, Any]], tuple[Any, ...]] = attrs.field(
        init=False, repr=False, eq=False
    )

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "_pick", _picker(self.params))

    @property
    def location(self) -> str:
        return f"{self.path}:{self.line}"

    def args(self, values: dict[str, Any]) -> tuple[Any, ...]:
        """The positional arguments for `$1..$n`, from values named as the query names them."""
        if len(values) == len(self.params):
            try:
                return self._pick(values)
            except KeyError:
                pass
        self._complain(values)

    def _complain(self, values: dict[str, Any]) -> NoReturn:
        missing = sorted(set(self.params) - set(values))
        extra = sorted(set(values) - set(self.params))
        raise TypeError(
            f"query {self.domain}.{self.name} ({self.location}) takes "
            f"{', '.join(':' + p for p in self.params) or 'no parameters'}; "
            f"missing {missing or 'none'}, unexpected {extra or 'none'}"
        )

    def returning(self, record: type[R]) -> Mapped[R]:
        """Declare the record this query's rows build (positionally); `tether check` reads it."""
        return Mapped(self, record)


def _picker(params: tuple[str, ...]) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
    """A function from a dict to the tuple of its values for `params`; KeyError if one is missing.

    itemgetter does it in C, but returns a bare value (not a 1-tuple) for one key.
    """
    if len(params) > 1:
        return itemgetter(*params)
    if params:
        [name] = params
        return lambda values: (values[name],)
    return lambda values: ()


@attrs.frozen
class Mapped(Generic[R]):
    """A query bound to the attrs record each of its rows becomes; `rows` builds them
    (tether.records.builder: made once per record class)."""

    query: Query
    record: type[R]
    rows: RowBuilder[R] = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        key = (self.query.domain, self.query.name)
        bound = _RECORDS.setdefault(key, self.record)
        if bound is not self.record:
            raise QueryError(
                f"query {self.query.domain}.{self.query.name} is mapped to both "
                f"{bound.__qualname__} and {self.record.__qualname__}",
                self.query.path,
                self.query.line,
            )
        object.__setattr__(self, "rows", builder(self.record))


# (domain, query name) -> record class, filled as repository modules are imported.
_RECORDS: dict[tuple[str, str], type[Any]] = {}
# The queries some repository class binds (runs), as (domain, query name).
_BOUND: set[tuple[str, str]] = set()


def record_of(query: Query) -> type[Any] | None:
    """The record a repository declared for `query`, if any."""
    return _RECORDS.get((query.domain, query.name))


def mark_bound(query: Query) -> None:
    _BOUND.add((query.domain, query.name))


def is_bound(query: Query) -> bool:
    """Whether a repository class binds `query` (once the modules defining them are imported)."""
    return (query.domain, query.name) in _BOUND


class QuerySet:
    """The queries of one domain, by name: `Q.get_user`."""

    def __init__(self, domain: str, queries: dict[str, Query]) -> None:
        self._domain = domain
        self._queries = queries

    def __getattr__(self, name: str) -> Query:
        try:
            return self._queries[name]
        except KeyError:
            raise AttributeError(
                f"no query named {name!r} in sql/{self._domain}/ "
                f"(known: {', '.join(sorted(self._queries))})"
            ) from None

    def __iter__(self) -> Iterator[Query]:
        return iter(self._queries.values())

    def __len__(self) -> int:
        return len(self._queries)


def load(domain: str, root: Path | None = None) -> QuerySet:
    """Every query of `sql/<domain>/*.sql` (or `root/<domain>/`), parsed once per process:
    a name used twice in a domain is an error."""
    return load_folder((root or sql_dir()) / domain, domain)


def load_folder(folder: Path, label: str) -> QuerySet:
    """Every query of `folder/*.sql`, named `label.<query>` in messages (the benchmarks'
    own SQL, for one); parsed once per process."""
    folder = folder.resolve()
    loaded = _LOADED.get(folder)
    if loaded is None:
        loaded = _LOADED.setdefault(folder, _load_folder(label, folder))
    return loaded


# Folder -> its queries: a folder is read once, whoever asks for it.
_LOADED: dict[Path, QuerySet] = {}


def _load_folder(domain: str, folder: Path) -> QuerySet:
    if not folder.is_dir():
        raise QueryError(f"no query folder {folder}")
    queries: dict[str, Query] = {}
    for path in sorted(folder.glob("*.sql")):
        for query in parse_file(path, domain):
            if query.name in queries:
                raise QueryError(
                    f"query {query.name!r} already defined at {queries[query.name].location}",
                    query.path,
                    query.line,
                )
            queries[query.name] = query
    return QuerySet(domain, queries)


def parse_file(path: Path, domain: str) -> list[Query]:
    return parse(path.read_text(encoding="utf-8"), path, domain)


def parse(text: str, path: Path, domain: str) -> list[Query]:
    """Split a file at its `-- name:` headers and compile each block."""
    blocks: list[tuple[int, re.Match[str], list[str]]] = []
    lines = text.splitlines()
    for number, line in enumerate(lines, start=1):
        header = _HEADER.match(line.strip())
        if header:
            blocks.append((number, header, []))
        elif blocks:
            blocks[-1][2].append(line)
        elif line.strip() and not line.lstrip().startswith("--"):
            raise QueryError("SQL before the first '-- name:' header", path, number)
    return [_compile(path, domain, number, header, body) for number, header, body in blocks]


def _compile(path: Path, domain: str, line: int, header: re.Match[str], body: list[str]) -> Query:
    name, command = header["name"], header["command"]
    if command not in COMMANDS:
        raise QueryError(
            f"query {name!r} needs a command, one of " + ", ".join(":" + c for c in COMMANDS),
            path,
            line,
        )
    doc_lines: list[str] = []
    for text in body:
        stripped = text.strip()
        if not stripped.startswith("--"):
            break
        doc_lines.append(stripped[2:].strip())
    source = "\n".join(body[len(doc_lines) :]).strip().rstrip(";").rstrip()
    if not source:
        raise QueryError(f"query {name!r} has no SQL", path, line)
    try:
        sql, params = rewrite(source)
        target = _copy_target(source, params) if command == "copy" else {}
    except QueryError as error:
        raise QueryError(f"query {name!r}: {error}", path, line) from None
    return Query(
        domain=domain,
        name=name,
        command=command,
        sql=sql,
        params=params,
        doc=" ".join(doc_lines),
        path=path,
        line=line,
        **target,
    )


def _copy_target(source: str, params: tuple[str, ...]) -> dict[str, Any]:
    """Where a :copy query's COPY writes; its VALUES must be `:column` for each column."""
    match = _COPY_TARGET.fullmatch(source)
    if match is None:
        raise QueryError(":copy takes one `insert into schema.table (columns) values (:columns)`")
    columns = tuple(column.strip() for column in match["columns"].split(","))
    if params != columns or match["values"].replace(" ", "").replace("\n", "") != ",".join(
        f":{column}" for column in columns
    ):
        raise QueryError(":copy VALUES must name each column once, in order: (:a, :b, ...)")
    target = f"{match['schema']}.{match['table']}"
    staging = f"tether_copy_{match['table']}"
    listed = ", ".join(columns)
    return {
        "copy_schema": match["schema"],
        "copy_table": match["table"],
        "copy_columns": columns,
        "copy_staging_table": staging,
        # pg_temp. names the session's own temporary schema: never a table of the search_path.
        "copy_stage": f"drop table if exists pg_temp.{staging}; "
        f"create temporary table {staging} on commit drop as "
        f"select {listed} from {target} with no data",
        "copy_insert": f"insert into {target} ({listed}) select {listed} from pg_temp.{staging}",
    }
