"""PgBouncer for the suite: installed when missing (root with apt-get), started in
transaction pooling mode in front of the test server, stopped afterwards.

The embedded server listens on a unix socket only: PgBouncer reaches it through the
socket's folder (`host=/folder`) and listens itself on 127.0.0.1 at a free port. One
wildcard `[databases]` entry serves every database the tests create by name.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from attrs import frozen

# Few server connections for many clients: calls really share them, as in production.
SERVER_CONNECTIONS = 3


def find_or_install() -> tuple[str | None, str]:
    """The pgbouncer executable, installing it if need be; else None and why not."""
    found = _which()
    if found:
        return found, ""
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return None, "pgbouncer is not installed, and installing it needs root and apt-get"
    done = _apt_get("install", "-y", "-q", "pgbouncer")
    if done.returncode != 0:  # stale package lists: refresh them once
        _apt_get("-q", "update")
        done = _apt_get("install", "-y", "-q", "pgbouncer")
    found = _which()
    if found:
        return found, ""
    return None, f"apt-get could not install pgbouncer: {done.stderr.strip()[-300:]}"


def _apt_get(*args: str) -> subprocess.CompletedProcess[str]:
    # Another test run may be installing at the same moment: wait for dpkg's lock.
    command = ["apt-get", "-o", "DPkg::Lock::Timeout=300", *args]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=900)


def _which() -> str | None:
    return shutil.which("pgbouncer") or next(
        (p for p in ("/usr/sbin/pgbouncer", "/usr/bin/pgbouncer") if Path(p).exists()), None
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@frozen
class Server:
    """Where the PostgreSQL server behind PgBouncer is, from its URL."""

    host: str  # a host name, or the folder of a unix socket
    port: int
    user: str
    password: str | None

    @classmethod
    def from_url(cls, url: str) -> Server:
        parts = urlsplit(url)
        host = parse_qs(parts.query).get("host", [parts.hostname or "localhost"])[0]
        password = unquote(parts.password) if parts.password else None
        return cls(host, parts.port or 5432, parts.username or "postgres", password)

    def entry(self) -> str:
        login = f" user={self.user} password={self.password}" if self.password else ""
        return f"host={self.host} port={self.port}{login}"

    def os_user(self) -> str:
        """Who PgBouncer runs as when we are root (it refuses to run as root): the owner
        of the socket's folder, which only its owner may enter, else nobody."""
        if self.host.startswith("/"):
            return pwd.getpwuid(Path(self.host).stat().st_uid).pw_name
        return "nobody"


class PgBouncer:
    """A running PgBouncer in transaction pooling mode; `url(name)` reaches database
    `name` through it."""

    def __init__(self, executable: str, server_url: str) -> None:
        self.server = Server.from_url(server_url)
        self.port = free_port()
        # Under /tmp, which the user PgBouncer may switch to can reach (pytest's are 0700).
        self.folder = folder = Path(tempfile.mkdtemp(prefix="tether-pgbouncer-"))
        self.log = folder / "pgbouncer.log"
        (folder / "users.txt").write_text(f'"{self.server.user}" ""\n')
        ini = folder / "pgbouncer.ini"
        ini.write_text(
            "\n".join(
                [
                    "[databases]",
                    f"* = {self.server.entry()}",
                    "[pgbouncer]",
                    "listen_addr = 127.0.0.1",
                    f"listen_port = {self.port}",
                    "unix_socket_dir =",
                    "auth_type = trust",
                    f"auth_file = {folder / 'users.txt'}",
                    "pool_mode = transaction",
                    f"default_pool_size = {SERVER_CONNECTIONS}",
                    "max_client_conn = 200",
                    f"logfile = {self.log}",
                    f"pidfile = {folder / 'pgbouncer.pid'}",
                    "",
                ]
            )
        )
        command = [executable, str(ini)]
        if os.geteuid() == 0:
            user = self.server.os_user()
            shutil.chown(folder, user)
            command[1:1] = ["-u", user]
        with (folder / "output.log").open("w") as output:
            self.process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
        self._wait_until_listening()

    def _wait_until_listening(self) -> None:
        for _ in range(200):
            if self.process.poll() is not None:
                raise RuntimeError(f"pgbouncer exited: {(self.folder / 'output.log').read_text()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("pgbouncer did not start listening")

    def url(self, database: str) -> str:
        return f"postgresql://{self.server.user}@127.0.0.1:{self.port}/{database}"

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)
        shutil.rmtree(self.folder, ignore_errors=True)
