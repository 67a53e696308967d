"""No SQL in src/ is built from values: an AST check of every call that sends SQL.

The SQL argument of execute/fetch*/prepare/cursor/copy_* must be a literal or the
`.sql` of a named query (for COPY: a :copy query's `.copy_table` and `.copy_schema`),
or a concatenation of such parts (`"explain " + query.sql`); a query picked at run
time (a sort or filter option) must come out of a fixed mapping written in the
module (`ORDER = {"newest": Q.x, ...}`), never from a call or an f-string. A method
that is itself named like one of those calls (the replica reader's `fetch`) may pass
its own SQL parameter on: every call of it is checked in its turn. Query objects are
made only by the loader, from sql/ files, and PL/pgSQL in sql/ and migrations/ runs
no dynamic EXECUTE. The checker is tested on bad and good snippets too, so that it
cannot pass by seeing nothing.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.reliability

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src"

SINKS = {
    "execute",
    "executemany",
    "fetch",
    "fetchrow",
    "fetchval",
    "fetchmany",
    "prepare",
    "cursor",
    "copy_from_query",
    "copy_from_table",
    "copy_to_table",
    "copy_records_to_table",
}
# Keyword arguments of those calls that carry SQL or a table's name.
SQL_KEYWORDS = {"query", "sql", "table_name", "schema_name"}

# The one module allowed to put text into SQL, and why.
ALLOWED = {
    "tether/admin.py": (
        "CREATE/DROP/ALTER DATABASE take an identifier, which cannot be a parameter; "
        "admin._identifier checks every name against tether_[a-z0-9_]+ before quoting it"
    ),
}


class Module:
    """A parsed module with what the checker needs: parents, and bindings by scope."""

    def __init__(self, source: str) -> None:
        self.tree = ast.parse(source)
        self.parent: dict[ast.AST, ast.AST] = {}
        for node in ast.walk(self.tree):
            for child in ast.iter_child_nodes(node):
                self.parent[child] = node

    def scopes(self, node: ast.AST) -> list[ast.AST]:
        """The enclosing functions and classes, innermost first, then the module."""
        found = []
        while node in self.parent:
            node = self.parent[node]
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                found.append(node)
        return [*found, self.tree]

    def bindings(self, name: str, at: ast.AST) -> list[ast.AST] | None:
        """What `name` is bound to in the innermost scope that binds it (None: a
        parameter, an import, a loop variable: nothing the checker can see through)."""
        for scope in self.scopes(at):
            values: list[ast.AST] = []
            opaque = False
            for node in ast.walk(scope):
                if self._scope_of(node) is not scope:
                    continue
                if isinstance(node, ast.Assign) and any(
                    isinstance(t, ast.Name) and t.id == name for t in node.targets
                ):
                    values.append(node.value)
                elif isinstance(node, ast.AnnAssign | ast.NamedExpr) and _named(node.target, name):
                    if node.value is None:
                        continue
                    values.append(node.value)
                elif isinstance(node, ast.AugAssign) and _named(node.target, name):
                    values.append(ast.BinOp(node.target, node.op, node.value))
                elif _binds_opaquely(node, name):
                    opaque = True
            if opaque:
                return None
            if values:
                return values
        return None

    def forwarded(self, name: str, at: ast.AST) -> bool:
        """Whether `name` is a parameter of the innermost function binding it, and that
        function is named like a call that sends SQL: it passes its caller's SQL on,
        and its callers are checked as such calls."""
        for scope in self.scopes(at):
            if not isinstance(scope, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            arguments = scope.args
            names = [a.arg for a in (*arguments.posonlyargs, *arguments.args)]
            if name in names + [a.arg for a in arguments.kwonlyargs]:
                return scope.name in SINKS
        return False

    def _scope_of(self, node: ast.AST) -> ast.AST:
        # A function's arguments sit inside its node, so they belong to it.
        return self.scopes(node)[0]


def _named(target: ast.AST, name: str) -> bool:
    return isinstance(target, ast.Name) and target.id == name


def _binds_opaquely(node: ast.AST, name: str) -> bool:
    """Whether `node` binds `name` to a value the checker cannot see."""
    if isinstance(node, ast.arg):
        return node.arg == name
    if isinstance(node, ast.For | ast.comprehension):
        return any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(node.target))
    if isinstance(node, ast.alias):
        return (node.asname or node.name) == name
    return False


def _is_fixed_mapping(value: ast.AST) -> bool:
    """A dict literal (optionally in MappingProxyType) of constant keys to named queries."""
    if isinstance(value, ast.Call) and value.args and len(value.args) == 1:
        value = value.args[0]
    return (
        isinstance(value, ast.Dict)
        and all(isinstance(k, ast.Constant) for k in value.keys)
        and all(_is_chain(v) for v in value.values)
    )


# The attributes of a named query that carry SQL, or a :copy query's target table.
# A named query's SQL, and what the loader builds from a :copy query's own names.
QUERY_SQL = {
    "sql",
    "copy_table",
    "copy_schema",
    "copy_staging_table",
    "copy_stage",
    "copy_insert",
}


def _is_chain(node: ast.AST) -> bool:
    """`name` or `name.attr.attr`: a named thing, not something computed."""
    while isinstance(node, ast.Attribute):
        node = node.value
    return isinstance(node, ast.Name)


def why_unsafe(module: Module, expr: ast.AST, seen: frozenset[str] = frozenset()) -> str | None:
    """Why `expr`, given as SQL, may carry a run-time value; None if it cannot."""
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str | bytes):
        return None
    if isinstance(expr, ast.JoinedStr):
        return "an f-string"
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add):
        # Static parts joined are static: a literal and a named query's SQL.
        reasons = [why_unsafe(module, part, seen) for part in (expr.left, expr.right)]
        if any(reasons):
            return "built with + from " + next(r for r in reasons if r)
        return None
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Mod):
        return "built with %"
    if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute):
        if expr.func.attr == "encode" and not expr.args:
            return why_unsafe(module, expr.func.value, seen)
        if expr.func.attr in ("format", "join", "replace"):
            return f"built with .{expr.func.attr}()"
    if isinstance(expr, ast.Attribute) and expr.attr in QUERY_SQL:
        return _why_unsafe_query(module, expr.value)
    if isinstance(expr, ast.Name):
        if expr.id in seen:
            return None
        values = module.bindings(expr.id, expr)
        if values is None and module.forwarded(expr.id, expr):
            return None
        if values is None:
            return f"{expr.id!r} comes from outside (a parameter, an import or a loop)"
        for value in values:
            reason = why_unsafe(module, value, seen | {expr.id})
            if reason:
                return f"{expr.id!r} is {reason}"
        return None
    return f"not a literal or a named query's .sql ({type(expr).__name__})"


def _why_unsafe_query(module: Module, holder: ast.AST) -> str | None:
    """`holder.sql`: a named query, or one picked from a fixed mapping."""
    if _is_chain(holder):
        return None
    if isinstance(holder, ast.Subscript) and isinstance(holder.value, ast.Name):
        values = module.bindings(holder.value.id, holder)
        if values and all(_is_fixed_mapping(v) for v in values):
            return None
        return f"a query picked from {holder.value.id!r}, which is not a fixed mapping"
    return "a query picked by a call or an expression, not from a fixed mapping"


def sql_arguments(call: ast.Call) -> list[ast.AST]:
    args: list[ast.AST] = list(call.args[:1])
    if isinstance(call.func, ast.Attribute) and call.func.attr == "prepare":
        args = list(call.args[:2])  # psycopg's pgconn.prepare(name, sql)
    args += [kw.value for kw in call.keywords if kw.arg in SQL_KEYWORDS]
    return [a for a in args if not isinstance(a, ast.Starred)]


def called(node: ast.AST) -> str | None:
    """The name a call calls (`conn.fetch(...)` -> "fetch"); None if `node` is no call."""
    if not isinstance(node, ast.Call):
        return None
    func = node.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def findings(source: str, where: str) -> list[str]:
    module = Module(source)
    found = []
    for node in ast.walk(module.tree):
        name = called(node)
        if name is None:
            continue
        if name in SINKS:
            for arg in sql_arguments(node):
                reason = why_unsafe(module, arg)
                if reason:
                    found.append(f"{where}:{node.lineno}: SQL for .{name}() is {reason}")
        if name == "Query" and not where.endswith("tether/queries.py"):
            found.append(f"{where}:{node.lineno}: a Query made outside the loader")
        if name == "evolve" and any(kw.arg == "sql" for kw in node.keywords):
            found.append(f"{where}:{node.lineno}: a query's SQL replaced at run time")
    return found


def test_no_sql_in_src_is_built_from_values():
    problems, sinks = [], 0
    for path in sorted(SRC.rglob("*.py")):
        where = path.relative_to(SRC).as_posix()
        if where in ALLOWED:
            continue
        source = path.read_text()
        problems += findings(source, where)
        sinks += sum(called(node) in SINKS for node in ast.walk(ast.parse(source)))
    assert sinks >= 5  # the repository's four calls and the pool's init, at least
    assert problems == []


def test_the_allowed_exception_only_quotes_checked_identifiers():
    """admin.py builds statements, but only from names that passed its pattern."""
    source = (SRC / "tether/admin.py").read_text()
    assert 'r"tether_[a-z0-9_]{1,55}"' in source
    assert "_NAME.fullmatch(name)" in source
    module = Module(source)
    for node in ast.walk(module.tree):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            parts = [node.left, node.right]
            for part in parts:
                if isinstance(part, ast.Call):
                    assert getattr(part.func, "id", "") == "_identifier", ast.unparse(part)


PLPGSQL_EXECUTE = re.compile(r"\bexecute\b(?!\s+(function|procedure)\b)", re.IGNORECASE)


def test_no_dynamic_sql_in_sql_files():
    for folder in ("sql", "migrations"):
        for path in sorted((ROOT / folder).rglob("*.sql")):
            text = re.sub(r"--[^\n]*", "", path.read_text())
            assert not PLPGSQL_EXECUTE.search(text), f"{path}: dynamic EXECUTE"


BAD = {
    "f-string": 'async def f(conn, x):\n    await conn.fetch(f"select * from t where a = {x}")',
    "percent": 'async def f(conn, x):\n    await conn.execute("delete from t where a = %s" % x)',
    "format": 'async def f(conn, x):\n    await conn.fetchrow("select {}".format(x))',
    "plus": 'async def f(conn, x):\n    await conn.fetchval("select " + x)',
    "via a variable": (
        'async def f(conn, x):\n    sql = "select * from t order by " + x\n'
        "    await conn.fetch(sql)"
    ),
    "augmented": (
        'async def f(conn, x):\n    sql = "select 1"\n    sql += x\n    await conn.fetch(sql)'
    ),
    "a parameter": "async def f(conn, statement):\n    await conn.execute(statement)",
    "a literal plus a parameter": (
        'async def f(conn, query):\n    await conn.fetch("explain " + query)'
    ),
    "a forwarding sink's other parameter": (
        "async def fetch(self, query, x):\n    await self.conn.fetch(x)\n"
        "async def g(conn, query):\n    await conn.fetch(query)"
    ),
    "picked by a call": "async def f(conn, name):\n    await conn.fetch(getattr(Q, name).sql)",
    "a dynamic mapping": (
        "ORDER = {name: q for name, q in load()}\n"
        "async def f(conn, sort):\n    await conn.fetch(ORDER[sort].sql)"
    ),
    "a copy into a computed table": (
        'async def f(conn, t, rows):\n    await conn.copy_records_to_table(f"x_{t}", records=rows)'
    ),
    "a query made by hand": 'q = Query(domain="d", name="n", sql="select 1")',
    "sql replaced": 'q = attrs.evolve(Q.get_user, sql="select 1")',
}
GOOD = {
    "a named query": "async def f(self, query, args):\n    await self._db.fetch(query.sql, *args)",
    "a copy query's table": (
        "async def f(self, query, rows):\n    await self._db.copy_records_to_table(\n"
        "        query.copy_table, schema_name=query.copy_schema, records=rows)"
    ),
    "a literal": 'async def f(conn, x):\n    await conn.fetch("select * from t where a = $1", x)',
    "a literal through a variable": (
        'SQL = "select 1"\nasync def f(conn):\n    await conn.fetchval(SQL)'
    ),
    "a fixed mapping": (
        'ORDER = {"newest": Q.list_newest, "oldest": Q.list_oldest}\n'
        "async def f(conn, sort):\n    await conn.fetch(ORDER[sort].sql)"
    ),
    "psycopg prepare": 'def f(pg, query):\n    pg.prepare(b"", query.sql.encode())',
    "a literal plus a named query": (
        'def f(pg, query):\n    pg.execute(b"explain (generic_plan) " + query.sql.encode())'
    ),
    "a sink forwarding its own SQL": (
        "async def fetch(self, query, *args):\n"
        "    return await self._run(lambda conn: conn.fetch(query, *args))"
    ),
}


@pytest.mark.parametrize("snippet", BAD.values(), ids=BAD.keys())
def test_the_checker_finds_sql_built_from_values(snippet):
    assert findings(snippet, "snippet.py")


@pytest.mark.parametrize("snippet", GOOD.values(), ids=GOOD.keys())
def test_the_checker_accepts_static_sql(snippet):
    assert findings(snippet, "snippet.py") == []
