"""Creating and dropping whole databases (the demo's, the test suite's).

CREATE/DROP DATABASE take an identifier, which cannot be a parameter, so this is
the one module whose SQL carries a name: each name is checked against a strict
pattern of tether's own before it is quoted into the statement.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import LiteralString, cast
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from tether import migrations

_NAME = re.compile(r"tether_[a-z0-9_]{1,55}")


def _identifier(name: str) -> LiteralString:
    if not _NAME.fullmatch(name):
        raise ValueError(f"not a tether database name: {name!r} (expected tether_[a-z0-9_]+)")
    return cast(LiteralString, '"' + name + '"')


def with_database(url: str, name: str) -> str:
    """The same server URL, naming database `name`."""
    return urlunsplit(urlsplit(url)._replace(path="/" + name))


async def _run(server_url: str, statement: LiteralString) -> None:
    conn = await asyncpg.connect(server_url)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


async def create_database(server_url: str, name: str, template: str | None = None) -> str:
    """Create database `name` (a file copy of `template` when given); return its URL."""
    statement = "create database " + _identifier(name)
    if template is not None:
        statement += " template " + _identifier(template) + " strategy file_copy"
    await _run(server_url, statement)
    return with_database(server_url, name)


async def drop_database(server_url: str, name: str) -> None:
    """Drop database `name` if it exists, ending its sessions first."""
    await _run(server_url, "drop database if exists " + _identifier(name) + " with (force)")


async def rename_database(server_url: str, name: str, new_name: str) -> None:
    await _run(
        server_url, "alter database " + _identifier(name) + " rename to " + _identifier(new_name)
    )


async def recreate_database(server_url: str, name: str) -> str:
    """Database `name`, new and empty (a copy a previous run left behind is dropped); its URL."""
    await drop_database(server_url, name)
    return await create_database(server_url, name)


@asynccontextmanager
async def scratch_database(
    server_url: str,
    name: str,
    *,
    migrated: bool = False,
    domains: Iterable[str] | None = None,
) -> AsyncIterator[str]:
    """A new database `name` for the block, dropped afterwards whatever happened in it;
    when `migrated`, with `common` and the chosen domains (default: all) applied."""
    url = await recreate_database(server_url, name)
    try:
        if migrated:
            await asyncio.to_thread(migrations.migrate, url, domains=domains)
        yield url
    finally:
        await drop_database(server_url, name)
