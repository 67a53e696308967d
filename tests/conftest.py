"""The suite uses tether's own pytest plugin (tether.testing): `tether_db` gives each
test a freshly migrated database of its own, on an embedded server whose data lives
in RAM when the machine has a /dev/shm (see `_ram_home`). `bench_smoke` runs the benchmarks once,
on tiny data, for every domain's expectations of them. `--hostile-depth` sets how many
values the hostile-input properties generate per method (tests/reliability)."""

import fcntl
import hashlib
import importlib.util
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from reliability.model import HOSTILE_DEPTH

ROOT = Path(__file__).resolve().parent.parent


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--hostile-depth",
        choices=sorted(HOSTILE_DEPTH),
        default="cheap",
        help="values generated per method by the hostile-input properties (default: cheap)",
    )


def _ram_home() -> Path | None:
    """Where the suite's embedded server keeps its data: a folder of this checkout in
    /dev/shm. Each test copies a 10 MB template database and drops it; on the virtual
    disks of CI machines those writes, not the tests, took most of the run (9 min
    against 3.5 on a 2-core machine). None where TETHER_HOME or DATABASE_URL already
    says where the server is, or the machine has no writable /dev/shm."""
    shm = Path("/dev/shm")  # noqa: S108 -- a folder of our own in it, made private below
    if "TETHER_HOME" in os.environ or "DATABASE_URL" in os.environ:
        return None
    if not (shm.is_dir() and os.access(shm, os.W_OK)):
        return None
    return shm / f"tether-tests-{hashlib.sha256(bytes(ROOT)).hexdigest()[:12]}"


def pytest_configure(config: pytest.Config) -> None:
    # Set before pytest-xdist starts its workers, so that they and every subprocess a
    # test runs (the CLI, the demo, the benchmarks) share the one server.
    if (home := _ram_home()) is not None:
        home.mkdir(mode=0o700, exist_ok=True)
        os.environ["TETHER_HOME"] = str(home)
    hostile, valid = HOSTILE_DEPTH[config.getoption("hostile_depth")]
    # Each example resets and refills the tables: slow by hypothesis's measure, by design.
    quiet = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
    settings.register_profile(
        "hostile", max_examples=hostile, deadline=None, suppress_health_check=quiet
    )
    settings.register_profile(
        "hostile-valid", max_examples=valid, deadline=None, suppress_health_check=quiet
    )


def _run_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of this run shared by its pytest-xdist workers (the parent of each
    worker's own temporary folder); without xdist, the run's own."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@contextmanager
def _locked(path: Path, exclusive: bool) -> Iterator[None]:
    with path.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        yield


# Set on every test that reads on a hot standby (its fixtures, direct or not, include
# one); the other tests of the same files (tokens, unreachable hosts, silent ports, the
# CLI's timeouts) share the run. Marking whole files kept 15 s of them alone.
ALONE = pytest.StashKey[bool]()
STANDBY_FIXTURES = {"tether_standby", "tether_standby_url"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        item.stash[ALONE] = bool(STANDBY_FIXTURES & set(item.fixturenames))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> object:
    """A hot standby replays every database the other workers create (a file copy
    each), and the tests that read on one time that replay: each of them runs alone,
    while every other test shares the run with the rest."""
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return (yield)
    folder = _run_folder(item.config._tmp_path_factory)  # type: ignore[attr-defined]
    with _locked(folder / "standby.lock", exclusive=item.stash.get(ALONE, False)):
        return (yield)


# The benchmarks' smoke run of this process, while it runs (see _start_bench_smoke).
_bench_run: subprocess.Popen[str] | None = None


def _bench_folder(config: pytest.Config) -> Path:
    folder = _run_folder(config._tmp_path_factory) / "bench-smoke"  # type: ignore[attr-defined]
    folder.mkdir(exist_ok=True)
    return folder


def _start_bench_smoke(config: pytest.Config) -> None:
    """Start `python -m benchmarks --smoke --scoped` in the background, once a run: the
    first pytest-xdist worker to get here starts it; the others find it started. It
    joins the suite's server (the environment says which) and holds the standby lock
    shared while it loads its data, as a test would."""
    folder = _bench_folder(config)
    with _locked(folder / "lock", exclusive=True):
        if (folder / "started").exists():
            return
        (folder / "started").touch()
    database = f"tether_bench_t{os.getpid()}"
    command = [sys.executable, "-m", "benchmarks", "--smoke", "--scoped", "--database", database]
    command += ["--output", str(folder / "results.json")]

    def run() -> None:
        global _bench_run
        with (
            _locked(folder.parent / "standby.lock", exclusive=False),
            (folder / "stdout.txt").open("w") as out,
            (folder / "stderr.txt").open("w") as err,
        ):
            _bench_run = subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=err)
            try:
                status = _bench_run.wait(timeout=600)
            except subprocess.TimeoutExpired:
                _bench_run.kill()
                status = _bench_run.wait()
        (folder / "status").write_text(str(status))

    threading.Thread(target=run, daemon=True).start()


def pytest_collection_finish(session: pytest.Session) -> None:
    """A run that will use `bench_smoke` starts it now, so that it is done, or nearly,
    by the time its tests come up (it takes ~35 s; waiting for it idled a worker)."""
    if importlib.util.find_spec("sqlalchemy") is None:
        return
    if any("bench_smoke" in item.fixturenames for item in session.items):
        _start_bench_smoke(session.config)


def pytest_sessionfinish(session: pytest.Session) -> None:
    if _bench_run is not None and _bench_run.poll() is None:
        _bench_run.kill()


@pytest.fixture(scope="session")
def bench_smoke(pytestconfig):
    """`python -m benchmarks --smoke --scoped`: its printed tables and its results.json.
    Run once a run, in the background from collection on (_start_bench_smoke); every
    worker waits here until it is done (10 min at most)."""
    pytest.importorskip(
        "sqlalchemy", reason="the benchmarks need the bench extra (pip install -e '.[bench]')"
    )
    _start_bench_smoke(pytestconfig)
    folder = _bench_folder(pytestconfig)
    status = folder / "status"
    deadline = time.monotonic() + 660
    while not status.exists():
        assert time.monotonic() < deadline, "the benchmarks' smoke run did not finish"
        time.sleep(0.2)
    assert status.read_text() == "0", (folder / "stderr.txt").read_text()
    printed = (folder / "stdout.txt").read_text()
    return printed, json.loads((folder / "results.json").read_text())
