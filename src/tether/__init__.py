"""tether: a raw-SQL repository layer for PostgreSQL (asyncpg, yoyo, attrs; no ORM)."""

from tether.database import Database
from tether.errors import (
    Conflict,
    ConnectionLost,
    InvalidValue,
    MissingReference,
    NotFound,
    PoolExhausted,
    ReadOnly,
    Retryable,
    TetherError,
    Timeout,
)
from tether.retry import retry

__all__ = [
    "Conflict",
    "ConnectionLost",
    "Database",
    "InvalidValue",
    "MissingReference",
    "NotFound",
    "PoolExhausted",
    "ReadOnly",
    "Retryable",
    "TetherError",
    "Timeout",
    "retry",
]
