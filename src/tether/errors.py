"""tether's exceptions, and the translation of driver errors into them.

Callers never import asyncpg to handle a refused write: a unique violation is a
Conflict, a dangling reference a MissingReference, a broken check an
InvalidValue, a serialization failure or lost connection a Retryable. Messages
name the table and the rule in plain words and never carry the server's
DETAIL, which echoes key values (often e-mail addresses).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

import asyncpg
from attrs import frozen

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
    """The connection to the server broke, or could not be made.

    A transaction in progress did not commit: run it again. A statement run on its
    own (a repository over the pool) or a COMMIT may have taken effect just before
    the break; `Database.transaction` says so when it was the COMMIT.
    """


class CommitUnknown(TetherError):
    """COMMIT was sent but its answer never came back (the caller was cancelled while
    it ran, or the connection broke): the transaction may or may not have committed.
    Check before running it again, or make it idempotent (docs/guarantees.md)."""


class CommitLost(ConnectionLost, CommitUnknown):
    """The connection broke during COMMIT: a ConnectionLost whose outcome is unknown."""


class Timeout(TetherError):
    """A lock or statement timeout ended the statement."""


class PoolExhausted(Timeout):
    """No pooled connection became free within the pool's `acquire_timeout`."""


class ReadOnly(TetherError):
    """A write reached a read-only transaction or a hot standby (SQLSTATE 25006)."""


class ReplicaUnavailable(TetherError):
    """No standby could serve a read sent through `db.replica()`, and the caller chose
    to be told (`fallback="raise"`) rather than read on the primary: every standby is
    down or further behind than the lag limit, or none replayed the read's token in
    time. The message says which."""


@frozen
class Rule:
    """A rule's plain words, and the error class a violation raises when the default
    (Conflict for unique rules, InvalidValue for checks, ...) is not precise enough:
    `Rule("a dependency may not close a cycle", DependencyCycle)`."""

    words: str
    error: type[TetherError] | None = None


Rules = Mapping[str, str | Rule]

# schema -> constraint name -> its rule, for schemas that are not tether domains (a
# service's own); a domain's rules are found through tether.domains.
_RULES: dict[str, dict[str, str | Rule]] = {}


def describe_rules(schema: str, rules: Rules) -> None:
    """Register plain-word descriptions of a schema's constraints for error messages."""
    _RULES.setdefault(schema, {}).update(rules)


def rule_for(schema: str | None, constraint: str | None) -> Rule | None:
    if schema is None or constraint is None:
        return None
    found = _RULES.get(schema, {}).get(constraint)
    if found is None:
        from tether import domains  # the registry imports its domains' rules lazily

        found = domains.rules_of(schema).get(constraint)
    return Rule(found) if isinstance(found, str) else found


def rule_text(schema: str | None, constraint: str | None) -> str | None:
    rule = rule_for(schema, constraint)
    return None if rule is None else rule.words


_ARGUMENT = re.compile(r"query argument \$(\d+)")


def translate(error: BaseException, query: Query | str) -> TetherError:
    """The tether error for a driver error raised while running `query`.

    Where no query ran (connecting, BEGIN, COMMIT), `query` is a word saying what did.
    """
    where = query if isinstance(query, str) else f"{query.domain}.{query.name}"
    params = () if isinstance(query, str) else query.params
    argument = _ARGUMENT.search(str(error))
    if argument or isinstance(error, UnicodeEncodeError | OverflowError):
        # asyncpg could not encode an argument (it raises DataError, SQLSTATE 22000,
        # before sending anything); its message shows the value, so name the parameter.
        number = int(argument[1]) if argument else 0
        if 0 < number <= len(params):
            what = f"argument :{params[number - 1]} is not valid for its column type"
        else:
            what = "an argument is not valid for its column type"
        return InvalidValue(f"{where}: {what}", sqlstate="22000")
    if isinstance(error, asyncpg.PostgresError):
        return _from_server(error, query)
    if isinstance(error, TimeoutError):
        # asyncpg's command_timeout or connect timeout; TimeoutError is an OSError, but
        # the connection is intact (asyncpg cancelled the statement), so it is no loss.
        return Timeout(f"{where}: no answer from the database in time (client-side timeout)")
    if isinstance(error, asyncpg.exceptions.OutdatedSchemaCacheError):
        # A type changed under a cached statement; the text names the type, not values.
        return TetherError(f"{where}: {error}")
    if isinstance(error, asyncpg.InternalClientError) and str(error).startswith("no decoder"):
        # The connection is fine: a result holds a type asyncpg cannot decode where it
        # is (an enum or a domain inside an anonymous row); its text names no values.
        return TetherError(
            f"{where}: a result column cannot be decoded ({error}); cast it in the query, "
            "e.g. to text inside row(...)"
        )
    if isinstance(
        error, asyncpg.ConnectionDoesNotExistError | asyncpg.InternalClientError | OSError
    ):
        # InternalClientError: asyncpg's protocol, cut off mid-operation by a broken connection.
        return ConnectionLost(f"{where}: the connection to the database was lost")
    if isinstance(error, asyncpg.InterfaceError):
        # Misuse of a connection (closed, busy, released): asyncpg's text names no values.
        return TetherError(f"{where}: {error}")
    raise TypeError(f"not a database error: {type(error).__name__}") from error


