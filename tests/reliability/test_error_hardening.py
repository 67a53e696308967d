"""Error text read by an attacker or a tired operator: the server's DETAIL never leaves
tether (whatever a trigger put there), a crafted page cursor is an InvalidValue and
not a RecursionError, and a connection that cannot be made says where and what to
check, is retryable only when trying again can help, and never hangs `tether
migrate` or prints a traceback."""

import base64
import logging
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner.reliability import make_owner
from tether import (
    ConnectionLost,
    Database,
    InvalidValue,
    ReplicaUnavailable,
    Retryable,
    TetherError,
    embedded,
    migrations,
    paging,
)
from tether.planner import FeedbackRepository, PlanRepository

from .commands import TETHER, run
from .test_secrets import everything_said

pytestmark = pytest.mark.reliability

SECRET = "sk_live_0123456789abcdef"  # noqa: S105 (the sample secret the tests look for)
RIGHT, WRONG = "right-password", "wrong-password"


async def test_a_detail_on_a_schema_error_stays_out_of_errors_and_logs(tether_db, sql, caplog):
    """A service's guard (a trigger) refuses with SQLSTATE 42501 and quotes the row in
    its DETAIL; class 42 used to pass `str(error)`, DETAIL and HINT included."""
    await sql.execute(
        """
        create function planner.guard() returns trigger language plpgsql as $$
        begin
          raise exception 'feedback is closed' using errcode = '42501',
            detail = 'row: ' || new.content, hint = 'secret was ' || new.content;
        end $$;
        create trigger guard before insert on planner.feedback
          for each row execute function planner.guard();
        """
    )
    owner = await make_owner(tether_db)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(TetherError) as refused:
        await FeedbackRepository(tether_db).submit(owner.user_id, uuid.uuid4(), SECRET)
    logging.getLogger("app").error("feedback failed", exc_info=refused.value)
    said = everything_said(refused.value, caplog)
    assert "feedback is closed" in str(refused.value)  # the primary message stays
    assert refused.value.sqlstate == "42501"
    assert SECRET not in said and "DETAIL" not in said and "HINT" not in said
    assert await sql.fetchval("select count(*) from planner.feedback") == 0


async def test_a_detail_on_a_lost_standby_stays_out_of_its_reason(
    tether_url, tether_replica_url, sql, caplog
):
    """A read on a standby fails as a lost connection (SQLSTATE 57P01) with a DETAIL:
    the standby is marked down with a reason that is logged and put in
    ReplicaUnavailable; that reason used to be `str(error)`."""
    await sql.execute(
        """
        create function public.leak() returns int language plpgsql as $$
        begin
          raise exception 'terminating' using errcode = '57P01', detail = 'key ' || $q$"""
        + SECRET
        + """$q$;
        end $$
        """
    )
    caplog.set_level(logging.DEBUG)
    async with Database(tether_url, replicas=[tether_replica_url]) as db:
        token = await db.token()
        with pytest.raises(ReplicaUnavailable) as unavailable:
            await db.replica(token, fallback="raise", wait=5).fetchval("select public.leak()")
    said = everything_said(unavailable.value, caplog)
    assert "lost during a read (AdminShutdownError: terminating)" in said
    assert SECRET not in said and "DETAIL" not in said


def _cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode()


async def test_a_deeply_nested_cursor_is_an_invalid_value(tether_db):
    owner = await make_owner(tether_db)
    plans = PlanRepository(tether_db)
    for crafted in (_cursor("[" * 100_000), _cursor("[" * 100_000 + "]" * 100_000), "A" * 10**6):
        with pytest.raises(InvalidValue, match="the page cursor is not one this API gave out"):
            await plans.page_of_user(owner.user_id, after=crafted)
    assert (await plans.page_of_user(owner.user_id)).items == ()  # the API still answers


KEY_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.text(max_size=200),  # brackets, quotes and backslashes included
    st.uuids(),
    st.datetimes(),
    st.dates(),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values=st.lists(KEY_VALUES, min_size=1, max_size=3))
def test_every_cursor_made_here_is_accepted(values):
    assert paging.decode(paging.encode(values), len(values), "t") == tuple(values)


@settings(max_examples=200, deadline=None)
@given(depth=st.integers(3, 5000), size=st.integers(1, 3))
def test_a_cursor_nested_deeper_than_pairs_is_refused(depth, size):
    crafted = _cursor("[" * depth + "]" * depth)
    with pytest.raises(InvalidValue):
        paging.decode(crafted, size, "t")


# Connections that cannot be made. A private server whose role `app` needs a password
# (the shared server takes local peer connections only, which ignore passwords).


