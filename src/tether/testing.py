"""pytest plugin: a freshly migrated database per test, and exact cascade assertions.

Installed with tether (entry point `pytest11`), so it is active in any project
that has tether installed; `pip install 'tether[testing]'` adds pytest and
pytest-asyncio, which `tether_db` needs. Fixtures:

- `tether_db`: a connected `Database` on a database of its own, migrated, dropped
  after the test. It is a file copy of a template migrated once and kept on the
  server under a name derived from the migrations' content, so a run pays for
  migrating only when a migration changed. A service's suite migrates `common`
  and its own domains only: `tether_domains = chat` in its pytest ini (default:
  every domain); the template is keyed by that choice too.
- `tether_url`: the same database's URL, for code that connects by itself.
- `tether_tenant`: `async with tether_tenant(key, ...) as conn`, a transaction on
  `tether_db` scoped to those tenants (`Database.tenant`): a service's code run on
  it sees and changes those tenants' rows only, as in production.
- `tether_server_url`: the server (`$DATABASE_URL`, else the embedded one).

Opt-in, for reads on a hot standby (tether.replicas); nothing starts until a test
asks:

- `tether_standby_url`: a standby of that server: `$DATABASE_REPLICA_URL` when set
  (a standby of `$DATABASE_URL`'s server), else `tether_standby`'s.
- `tether_standby`: an embedded hot standby of the embedded server
  (`tether.embedded.EmbeddedStandby`), started once per session, stopped and removed at its
  end; a test may `stop()` and `start()` it. Skips when the servers are external.
- `tether_replica_url`: `tether_url`'s database on the standby, once the standby has
  replayed its creation.
- `tether_replicated_db`: like `tether_db`, with that standby as its replica.

With `$DATABASE_URL`, the role needs CREATEDB: each test gets its own database
next to the one the URL names. A template of the same domains built from other
migrations (another branch's run on the same server) is dropped as stale; a run
whose template was dropped that way builds its own again. Templates of other
domain choices are left alone.

`expect_changes` asserts exactly which rows a statement deleted and updated
(SET NULL, triggers) in every table, as PostgreSQL counted them.
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib.util
import itertools
import os
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import NoReturn
from urllib.parse import urlsplit

import asyncpg
import pytest

from tether import admin, embedded, migrations
from tether import domains as registry
from tether.catalog import Q
from tether.changes import Changes, track
from tether.database import (
    Database,
    configured_replica_urls,
    configured_url,
    pgbouncer_from_env,
    redact,
)
from tether.replicas import replayed_to
from tether.repository import Repository

_counter = itertools.count(1)


class _Catalog(Repository):
    DATABASE_EXISTS = Q.database_exists
    OTHER_TEMPLATES = Q.other_templates

    async def database_exists(self, name: str) -> bool:
        return bool(await self._val(self.DATABASE_EXISTS, name=name))

    async def other_templates(self, prefix: str, name: str) -> list[str]:
        names: list[str] = await self._val(self.OTHER_TEMPLATES, prefix=prefix, name=name)
        return names


def _digest(*parts: bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part)
    return digest.hexdigest()


def migrations_fingerprint(domains: Sequence[str] | None = None) -> str:
    """A short hash of the name and content of every migration file of `common` and
    the chosen domains (default: all)."""
    files = [
        (f"{folder.name}/{path.name}".encode(), path.read_bytes())
        for folder in migrations.sources(domains)
        for path in sorted(folder.glob("*.sql"))
    ]
    return _digest(*(part for pair in files for part in pair))[:16]


def template_prefix(domains: Sequence[str] | None = None) -> str:
    """The name every template for this choice of domains starts with."""
    chosen = ",".join(domain.name for domain in registry.select(domains))
    return f"tether_tpl_{_digest(chosen.encode())[:8]}_"


async def ensure_template(server_url: str, domains: Sequence[str] | None = None) -> str:
    """The name of a migrated template database for the current migrations of `common`
    and the chosen domains (default: all).

    Built under a private name and renamed into place, so concurrent test runs
    never see a half-migrated template; a loser of that race drops its copy.
    """
    prefix = template_prefix(domains)
    name = prefix + migrations_fingerprint(domains)
    conn = await asyncpg.connect(server_url)
    try:
        catalog = _Catalog(conn)
        if await catalog.database_exists(name):
            return name
        stale = await catalog.other_templates(prefix, name)
    finally:
        await conn.close()
    for old in stale:
        await admin.drop_database(server_url, old)
    building = f"tether_build_{os.getpid()}"
    url = await admin.recreate_database(server_url, building)
    await asyncio.to_thread(migrations.migrate, url, domains=domains)
    try:
        await admin.rename_database(server_url, building, name)
    except asyncpg.DuplicateDatabaseError:
        await admin.drop_database(server_url, building)
    return name


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        "tether_domains",
        "the tether domains whose migrations tether_db applies, besides common "
        "(default: every domain)",
        type="args",
        default=[],
    )


@pytest.fixture(scope="session")
def tether_domains(pytestconfig: pytest.Config) -> list[str]:
    """The domains this suite's databases are migrated with (the `tether_domains` ini
    option; every domain when it is not set)."""
    named: list[str] = pytestconfig.getini("tether_domains")
    try:
        return [domain.name for domain in registry.select(named)]
    except ValueError as error:
        pytest.fail(f"tether_domains: {error}", pytrace=False)


@pytest.fixture(scope="session")
def tether_server_url() -> str:
    return configured_url() or embedded.start()


def _template(server_url: str, domains: Sequence[str]) -> str:
    try:
        return asyncio.run(ensure_template(server_url, domains))
    except asyncpg.InsufficientPrivilegeError:
        pytest.fail(
            f"tether.testing creates a database per test: the role of {redact(server_url)} "
            "needs CREATEDB",
            pytrace=False,
        )


@pytest.fixture(scope="session")
def tether_template(tether_server_url: str, tether_domains: list[str]) -> str:
    return _template(tether_server_url, tether_domains)


@pytest.fixture
def tether_url(
    tether_server_url: str, tether_template: str, tether_domains: list[str]
) -> Iterator[str]:
    name = f"tether_t{os.getpid()}_{next(_counter)}"
    try:
        url = asyncio.run(admin.create_database(tether_server_url, name, template=tether_template))
    except asyncpg.InvalidCatalogNameError:
        # Another run on this server, with other migrations, dropped the template as stale.
        template = _template(tether_server_url, tether_domains)
        url = asyncio.run(admin.create_database(tether_server_url, name, template=template))
    yield url
    asyncio.run(admin.drop_database(tether_server_url, name))


@pytest.fixture(scope="session")
def tether_standby(tether_server_url: str) -> Iterator[embedded.EmbeddedStandby]:
    if configured_url() or configured_replica_urls():
        pytest.skip(
            "tether_standby starts a standby of the embedded server; the servers here are "
            "external ($DATABASE_URL, $DATABASE_REPLICA_URL)"
        )
    with embedded.standby(tether_server_url) as standby:
        yield standby


@pytest.fixture(scope="session")
def tether_standby_url(request: pytest.FixtureRequest) -> str:
    if found := configured_replica_urls():
        return found[0]
    if configured_url():
        pytest.skip(
            "$DATABASE_URL names an external server: set $DATABASE_REPLICA_URL to a hot "
            "standby of it to run the tests that read on one"
        )
    standby: embedded.EmbeddedStandby = request.getfixturevalue("tether_standby")
    return standby.url


# How long the standby may take to replay a test database's creation.
REPLAY_TIMEOUT_SECONDS = 30.0


async def _replayed(primary_url: str, standby_url: str) -> None:
    """Wait until the standby at `standby_url` has replayed everything the primary at
    `primary_url` had flushed when called."""
    primary = await asyncpg.connect(primary_url)
    try:
        target: int = await primary.fetchval(Q.flushed_lsn.sql)
    finally:
        await primary.close()
    standby = await asyncpg.connect(standby_url)
    try:
        replayed = await replayed_to(standby, target, REPLAY_TIMEOUT_SECONDS)
    finally:
        await standby.close()
    if replayed is None or replayed < target:
        pytest.fail(
            f"the standby {redact(standby_url)} did not replay the primary's WAL within "
            f"{REPLAY_TIMEOUT_SECONDS:g} s (is it a standby of {redact(primary_url)}?)",
            pytrace=False,
        )


@pytest.fixture
def tether_replica_url(tether_url: str, tether_standby_url: str) -> str:
    asyncio.run(_replayed(tether_url, tether_standby_url))
    return admin.with_database(tether_standby_url, urlsplit(tether_url).path.lstrip("/"))


if importlib.util.find_spec("pytest_asyncio") is None:
    # tether without its [testing] extra: say so where tether_db is asked for.

    @pytest.fixture(name="tether_db")
    def _tether_db_needs_pytest_asyncio() -> NoReturn:
        pytest.fail(
            "tether_db is an async fixture and needs pytest-asyncio: "
            "pip install 'tether[testing]' (or pytest-asyncio), and run the tests that use "
            "it as async tests (asyncio_mode = auto, or @pytest.mark.asyncio)",
            pytrace=False,
        )

else:
    import pytest_asyncio

    @pytest_asyncio.fixture
    async def tether_db(tether_url: str) -> AsyncIterator[Database]:
        async with Database(tether_url, pgbouncer=pgbouncer_from_env()) as db:
            yield db

    @pytest_asyncio.fixture
    async def tether_replicated_db(
        tether_url: str, tether_replica_url: str
    ) -> AsyncIterator[Database]:
        async with Database(
            tether_url, replicas=[tether_replica_url], pgbouncer=pgbouncer_from_env()
        ) as db:
            yield db


# `tether_tenant(key, ...)`: what `Database.tenant` is, for one test's database.
TenantScope = Callable[..., AbstractAsyncContextManager[asyncpg.Connection]]


@pytest.fixture
def tether_tenant(tether_db: Database) -> TenantScope:
    """`async with tether_tenant(key, ...) as conn`: a transaction on `tether_db` as
    tether_service, scoped to those tenants, so a test can show that the service's
    code sees and changes no other tenant's rows."""
    return tether_db.tenant


@asynccontextmanager
async def expect_changes(
    conn: asyncpg.Connection,
    *,
    deleted: dict[str, int] | None = None,
    updated: dict[str, int] | None = None,
    inserted: dict[str, int] | None = None,
) -> AsyncIterator[Changes]:
    """Assert that the block deleted/updated/inserted exactly these rows per table.

    Tables not named must be untouched in that way; a kind left as None is not checked.
    """
    async with track(conn) as changes:
        yield changes
    for kind, expected in (("deleted", deleted), ("updated", updated), ("inserted", inserted)):
        if expected is not None:
            actual = getattr(changes, kind)
            assert actual == expected, f"rows {kind}: expected {expected}, database says {actual}"