def closed(conn: asyncpg.Connection) -> bool:
    """Whether a (pooled) connection has died."""
    try:
        dead: bool = conn.is_closed()
    except asyncpg.InterfaceError:  # asyncpg hands a dead pooled connection back at once
        return True
    return dead


# What `translate` understands: the errors a repository call catches.
DRIVER_ERRORS = (
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    OSError,
    UnicodeEncodeError,
    OverflowError,
)


def _from_server(error: asyncpg.PostgresError, query: Query | str) -> TetherError:
    state: str = error.sqlstate or ""
    domain = None if isinstance(query, str) else query.domain
    schema = getattr(error, "schema_name", None) or domain
    table_name = getattr(error, "table_name", None)
    if table_name:
        table = f"{schema}.{table_name}"
    else:
        table = query if isinstance(query, str) else f"{query.domain} ({query.name})"
    constraint = getattr(error, "constraint_name", None)
    column = getattr(error, "column_name", None)
    rule = rule_for(schema, constraint)
    info = {"table": table if table_name else None, "constraint": constraint, "sqlstate": state}
    failure = _classify(state, error, column)
    words = rule.words if rule is not None else failure.words
    text = f"{table}: {words} (rule {constraint})" if constraint else f"{table}: {words}"
    kind = rule.error if rule is not None and rule.error is not None else failure.error
    return kind(text, **info)


@frozen
class _Failure:
    error: type[TetherError]
    words: str  # what to say when the rule has no plain words of its own


def _classify(state: str, error: asyncpg.PostgresError, column: str | None) -> _Failure:
    if state == "23505" or state == "23P01":
        return _Failure(Conflict, "a row with the same key already exists")
    if state == "23503":
        if str(error).startswith("update or delete"):
            return _Failure(Conflict, "other rows still refer to this row")
        return _Failure(MissingReference, "the row it refers to does not exist")
    if state == "23502":
        return _Failure(InvalidValue, f"{column or 'a column'} must have a value")
    if state == "23514":
        return _Failure(InvalidValue, "a value breaks a check rule")
    if state.startswith("22"):
        # The server's message quotes the offending input; say what kind of problem it is.
        kind = type(error).__name__.removesuffix("Error")
        words = re.sub(r"(?<!^)(?=[A-Z])", " ", kind).lower()
        return _Failure(InvalidValue, f"a value is not valid here ({words}, SQLSTATE {state})")
    if state in ("40001", "40P01"):
        what = "deadlock" if state == "40P01" else "serialization failure"
        return _Failure(Retryable, f"{what}; run the transaction again")
    if state.startswith("08") or state in ("57P01", "57P02", "57P03"):
        return _Failure(ConnectionLost, "the connection to the database was lost")
    if state == "55P03":
        return _Failure(Timeout, "could not get a lock in time (lock_timeout)")
    if state == "57014":
        return _Failure(Timeout, "the statement was cancelled (statement_timeout or a cancel)")
    if state == "25006":
        return _Failure(
            ReadOnly,
            "a write was sent to a standby or a read-only transaction; writes go to the "
            "primary (a repository on the Database or on db.transaction()'s connection, "
            "not on db.replica())",
        )
    if state in ("26000", "42P05"):
        # asyncpg's named prepared statements, behind a pooler that switches server
        # connections between transactions: a statement is missing, or there twice.
        return _Failure(
            TetherError,
            "a prepared statement is missing or duplicated; behind PgBouncer's transaction "
            "pooling, use Database(pgbouncer=True) or TETHER_PGBOUNCER=1",
        )
    if state.startswith("42"):
        # A query that does not fit the schema: the server's words name SQL objects, not data.
        return _Failure(TetherError, f"the statement does not fit the schema: {error}")
    return _Failure(TetherError, f"the database refused the statement (SQLSTATE {state})")
