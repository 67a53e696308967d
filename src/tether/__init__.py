"""tether: a raw-SQL repository layer for PostgreSQL (asyncpg, yoyo, attrs; no ORM)."""

from tether.database import Database
from tether.errors import (
    CommitLost,
    CommitUnknown,
    Conflict,
    ConnectionLost,
    InvalidValue,
    MissingReference,
    NotFound,
    OutOfScope,
    PoolExhausted,
    ReadOnly,
    ReplicaUnavailable,
    Retryable,
    TetherError,
    Timeout,
)
from tether.replicas import ReplicaPolicy, Token
from tether.retry import retry

__all__ = [
    "CommitLost",
    "CommitUnknown",
    "Conflict",
    "ConnectionLost",
    "Database",
    "InvalidValue",
    "MissingReference",
    "NotFound",
    "OutOfScope",
    "PoolExhausted",
    "ReadOnly",
    "ReplicaPolicy",
    "ReplicaUnavailable",
    "Retryable",
    "TetherError",
    "Timeout",
    "Token",
    "retry",
]
