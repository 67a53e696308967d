"""`tether`'s arguments mean one thing in every command: DOMAIN names are positional
and no option takes one as its value; `migrate` and `status` take `common` too; a
mistake shows the usage of the command it was made in, and the domains, exit 2."""

from __future__ import annotations

import os
from pathlib import Path

import asyncpg
import pytest
from yoyo import read_migrations

from tether import admin, cli, domains, erd, migrations
from tether.database import redact
from tether.resources import migrations_dir

DOCS = Path(__file__).resolve().parent.parent / "docs"
COMMANDS = ["migrate", "rollback", "status", "demo", "check", "erd", "distribution"]
TAKE_COMMON = {"migrate", "status"}
COMMON_ALONE = [m.id for m in read_migrations(str(migrations_dir() / "common"))]


@pytest.fixture
async def empty_url(tether_server_url):
    async with admin.scratch_database(tether_server_url, f"tether_cli{os.getpid()}") as url:
        yield url


def refusal(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """What `tether argv` says on stderr, having exited 2."""
    with pytest.raises(SystemExit) as exited:
        cli.main(list(argv))
    assert exited.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    return captured.err


async def schemas(url: str) -> list[str]:
    conn = await asyncpg.connect(url)
    try:
        return await conn.fetchval(
            "select coalesce(array_agg(nspname::text order by nspname), '{}') from pg_namespace "
            "where nspname not like 'pg\\_%' and nspname not in ('information_schema', 'public')"
        )
    finally:
        await conn.close()


@pytest.mark.parametrize("command", COMMANDS)
def test_an_unknown_domain_shows_that_commands_usage_and_the_domains(capsys, command):
    said = refusal(capsys, command, "nope")
    known = ["common", *domains.names()] if command in TAKE_COMMON else domains.names()
    assert said.startswith(f"usage: tether {command} ")
    assert said.endswith(
        f"tether {command}: error: no domain 'nope': DOMAIN is one of {', '.join(known)}\n"
    )


@pytest.mark.parametrize("command", sorted(set(COMMANDS) - TAKE_COMMON))
def test_common_is_refused_where_it_is_not_a_domain(capsys, command):
    said = refusal(capsys, command, "common")
    assert said.startswith(f"usage: tether {command} ")
    assert f"no domain 'common': DOMAIN is one of {', '.join(domains.names())}" in said


@pytest.mark.parametrize("command", COMMANDS)
def test_an_unknown_option_shows_that_commands_usage(capsys, command):
    said = refusal(capsys, command, "--bogus")
    assert said.startswith(f"usage: tether {command} ")
    assert said.endswith(f"tether {command}: error: unrecognized arguments: --bogus\n")


@pytest.mark.parametrize("command", ["erd", "distribution"])
def test_write_docs_takes_no_value_so_a_domain_after_it_stays_a_domain(capsys, command):
    args = cli.parser().parse_args([command, "--write-docs", "chat"])
    assert (args.write_docs, args.domains) == (True, ["chat"])
    args = cli.parser().parse_args([command, "study", "--write-docs", "chat"])
    assert (args.write_docs, args.domains) == (True, ["study", "chat"])
    assert "no domain 'docs'" in refusal(capsys, command, "--write-docs", "docs")


async def test_migrate_and_status_take_common_alone(empty_url, capsys):
    assert cli.main(["--database", empty_url, "migrate", "common"]) == 0
    applying = "".join(f"applying {m}\n" for m in COMMON_ALONE)
    assert capsys.readouterr().out == (
        f"migrating {redact(empty_url)} (common)\n{applying}"
        f"{len(COMMON_ALONE)} migration(s) applied\n"
    )
    assert [m for m, done in migrations.status(empty_url) if done] == COMMON_ALONE
    assert await schemas(empty_url) == []
    # --database after the command's name means the same as before it.
    assert cli.main(["status", "common", "--database", empty_url]) == 0
    listed = capsys.readouterr().out.splitlines()[1:]
    assert listed == [f"  [x] {m}" for m in COMMON_ALONE]
    assert cli.main(["migrate", "common", "planner", "--database", empty_url]) == 0
    assert "(common, planner)" in capsys.readouterr().out
    assert await schemas(empty_url) == ["planner"]


def test_erd_write_docs_then_a_domain_writes_that_domains_page(
    tether_server_url, tmp_path, monkeypatch, capsys
):
    """`tether erd --write-docs chat` writes docs/chat.md (it once took `chat` as the
    docs folder and wrote nowhere)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "docs").mkdir()
    page = tmp_path / "docs" / "chat.md"
    page.write_text("# chat\n\n<!-- erd:chat -->\nold\n<!-- /erd:chat -->\n")
    assert cli.main(["--database", tether_server_url, "erd", "--write-docs", "chat"]) == 0
    current = erd.page_blocks((DOCS / "chat.md").read_text())["chat"]
    assert page.read_text() == f"# chat\n\n{current}\n"
    assert not (tmp_path / "chat").exists()
    assert capsys.readouterr().err == "docs/chat.md: diagram of chat up to date\n"
