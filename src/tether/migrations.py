"""Migrations through yoyo's Python API, under yoyo's lock, with progress.

The same files `yoyo apply` reads from the repository root (yoyo.ini lists the
folders): `migrations/common` first, then one folder per domain. A service
that uses some domains applies `common` and those only (`domains=["chat"]`);
its database never holds the others' schemas. What to apply or roll back is
computed inside `backend.lock()`, so two processes migrating at once leave one
correct schema.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from yoyo import get_backend, read_migrations

from tether import domains as registry
from tether.errors import TetherError
from tether.resources import migrations_dir
from tether.translate import target

LOCK_TIMEOUT_SECONDS = 120
# How long connecting may take (a URL's own `connect_timeout` wins): a server that
# accepts and never answers must not hang a deploy.
CONNECT_TIMEOUT_SECONDS = 10

Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


def sources(domains: Iterable[str] | None = None) -> list[Path]:
    """The migration folders: `common` first, then the chosen domains (default: all),
    in the registry's order. `common` may be named too: it comes first anyway, and
    named alone it is all there is."""
    named = None if domains is None else list(domains)
    own = None if named is None else [name for name in named if name != registry.COMMON]
    chosen = () if named and not own else registry.select(own)
    return [migrations_dir() / registry.COMMON, *(domain.migrations for domain in chosen)]


def yoyo_url(url: str) -> str:
    """yoyo's URL for the same database: its psycopg 3 backend, with a connect timeout."""
    scheme, sep, rest = url.partition("://")
    if not sep or scheme not in ("postgres", "postgresql"):
        raise ValueError("expected a postgresql:// URL")
    if "connect_timeout=" not in rest:
        rest += f"{'&' if '?' in rest else '?'}connect_timeout={CONNECT_TIMEOUT_SECONDS}"
    return f"postgresql+psycopg://{rest}"


def _connected(url: str) -> Any:
    """yoyo's backend for `url`; a TetherError naming where and what to check if the
    connection cannot be made (psycopg's first line: its reason, never the password)."""
    try:
        return get_backend(yoyo_url(url))
    except psycopg.OperationalError as error:
        reason = (str(error).strip().splitlines() or ["no reason given"])[0]
        raise TetherError(
            f"connect to {target(url)}: {reason}; check the URL's host, port, user, "
            "password and database, and that the server is running"
        ) from None


@contextmanager
def _locked(url: str, folders: list[Path]) -> Iterator[tuple[Any, Any]]:
    """yoyo's backend and the migrations of `folders`, under yoyo's lock; the
    connection closes after."""
    backend = _connected(url)
    try:
        with backend.lock(LOCK_TIMEOUT_SECONDS):
            yield backend, read_migrations(*(str(p) for p in folders))
    finally:
        backend.connection.close()


def migrate(
    url: str, progress: Progress = _quiet, *, domains: Iterable[str] | None = None
) -> list[str]:
    """Apply every pending migration of `common` and the chosen domains (default: all);
    return their ids."""
    with _locked(url, sources(domains)) as (backend, migrations):
        pending = list(backend.to_apply(migrations))
        for migration in pending:
            progress(f"applying {migration.id}")
            backend.apply_one(migration)
    return [m.id for m in pending]


def rollback(
    url: str, count: int | None = 1, progress: Progress = _quiet, *, domain: str | None = None
) -> list[str]:
    """Roll back the last `count` applied migrations (all of them when None): of one
    domain, leaving `common` and the other domains as they are, or of everything."""
    folders = sources(None if domain is None else [domain])
    with _locked(url, folders) as (backend, migrations):
        applied = list(backend.to_rollback(migrations))
        if domain is not None:
            own = registry.get(domain).migrations.resolve()
            applied = [m for m in applied if Path(m.path).resolve().parent == own]
        chosen = applied if count is None else applied[:count]
        for migration in chosen:
            progress(f"rolling back {migration.id}")
            backend.rollback_one(migration)
    return [m.id for m in chosen]


def status(url: str, *, domains: Iterable[str] | None = None) -> list[tuple[str, bool]]:
    """Each migration id of `common` and the chosen domains (default: all), in the order
    yoyo reads them, with whether it is applied."""
    with _locked(url, sources(domains)) as (backend, migrations):
        pending = {m.id for m in backend.to_apply(migrations)}
        return [(m.id, m.id not in pending) for m in migrations]
