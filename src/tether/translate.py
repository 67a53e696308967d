"""The translation of driver errors into tether's exceptions (tether.errors).

asyncpg's and the server's errors become a Conflict, MissingReference,
InvalidValue, Retryable, ConnectionLost, Timeout, ReadOnly or a plain
TetherError; the message names the table and the rule in plain words (a domain's
RULES, found through tether.domains, or `describe_rules` for a service's own
schema) and never carries the server's DETAIL, which echoes key values.
"""

from __future__ import annotations

import re
import socket
from urllib.parse import parse_qs, urlsplit

import asyncpg
from attrs import frozen

from tether import domains
from tether.errors import (
    DESCRIBED_RULES,
    Conflict,
    ConnectionLost,
    InvalidValue,
    MissingReference,
    OutOfScope,
    ReadOnly,
    Retryable,
    Rule,
    TetherError,
    Timeout,
)
from tether.queries import Query


def rule_for(schema: str | None, constraint: str | None) -> Rule | None:
    if schema is None or constraint is None:
        return None
    found = DESCRIBED_RULES.get(schema, {}).get(constraint)
    if found is None:
        found = domains.rules_of(schema).get(constraint)
    return Rule(found) if isinstance(found, str) else found


def rule_text(schema: str | None, constraint: str | None) -> str | None:
    rule = rule_for(schema, constraint)
    return None if rule is None else rule.words


_ARGUMENT = re.compile(r"query argument \$(\d+)")


def primary_message(error: BaseException) -> str:
    """An error's own message, without the DETAIL and HINT lines asyncpg's `str()`
    appends: those quote values (a key, a row, whatever a trigger put there)."""
    message = error.args[0] if error.args else ""
    return message if isinstance(message, str) else str(error)


def target(url: str) -> str:
    """Where `url` leads, for a message: `user@host:port/database` (a socket's folder
    as the host); never its password."""
    parts = urlsplit(url)
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    user = parts.username or query.get("user") or "postgres"
    host = parts.hostname or query.get("host") or "localhost"
    try:
        port = parts.port or query.get("port") or 5432
    except ValueError:
        port = "?"
    database = parts.path.lstrip("/") or query.get("dbname") or user
    return f"{user}@{host}:{port}/{database}"


def _connect_failure(error: BaseException, where: str) -> TetherError | None:
    """The error for a connection that could not be made, naming what to check; None
    when `error` is not one. Only a refused or dropped connection is retryable (a
    server restarting refuses for a moment); a wrong password, database or host name
    stays wrong however often it is tried."""
    state = getattr(error, "sqlstate", None)
    if state == "28P01" or isinstance(error, asyncpg.InvalidPasswordError):
        return TetherError(
            f"{where}: the server refused the password; check the password in the URL "
            "(or PGPASSWORD, or the passfile) for this user",
            sqlstate="28P01",
        )
    if state == "28000":
        return TetherError(
            f"{where}: the server does not let this user connect here "
            f"({primary_message(error)}); check the user name and the server's pg_hba.conf",
            sqlstate="28000",
        )
    if state == "3D000":
        return TetherError(
            f"{where}: no such database on this server; check the database name in the "
            "URL, or create it (createdb, or `create database`)",
            sqlstate="3D000",
        )
    if isinstance(error, socket.gaierror):
        return TetherError(
            f"{where}: the host name does not resolve; check the host in the URL (and DNS)"
        )
    if isinstance(error, ConnectionRefusedError | FileNotFoundError):
        return ConnectionLost(
            f"{where}: nothing accepts connections there; check the host and port (or "
            "the socket's folder), and that the server is running"
        )
    return None


def translate(error: BaseException, query: Query | str) -> TetherError:
    """The tether error for a driver error raised while running `query`.

    Where no query ran (connecting, BEGIN, COMMIT), `query` is a word saying what did.
    """
    where = query if isinstance(query, str) else f"{query.domain}.{query.name}"
    params = () if isinstance(query, str) else query.params
    if (failed := _connect_failure(error, where)) is not None:
        return failed
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
        if where.startswith("connect"):
            return Timeout(
                f"{where}: no answer in time (connect timeout); check the host and port, "
                "and that nothing between drops the connection"
            )
        return Timeout(f"{where}: no answer from the database in time (client-side timeout)")
    if isinstance(error, asyncpg.exceptions.OutdatedSchemaCacheError):
        # A type changed under a cached statement; the text names the type, not values.
        return TetherError(f"{where}: {primary_message(error)}")
    if isinstance(error, asyncpg.InternalClientError) and str(error).startswith("no decoder"):
        # The connection is fine: a result holds a type asyncpg cannot decode where it
        # is (an enum or a domain inside an anonymous row); its text names no values.
        return TetherError(
            f"{where}: a result column cannot be decoded ({primary_message(error)}); cast it "
            "in the query, e.g. to text inside row(...)"
        )
    if isinstance(
        error, asyncpg.ConnectionDoesNotExistError | asyncpg.InternalClientError | OSError
    ):
        # InternalClientError: asyncpg's protocol, cut off mid-operation by a broken connection.
        return ConnectionLost(f"{where}: the connection to the database was lost")
    if isinstance(error, asyncpg.InterfaceError):
        # Misuse of a connection (closed, busy, released): asyncpg's text names no values.
        return TetherError(f"{where}: {primary_message(error)}")
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
    table_name = getattr(error, "table_name", None) or _policy_table(error)
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


# Row-level security names its table only in the message ("... policy for table "weeks"").
_POLICY_TABLE = re.compile(r'row-level security policy for table "([^"]+)"')


def _policy_table(error: asyncpg.PostgresError) -> str | None:
    found = _POLICY_TABLE.search(primary_message(error))
    return found[1] if found else None


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
    if state == "42501":
        # Row-level security's WITH CHECK, or a privilege tether_service lacks: the
        # message names the table (an SQL object, not data).
        if "row-level security" in (message := primary_message(error)):
            return _Failure(
                OutOfScope,
                "the row would belong to a tenant outside this transaction's scope "
                f"(row-level security: {message})",
            )
        return _Failure(OutOfScope, f"the role may not do this here ({message})")
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
        return _Failure(
            TetherError, f"the statement does not fit the schema: {primary_message(error)}"
        )
    return _Failure(TetherError, f"the database refused the statement (SQLSTATE {state})")
