"""tether's exceptions, and the plain words of the rules they name.

Callers never import asyncpg to handle a refused write: a unique violation is a
Conflict, a dangling reference a MissingReference, a broken check an
InvalidValue, a serialization failure or lost connection a Retryable. Messages
name the table and the rule in plain words and never carry the server's
DETAIL, which echoes key values (often e-mail addresses).

This module is the bottom layer (records and every domain import it); the
translation of driver errors into these classes is tether.translate's, which
needs the queries and the domain registry above it.
"""

from __future__ import annotations

from collections.abc import Mapping

from attrs import frozen


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


class OutOfScope(TetherError):
    """A write inside `db.tenant(...)` would leave a row outside the transaction's
    tenants (row-level security refused it), or the role may not do this at all."""


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
DESCRIBED_RULES: dict[str, dict[str, str | Rule]] = {}


def describe_rules(schema: str, rules: Rules) -> None:
    """Register plain-word descriptions of a schema's constraints for error messages."""
    DESCRIBED_RULES.setdefault(schema, {}).update(rules)
