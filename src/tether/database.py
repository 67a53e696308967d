"""The entry point: `Database` owns an asyncpg pool and hands out transactions.

async with Database() as db:            # $DATABASE_URL, or the embedded server
    users = UserRepository(db)           # runs each call on a pooled connection
    async with db.transaction() as conn:
        await UserRepository(conn).create(...)   # joins the caller's transaction
    token = await db.token()             # the primary's WAL position (read-your-writes)
    await UserRepository(db.replica(token)).get(...)   # on a standby (tether.replicas)
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager, suppress
from typing import Any, Literal, Self
from urllib.parse import urlsplit, urlunsplit

import asyncpg
from pgvector.asyncpg import register_vector

from tether import embedded
from tether.catalog import Q
from tether.errors import CommitLost, CommitUnknown, ConnectionLost, InvalidValue
from tether.pool import ACQUIRE_TIMEOUT_SECONDS, POOL_DEFAULTS, Pool, Statements, borrow
from tether.replicas import (
    Fallback,
    ReadCounts,
    Reader,
    ReplicaPolicy,
    Replicas,
    Standby,
    Token,
    standby_pool_options,
)
from tether.translate import DRIVER_ERRORS, target, translate

Isolation = Literal["read_committed", "repeatable_read", "serializable"]


def configured_url() -> str | None:
    return os.environ.get("DATABASE_URL") or None


def configured_replica_urls() -> list[str]:
    """`$DATABASE_REPLICA_URL`: the standbys' URLs, separated by white space."""
    return os.environ.get("DATABASE_REPLICA_URL", "").split()


def pgbouncer_from_env() -> bool:
    return os.environ.get("TETHER_PGBOUNCER", "").lower() in ("1", "true", "yes", "on")


# jsonb's binary form is a version byte (1) and the JSON text; json's is the text alone.
# Binary codecs serve COPY (binary only) as well as every query.
_JSONB_VERSION = b"\x01"


def _encode_json(value: object) -> bytes:
    return json.dumps(value).encode()


# Decoding text, not bytes: json.loads(bytes) first sniffs the encoding (~0.5 µs a value).
_decode_text = json.JSONDecoder().decode


def _decode_json(data: bytes) -> object:
    return _decode_text(data.decode())


def _encode_jsonb(value: object) -> bytes:
    return _JSONB_VERSION + _encode_json(value)


def _decode_jsonb(data: bytes) -> object:
    return _decode_text(data[1:].decode())


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


