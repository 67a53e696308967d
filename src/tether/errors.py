"""tether's exceptions, and the translation of driver errors into them.

Callers never import asyncpg to handle a refused write: a unique violation is a
Conflict, a dangling reference a MissingReference, a broken check an
InvalidValue, a serialization failure or lost connection a Retryable. Messages
name the table and the rule in plain words and never carry the server's
DETAIL, which echoes key values (often e-mail addresses).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import asyncpg

if TYPE_CHECKING:
    from tether.queries import Query


class TetherError(Exception):
    """Base of every error tether raises.

    `table` is schema-qualified (`planner.feedback`), `constraint` the rule's
    name as the DDL gives it, `sqlstate` PostgreSQL's code where there is one.
    """

    def __init__(
        self,
        message: str,
        *,
        table: str | None = None,
        constraint: str | None = None,
        sqlstate: str | None = None,
    ) -> None:
        super().__init__(message)
        self.table = table
        self.constraint = constraint
        self.sqlstate = sqlstate


class NotFound(TetherError):
    """The row asked for does not exist."""


class Conflict(TetherError):
    """A unique rule refused the write, or rows still refer to the one being removed."""


class MissingReference(TetherError):
    """The write refers to a row that does not exist."""


class InvalidValue(TetherError):
    """A value breaks a check or not-null rule, or is not valid for its type."""


class Retryable(TetherError):
    """The whole transaction may succeed if run again (serialization failure, deadlock)."""


class ConnectionLost(Retryable):
    """The connection to the server broke; the open transaction did not commit."""


class Timeout(TetherError):
    """A lock or statement timeout ended the statement."""


# schema -> constraint name -> the rule in plain words. Domains fill it on import.
_RULES: dict[str, dict[str, str]] = {}


def describe_rules(schema: str, rules: dict[str, str]) -> None:
    """Register plain-word descriptions of a schema's constraints for error messages."""
    _RULES.setdefault(schema, {}).update(rules)


def rule_text(schema: str | None, constraint: str | None) -> str | None:
    if schema is None or constraint is None:
        return None
    return _RULES.get(schema, {}).get(constraint)


_ARGUMENT = re.compile(r"query argument \$(\d+)")


def translate(error: BaseException, query: Query) -> TetherError:
    """The tether error for a driver error raised while running `query`."""
    argument = _ARGUMENT.search(str(error))
    if argument or isinstance(error, UnicodeEncodeError | OverflowError):
        # asyncpg could not encode an argument (it raises DataError, SQLSTATE 22000,
        # before sending anything); its message shows the value, so name the parameter.
        number = int(argument[1]) if argument else 0
        if 0 < number <= len(query.params):
            what = f"argument :{query.params[number - 1]} is not valid for its column type"
        else:
            what = "an argument is not valid for its column type"
        return InvalidValue(f"{query.domain}.{query.name}: {what}", sqlstate="22000")
    if isinstance(error, asyncpg.PostgresError):
        return _from_server(error, query)
    if isinstance(error, asyncpg.ConnectionDoesNotExistError | OSError):
        return ConnectionLost(
            f"{query.domain}.{query.name}: the connection to the database was lost "
            "(the transaction did not commit)"
        )
    if isinstance(error, asyncpg.InterfaceError):
        # Misuse of a connection (closed, busy, released): asyncpg's text names no values.
        return TetherError(f"{query.domain}.{query.name}: {error}")
    raise TypeError(f"not a database error: {type(error).__name__}") from error


# What `translate` understands: the errors a repository call catches.
DRIVER_ERRORS = (
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    OSError,
    UnicodeEncodeError,
    OverflowError,
)


def _from_server(error: asyncpg.PostgresError, query: Query) -> TetherError:
    state: str = error.sqlstate or ""
    schema = getattr(error, "schema_name", None) or query.domain
    table_name = getattr(error, "table_name", None)
    table = f"{schema}.{table_name}" if table_name else f"{query.domain} ({query.name})"
    constraint = getattr(error, "constraint_name", None)
    column = getattr(error, "column_name", None)
    rule = rule_text(schema, constraint)

    def said(default: str) -> str:
        text = rule or default
        return f"{table}: {text} (rule {constraint})" if constraint else f"{table}: {text}"

    info = {"table": table if table_name else None, "constraint": constraint, "sqlstate": state}
    if state == "23505" or state == "23P01":
        return Conflict(said("a row with the same key already exists"), **info)
    if state == "23503":
        if str(error).startswith("update or delete"):
            return Conflict(said("other rows still refer to this row"), **info)
        return MissingReference(said("the row it refers to does not exist"), **info)
    if state == "23502":
        return InvalidValue(said(f"{column or 'a column'} must have a value"), **info)
    if state == "23514":
        return InvalidValue(said("a value breaks a check rule"), **info)
    if state.startswith("22"):
        # The server's message quotes the offending input; say what kind of problem it is.
        kind = type(error).__name__.removesuffix("Error")
        words = re.sub(r"(?<!^)(?=[A-Z])", " ", kind).lower()
        return InvalidValue(said(f"a value is not valid here ({words}, SQLSTATE {state})"), **info)
    if state in ("40001", "40P01"):
        what = "deadlock" if state == "40P01" else "serialization failure"
        return Retryable(said(f"{what}; run the transaction again"), **info)
    if state.startswith("08") or state in ("57P01", "57P02", "57P03"):
        return ConnectionLost(
            said("the connection to the database was lost (the transaction did not commit)"),
            **info,
        )
    if state == "55P03":
        return Timeout(said("could not get a lock in time (lock_timeout)"), **info)
    if state == "57014":
        return Timeout(said("the statement was cancelled (statement_timeout or a cancel)"), **info)
    if state.startswith("42"):
        # A query that does not fit the schema: the server's words name SQL objects, not data.
        return TetherError(said(f"the statement does not fit the schema: {error}"), **info)
    return TetherError(said(f"the database refused the statement (SQLSTATE {state})"), **info)
