"""The entry point: `Database` owns an asyncpg pool and hands out transactions.

async with Database() as db:            # $DATABASE_URL, or the embedded server
    users = UserRepository(db)           # runs each call on a pooled connection
    async with db.transaction() as conn:
        await UserRepository(conn).create(...)   # joins the caller's transaction
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Any, Literal, Self
from urllib.parse import urlsplit, urlunsplit

import asyncpg
from pgvector.asyncpg import register_vector

from tether import embedded
from tether.catalog import Q
from tether.errors import DRIVER_ERRORS, ConnectionLost, PoolExhausted, TetherError, translate

Isolation = Literal["read_committed", "repeatable_read", "serializable"]


def configured_url() -> str | None:
    return os.environ.get("DATABASE_URL") or None


def pgbouncer_from_env() -> bool:
    return os.environ.get("TETHER_PGBOUNCER", "").lower() in ("1", "true", "yes", "on")


# jsonb's binary form is a version byte (1) and the JSON text; json's is the text alone.
# Binary codecs serve COPY (binary only) as well as every query.
_JSONB_VERSION = b"\x01"


def _encode_json(value: object) -> bytes:
    return json.dumps(value).encode()


def _decode_json(data: bytes) -> object:
    return json.loads(data)


def _encode_jsonb(value: object) -> bytes:
    return _JSONB_VERSION + json.dumps(value).encode()


def _decode_jsonb(data: bytes) -> object:
    return json.loads(data[1:])


async def init_connection(conn: asyncpg.Connection) -> None:
    """Codecs every tether connection has: json/jsonb as Python values (in binary, so
    that COPY takes them too), pgvector's vector."""
    await conn.set_type_codec(
        "json", encoder=_encode_json, decoder=_decode_json, schema="pg_catalog", format="binary"
    )
    await conn.set_type_codec(
        "jsonb", encoder=_encode_jsonb, decoder=_decode_jsonb, schema="pg_catalog", format="binary"
    )
    # Before the first migration the vector extension may not exist yet.
    if await conn.fetchval(Q.vector_installed.sql):
        await register_vector(conn, schema="public")


def connect_kwargs(pgbouncer: bool) -> dict[str, Any]:
    """asyncpg settings; PgBouncer's transaction pooling cannot keep named prepared statements."""
    return {"statement_cache_size": 0} if pgbouncer else {}


# How long a call waits for a pooled connection before PoolExhausted, by default.
ACQUIRE_TIMEOUT_SECONDS = 30.0


class _Pool(asyncpg.Pool):  # type: ignore[misc]
    """asyncpg's pool with a bounded wait for a connection.

    asyncpg waits forever by default: with every connection held (most often a
    repository built on the Database, run inside `db.transaction()` on the same
    task), the next call would hang silently. Every acquisition, including the one
    inside `pool.fetch(...)`, gets `acquire_timeout` unless given its own.
    """

    def __init__(self, *args: Any, acquire_timeout: float, **options: Any) -> None:
        super().__init__(*args, **options)
        self._acquire_timeout = acquire_timeout

    async def _acquire(self, timeout: float | None) -> Any:  # noqa: ASYNC109 (asyncpg's own)
        wait = self._acquire_timeout if timeout is None else timeout
        try:
            return await super()._acquire(wait)
        except TimeoutError:
            raise PoolExhausted(
                f"pool: no connection free within {wait:g} s; all {self._maxsize} are in use "
                "(the usual cause: code holding a connection, such as a `db.transaction()` "
                "block, calls a repository built on the Database instead of on that "
                "transaction's connection), or a new connection could not be made in time"
            ) from None


# What asyncpg.create_pool passes to the pool, where the caller says nothing.
_POOL_DEFAULTS: dict[str, Any] = {
    "connection_class": asyncpg.Connection,
    "record_class": asyncpg.Record,
    "max_queries": 50000,
    "max_inactive_connection_lifetime": 300.0,
    "loop": None,
}