@pytest.fixture(scope="module")
def password_server(tmp_path_factory) -> Iterator[str]:
    """A scratch server where `app` logs in with the password `right-password`."""
    with embedded.scratch_server(tmp_path_factory.mktemp("pw")) as url:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"create role app login password '{RIGHT}'")
            hba = conn.execute("select current_setting('hba_file')").fetchone()[0]
        rules = Path(hba)
        # Prepended: the first matching line decides.
        rules.write_text("local all app scram-sha-256\n" + rules.read_text())
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("select pg_reload_conf()")
        socket_dir = psycopg.conninfo.conninfo_to_dict(url)["host"]
        yield f"postgresql://app:{{password}}@/{{database}}?host={socket_dir}"


async def test_a_wrong_password_says_so_and_is_not_retryable(password_server):
    url = password_server.format(password=WRONG, database="postgres")
    with pytest.raises(TetherError) as refused:
        await Database(url).connect()
    text = str(refused.value)
    assert not isinstance(refused.value, Retryable)
    assert refused.value.sqlstate == "28P01"
    assert "app@" in text and "/postgres" in text and "password" in text
    assert WRONG not in repr(refused.value) + text
    right = password_server.format(password=RIGHT, database="postgres")
    async with Database(right) as db:  # the right one gets in: the server is fine
        assert await db.pool.fetchval("select current_user") == "app"


async def test_an_unknown_database_names_it_and_is_not_retryable(password_server):
    url = password_server.format(password=RIGHT, database="no_such_db")
    with pytest.raises(TetherError) as refused:
        await Database(url).connect()
    assert not isinstance(refused.value, Retryable)
    assert refused.value.sqlstate == "3D000"
    assert "/no_such_db" in str(refused.value) and "database name" in str(refused.value)


async def test_an_unresolvable_host_names_it_and_is_not_retryable():
    with pytest.raises(TetherError) as refused:
        await Database("postgresql://app@no-such-host.invalid:5432/app").connect()
    assert not isinstance(refused.value, Retryable)
    assert "no-such-host.invalid" in str(refused.value)
    assert "does not resolve" in str(refused.value)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_a_refused_port_names_it_and_is_retryable():
    """A server restarting refuses for a moment: trying again may help."""
    port = _free_port()
    with pytest.raises(ConnectionLost) as refused:
        await Database(f"postgresql://app@127.0.0.1:{port}/app").connect()
    assert f"127.0.0.1:{port}/app" in str(refused.value)
    assert "server is running" in str(refused.value)


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections (the kernel's backlog) and never answers."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        yield int(server.getsockname()[1])


async def test_a_connect_to_a_silent_server_times_out(silent_port):
    """Retryable (tether.pool's choice: a stalled server may answer again), and naming
    where it waited."""
    started = time.monotonic()
    with pytest.raises(ConnectionLost) as silent:
        await Database(f"postgresql://app@127.0.0.1:{silent_port}/app", timeout=1).connect()
    assert time.monotonic() - started < 10
    assert f"127.0.0.1:{silent_port}" in str(silent.value)


def test_migrate_gives_up_on_a_silent_server(silent_port, monkeypatch):
    monkeypatch.setattr(migrations, "CONNECT_TIMEOUT_SECONDS", 1)
    started = time.monotonic()
    with pytest.raises(TetherError, match=f"127.0.0.1:{silent_port}/app"):
        migrations.migrate(f"postgresql://app@127.0.0.1:{silent_port}/app")
    assert time.monotonic() - started < 10


@pytest.mark.parametrize("command", ["migrate", "status", "demo"])
async def test_the_cli_prints_one_line_for_a_server_it_cannot_reach(command):
    url = f"postgresql://app:{SECRET}@127.0.0.1:{_free_port()}/app"
    code, out = await run(TETHER, "--database", url, command)
    lines = [line for line in out.splitlines() if line.startswith("tether ")]
    assert code == 1, out
    assert len(lines) == 1 and lines[0].startswith(f"tether {command}: "), out
    assert "Traceback" not in out and SECRET not in out
    assert "127.0.0.1" in lines[0]


def test_the_cli_gives_up_on_a_silent_server(silent_port):
    """The default connect timeout (10 s) bounds `tether migrate`: it used to hang."""
    url = f"postgresql://app@127.0.0.1:{silent_port}/app"
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "tether", "--database", url, "migrate"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert f"127.0.0.1:{silent_port}" in done.stderr
    assert time.monotonic() - started < migrations.CONNECT_TIMEOUT_SECONDS + 20