class Database:
    """A pool of connections to one PostgreSQL database, and its standbys.

    `url` defaults to `$DATABASE_URL`; with neither, the embedded server is started.
    `replicas` are URLs of hot standbys of it, for reads sent there explicitly with
    `replica()`; they default to `$DATABASE_REPLICA_URL` (several separated by white
    space) when `url` is not given either. `replica_policy` says how those reads wait,
    skip and fall back (tether.replicas). `pgbouncer` (default `$TETHER_PGBOUNCER`)
    turns asyncpg's statement cache off, as PgBouncer's transaction pooling requires.
    `acquire_timeout` bounds the wait for a pooled connection: after it, PoolExhausted.
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        replicas: Sequence[str] | None = None,
        replica_policy: ReplicaPolicy | None = None,
        pgbouncer: bool | None = None,
        min_size: int = 1,
        max_size: int = 10,
        acquire_timeout: float = ACQUIRE_TIMEOUT_SECONDS,
        **pool_options: Any,
    ) -> None:
        if replicas is None:
            replicas = configured_replica_urls() if url is None else []
        self._url = url or configured_url()
        self.replica_urls = list(replicas)
        self.replica_policy = replica_policy or ReplicaPolicy()
        self.pgbouncer = pgbouncer_from_env() if pgbouncer is None else pgbouncer
        self.acquire_timeout = acquire_timeout
        self._pool_options = {"min_size": min_size, "max_size": max_size, **pool_options}
        self._pool: Pool | None = None
        self._replicas: Replicas | None = None
        self._read_only_pool: asyncpg.Pool | None = None
        self._read_only_lock = asyncio.Lock()

    @property
    def url(self) -> str:
        if self._url is None:
            self._url = embedded.start()
        return self._url

    @property
    def pool(self) -> Pool:
        if self._pool is None:
            raise _not_connected()
        return self._pool

    @property
    def statements(self) -> Statements:
        """The pool for tether's own statements: each connection goes back without a
        reset (tether.pool). Repositories built on the Database run on it."""
        return self.pool.statements

    @property
    def _standbys(self) -> Replicas:
        if self._replicas is None:
            raise _not_connected()
        return self._replicas

    async def _new_pool(self, url: str, **options: Any) -> Pool:
        try:
            pool: Pool = await Pool(
                url,
                acquire_timeout=self.acquire_timeout,
                **{
                    "init": init_connection,
                    **POOL_DEFAULTS,
                    **connect_kwargs(self.pgbouncer),
                    **self._pool_options,
                    **options,
                },
            )
        except DRIVER_ERRORS as error:
            raise translate(error, f"connect to {target(url)}") from None
        return pool

    async def connect(self) -> Self:
        if self._pool is None:
            self._pool = await self._new_pool(self.url)
            # Standby pools connect on first use: a standby down at start-up is skipped
            # like one that goes down later, and the service starts all the same.
            standbys = []
            for url in self.replica_urls:
                standby = Standby(redact(url), self.replica_policy, init_connection)
                settings = self._pool_options.get("server_settings") or {}
                standby.pool = await self._new_pool(
                    url,
                    init=standby.connected,
                    min_size=0,
                    **standby_pool_options(self.replica_policy, self.pgbouncer, settings),
                )
                standbys.append(standby)
            self._replicas = Replicas(standbys)
        return self

    async def close(self) -> None:
        pools = [self._pool, self._read_only_pool]
        if self._replicas is not None:
            pools += [standby.pool for standby in self._replicas.standbys]
        self._pool = self._read_only_pool = self._replicas = None
        for pool in pools:
            if pool is not None:
                await pool.close()

    async def __aenter__(self) -> Self:
        return await self.connect()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    def connection(self) -> AbstractAsyncContextManager[asyncpg.Connection]:
        """A pooled connection for several statements outside a transaction."""
        return borrow(self.pool)

    async def token(self) -> Token:
        """The primary's WAL position now, for reads that must see what was committed
        before: `db.replica(token)`. Take it after the write (or the transaction)
        committed; `str(token)` and `Token.parse` carry it through a cookie or a header.
        One round trip to the primary."""
        asked_at = time.monotonic()
        try:
            lsn: int = await self.statements.fetchval(Q.flushed_lsn.sql)
        except DRIVER_ERRORS as error:
            raise translate(error, "token") from None
        self._standbys.primary_at(lsn, asked_at)
        return Token(lsn)

    def replica(
        self,
        token: Token | str | None = None,
        *,
        fallback: Fallback | None = None,
        wait: float | None = None,
    ) -> Reader:
        """A handle that sends reads to the standbys, for repositories to run on:
        `UserRepository(db.replica(token)).get(id)`.

        With a token (a Token, or its text), each read waits on the standby until it
        has replayed the token (at most `wait`, default the policy's); without one, a
        read may be stale by the standby's lag. When no standby can serve a read it
        runs on the primary, read-only, or raises ReplicaUnavailable, as `fallback`
        (default the policy's) says. Without any standby configured, reads run on the
        primary, read-only.
        """
        policy = self.replica_policy
        return Reader(
            self,
            self._standbys,
            Token.of(token),
            fallback=fallback or policy.fallback,
            wait=policy.wait if wait is None else wait,
        )

    @property
    def read_counts(self) -> ReadCounts:
        """What the reads sent through `replica()` did: served by a standby, by the
        primary, waited for their token, waited in vain."""
        return self._standbys.counts

    @asynccontextmanager
    async def read_only_connection(self) -> AsyncIterator[asyncpg.Connection]:
        """A connection to the primary on which writes fail as ReadOnly (25006), for
        reads a reader sends there. Its own pool's connections start with
        `default_transaction_read_only` on, so a read costs no extra round trip; behind
        PgBouncer, which does not pass that setting on, a read-only transaction instead."""
        if self.pgbouncer:
            async with self.transaction(readonly=True) as conn:
                yield conn
            return
        async with self._read_only_lock:
            if self._read_only_pool is None:
                settings = self._pool_options.get("server_settings") or {}
                self._read_only_pool = await self._new_pool(
                    self.url,
                    min_size=0,
                    server_settings={**settings, "default_transaction_read_only": "on"},
                )
        async with borrow(self._read_only_pool) as conn:
            yield conn

    @asynccontextmanager
    async def transaction(
        self, *, isolation: Isolation = "read_committed", readonly: bool = False
    ) -> AsyncIterator[asyncpg.Connection]:
        """A pooled connection inside a transaction: commits on exit, rolls back on error.

        Repositories built on the yielded connection join the transaction. BEGIN and
        COMMIT fail as tether errors too (a serialization failure or a deferred
        constraint can end a transaction at COMMIT). Cancelled before COMMIT, it rolls
        back and raises CancelledError; cancelled or cut off during COMMIT, it raises
        CommitUnknown (the outcome is unknown); cancelled after COMMIT returned, the
        block's caller carries on as if no cancel had come (it committed).
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
            except asyncio.CancelledError:
                # COMMIT was sent: the server may have committed before the cancel
                # reached it. A bare CancelledError would read as "not done".
                raise CommitUnknown(
                    "commit: cancelled while COMMIT ran (the transaction may or may not "
                    "have committed)"
                ) from None
            except DRIVER_ERRORS as error:
                failure = translate(error, "commit")
                if isinstance(failure, ConnectionLost):
                    failure = CommitLost(
                        "commit: the connection to the database was lost during COMMIT "
                        "(the transaction may or may not have committed)",
                        sqlstate=failure.sqlstate,
                    )
                raise failure from None

    @asynccontextmanager
    async def tenant(
        self,
        *keys: TenantKey,
        isolation: Isolation = "read_committed",
        readonly: bool = False,
    ) -> AsyncIterator[asyncpg.Connection]:
        """A transaction scoped to these tenants (SPEC "Tenancy"): it runs as the role
        `tether_service`, and every tenant table shows, changes and lets it refer to
        only these tenants' rows; row-level security in the database enforces it.
        Repositories built on the yielded connection are scoped the same way. Keys are
        the tenant roots' ids (an int or a UUID, as the domain's root has them)."""
        tenants = tenant_setting(keys)
        async with self.transaction(isolation=isolation, readonly=readonly) as conn:
            try:
                await conn.fetchval(Q.scope_to_tenants.sql, tenants)
            except DRIVER_ERRORS as error:
                raise translate(error, "tenant") from None
            yield conn

    def __repr__(self) -> str:
        where = redact(self._url) if self._url else "embedded (not started)"
        standbys = [redact(url) for url in self.replica_urls]
        replicas = f" replicas={standbys}" if standbys else ""
        return (
            f"<Database {where}{replicas} pgbouncer={self.pgbouncer} "
            f"connected={self._pool is not None}>"
        )


# A tenant root's key: planner/tutor use bigint ids, chat/study/tickets UUIDs.
TenantKey = int | uuid.UUID


def tenant_setting(keys: Sequence[TenantKey]) -> str:
    """`tether.tenants` for these keys: their text, comma-separated."""
    if not keys:
        raise InvalidValue("tenant: name at least one tenant key (an unscoped role sees no rows)")
    for key in keys:
        if isinstance(key, bool) or not isinstance(key, int | uuid.UUID):
            raise InvalidValue(
                f"tenant: a tenant key is an int or a uuid.UUID, not {type(key).__name__}"
            )
    return ",".join(str(key) for key in keys)


def _not_connected() -> RuntimeError:
    return RuntimeError("Database is not connected: use `async with Database() as db`")


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