class Database:
    """A pool of connections to one PostgreSQL database.

    `url` defaults to `$DATABASE_URL`; with neither, the embedded server is started.
    `pgbouncer` (default `$TETHER_PGBOUNCER`) turns asyncpg's statement cache off,
    as PgBouncer's transaction pooling requires. `acquire_timeout` bounds the wait
    for a pooled connection: after it, PoolExhausted.
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        pgbouncer: bool | None = None,
        min_size: int = 1,
        max_size: int = 10,
        acquire_timeout: float = ACQUIRE_TIMEOUT_SECONDS,
        **pool_options: Any,
    ) -> None:
        self._url = url or configured_url()
        self.pgbouncer = pgbouncer_from_env() if pgbouncer is None else pgbouncer
        self.acquire_timeout = acquire_timeout
        self._pool_options = {"min_size": min_size, "max_size": max_size, **pool_options}
        self._pool: asyncpg.Pool | None = None

    @property
    def url(self) -> str:
        if self._url is None:
            self._url = embedded.start()
        return self._url

    @property
    def pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise RuntimeError("Database is not connected: use `async with Database() as db`")
        return self._pool

    async def connect(self) -> Self:
        if self._pool is None:
            try:
                self._pool = await _Pool(
                    self.url,
                    init=init_connection,
                    acquire_timeout=self.acquire_timeout,
                    **{**_POOL_DEFAULTS, **connect_kwargs(self.pgbouncer), **self._pool_options},
                )
            except DRIVER_ERRORS as error:
                raise translate(error, "connect") from None
        return self

    async def close(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()

    async def __aenter__(self) -> Self:
        return await self.connect()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[asyncpg.Connection]:
        """A pooled connection for several statements outside a transaction."""
        try:
            conn = await self.pool.acquire()
        except DRIVER_ERRORS as error:
            raise translate(error, "connect") from None
        try:
            yield conn
        except TetherError as error:
            # asyncpg hands a pooled connection that died back to the pool at once, and
            # later calls on it fail as if misused ("released back to the pool").
            if isinstance(error, ConnectionLost) or not _lost(conn):
                raise
            where = str(error).partition(":")[0]  # translate's messages start "where: "
            raise ConnectionLost(f"{where}: the connection to the database was lost") from None
        finally:
            # asyncpg resets the connection here and drops it if that fails; the
            # caller's work is over by then, so such a failure is not theirs to see.
            with suppress(*DRIVER_ERRORS):
                await self.pool.release(conn)

    @asynccontextmanager
    async def transaction(
        self, *, isolation: Isolation = "read_committed", readonly: bool = False
    ) -> AsyncIterator[asyncpg.Connection]:
        """A pooled connection inside a transaction: commits on exit, rolls back on error.

        Repositories built on the yielded connection join the transaction. BEGIN and
        COMMIT fail as tether errors too (a serialization failure or a deferred
        constraint can end a transaction at COMMIT); a ConnectionLost raised by the
        COMMIT itself means the outcome is unknown.
        """
        async with self.connection() as conn:
            tx = conn.transaction(isolation=isolation, readonly=readonly)
            try:
                await tx.start()
            except DRIVER_ERRORS as error:
                raise translate(error, "begin") from None
            try:
                yield conn
            except BaseException:
                # The caller's error is the one to report. A rollback can only fail
                # on a dead connection, whose transaction the server already ended.
                with suppress(*DRIVER_ERRORS):
                    await tx.rollback()
                raise
            try:
                await tx.commit()
            except DRIVER_ERRORS as error:
                failure = translate(error, "commit")
                if isinstance(failure, ConnectionLost):
                    failure = ConnectionLost(
                        "commit: the connection to the database was lost during COMMIT "
                        "(the transaction may or may not have committed)",
                        sqlstate=failure.sqlstate,
                    )
                raise failure from None

    def __repr__(self) -> str:
        where = redact(self._url) if self._url else "embedded (not started)"
        return f"<Database {where} pgbouncer={self.pgbouncer} connected={self._pool is not None}>"


def _lost(conn: asyncpg.Connection) -> bool:
    try:
        closed: bool = conn.is_closed()
    except asyncpg.InterfaceError:  # already handed back to the pool: it closed
        return True
    return closed


# libpq and asyncpg also take `?password=` (and `sslpassword=`) in the query string.
_QUERY_PASSWORD = re.compile(r"((?:^|&)[^=&]*password=)[^&]*", re.IGNORECASE)


def redact(url: str) -> str:
    """The URL with any password replaced, fit for logs and output."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if parts.password:
        netloc = netloc.replace(f":{parts.password}@", ":***@", 1)
    query = _QUERY_PASSWORD.sub(r"\1***", parts.query)
    if (netloc, query) == (parts.netloc, parts.query):
        return url
    return urlunsplit(parts._replace(netloc=netloc, query=query))
