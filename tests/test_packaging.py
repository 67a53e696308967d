"""The built wheel carries sql/ and migrations/, and tether finds them there exactly as
it finds them in a checkout: installed apart from the source tree, it migrates a
database and runs a query."""

import os
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest
from yoyo import read_migrations

from tether import admin, migrations, resources

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow


def test_a_checkout_finds_its_own_folders():
    assert resources.sql_dir() == ROOT / "sql"
    assert resources.migrations_dir() == ROOT / "migrations"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    [built] = out.glob("tether-*.whl")
    return built


def test_the_wheel_carries_queries_and_migrations(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for path in (ROOT / "sql").rglob("*.sql"):
        assert f"tether/_data/sql/{path.relative_to(ROOT / 'sql')}" in names
    for path in (ROOT / "migrations").rglob("*.sql"):
        assert f"tether/_data/migrations/{path.relative_to(ROOT / 'migrations')}" in names
    assert "tether/py.typed" in names


async def test_the_installed_wheel_migrates_and_queries(wheel, tmp_path, tether_server_url):
    site = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "-q",
            "--target",
            str(site),
            str(wheel),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    script = textwrap.dedent(
        """
        import asyncio, sys
        import tether
        from tether import migrations, resources
        from tether.planner import UserRepository

        site = sys.argv[2]
        assert tether.__file__.startswith(site), tether.__file__
        assert str(resources.sql_dir()).startswith(site)
        assert str(resources.migrations_dir()).startswith(site)
        print(migrations.migrate(sys.argv[1]))

        async def main():
            async with tether.Database(sys.argv[1]) as db:
                user = await UserRepository(db).create("wheel@example.com")
                print((await UserRepository(db).get(user.id)).email)

        asyncio.run(main())
        """
    )
    async with admin.scratch_database(tether_server_url, f"tether_w{os.getpid()}") as url:
        done = subprocess.run(
            [sys.executable, "-c", script, url, str(site)],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "PYTHONPATH": str(site)},
        )
        assert done.returncode == 0, done.stderr
        every = [m.id for m in read_migrations(*map(str, migrations.sources()))]
        assert done.stdout.splitlines() == [str(every), "wheel@example.com"]
