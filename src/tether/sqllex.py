"""The lexer behind named queries: `:name` placeholders become `$1..$n`, once, at load.

It knows PostgreSQL's quoting, so that what looks like a parameter inside a string,
a quoted identifier, a `$tag$` body, a comment, a `::` cast or an array slice
(`a[lo:hi]`) is left alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import LiteralString, cast

_IDENT_START = re.compile(r"[A-Za-z_]")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*")
_DOLLAR_TAG = re.compile(r"\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$")


class QueryError(Exception):
    """A .sql file that cannot be loaded. `path` and `line` say where, when known;
    the text then reads `path:line: message`, as compilers print it."""

    def __init__(self, message: str, path: Path | None = None, line: int | None = None) -> None:
        self.message, self.path, self.line = message, path, line
        where = f"{path}:{line}: " if path is not None and line is not None else ""
        super().__init__(where + message)


def rewrite(source: str) -> tuple[LiteralString, tuple[str, ...]]:
    """Replace `:name` with `$n` (one number per distinct name), lexing as PostgreSQL does."""
    out: list[str] = []
    params: dict[str, int] = {}
    for kind, token in _tokens(source):
        if kind == "param":
            number = params.setdefault(token, len(params) + 1)
            out.append(f"${number}")
        else:
            out.append(token)
    # The text comes from the project's own .sql files, never from a runtime value.
    return cast(LiteralString, "".join(out)), tuple(params)


def _tokens(sql: str) -> Iterator[tuple[str, str]]:
    """Yield ("sql", text) and ("param", name) pieces of `sql`."""
    i, n = 0, len(sql)
    start = 0  # start of the pending plain-SQL run
    while i < n:
        c = sql[i]
        if c == "'" or (c in "eE" and sql.startswith("'", i + 1) and not _ident_before(sql, i)):
            i = _end_of_string(sql, i + 1 if c == "'" else i + 2, backslashes=c != "'")
        elif c == '"':
            i = _end_of_quoted(sql, i + 1, '"')
        elif c == "-" and sql.startswith("--", i):
            newline = sql.find("\n", i)
            i = n if newline < 0 else newline
        elif c == "/" and sql.startswith("/*", i):
            i = _end_of_block_comment(sql, i)
        elif c == "$":
            tag = _DOLLAR_TAG.match(sql, i)
            if tag and not _ident_before(sql, i):
                close = sql.find(tag.group(), tag.end())
                if close < 0:
                    raise QueryError(f"unterminated {tag.group()} body")
                i = close + len(tag.group())
            elif i + 1 < n and sql[i + 1].isdigit() and not _ident_before(sql, i):
                raise QueryError("positional $n parameters are not allowed; name them :like_this")
            else:
                i += 1
        elif c == ":":
            if sql.startswith("::", i):
                i += 2
            elif i + 1 < n and _IDENT_START.match(sql[i + 1]) and not _ident_before(sql, i):
                name = _IDENT.match(sql, i + 1)
                assert name is not None
                if start < i:
                    yield "sql", sql[start:i]
                yield "param", name.group()
                i = start = name.end()
            else:
                i += 1
        else:
            i += 1
    if start < n:
        yield "sql", sql[start:]


def _ident_before(sql: str, i: int) -> bool:
    """Whether sql[i] follows an operand: then `:x` is a slice bound (`a[lo:hi]`, `a[f(x):y]`),
    `$x` part of a name (`a$1`) and `e'` the end of a word, not the start of a literal."""
    return i > 0 and (sql[i - 1].isalnum() or sql[i - 1] in "_$)]")


def _end_of_string(sql: str, i: int, *, backslashes: bool) -> int:
    n = len(sql)
    while i < n:
        c = sql[i]
        if backslashes and c == "\\":
            i += 2
        elif c == "'":
            if sql.startswith("''", i):
                i += 2
            else:
                return i + 1
        else:
            i += 1
    raise QueryError("unterminated string literal")


def _end_of_quoted(sql: str, i: int, quote: str) -> int:
    n = len(sql)
    while i < n:
        if sql[i] == quote:
            if sql.startswith(quote * 2, i):
                i += 2
                continue
            return i + 1
        i += 1
    raise QueryError("unterminated quoted identifier")


def _end_of_block_comment(sql: str, i: int) -> int:
    depth, i, n = 0, i, len(sql)
    while i < n:
        if sql.startswith("/*", i):
            depth += 1
            i += 2
        elif sql.startswith("*/", i):
            depth -= 1
            i += 2
            if depth == 0:
                return i
        else:
            i += 1
    raise QueryError("unterminated /* comment")
