"""`tether demo [DOMAIN ...]`: each domain's story, played against a real database.

Each chosen domain (default: every domain, in the registry's order) gets a fresh
database `tether_demo_<domain>` on the server, with `common` and that domain
migrated (as a service using that domain alone would have it), and plays its
story, `tether.<domain>.story.play`. The tables the stories print are tether.demo's.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable

from tether import admin, migrations
from tether import domains as registry
from tether.database import Database, redact
from tether.demo import Out

DEMO_DATABASE = "tether_demo"

# A story: plays against a migrated database, telling what happens on `out`.
Story = Callable[[Database, Out], Awaitable[None]]


def story(domain: registry.Domain) -> Story:
    """The domain's demo story, `tether.<domain>.story.play`."""
    play: Story = domain.module("story").play
    return play


async def run(
    server_url: str,
    domains: Iterable[str] | None = None,
    out: Out = print,
    database: str = DEMO_DATABASE,
) -> None:
    """Play the chosen domains' stories, each in a fresh database `<database>_<domain>`
    on the server at `server_url`."""
    for domain in registry.select(domains):
        out(f"\n#### {domain.name} (seed {domain.seed}): {domain.summary}")
        url = await admin.recreate_database(server_url, f"{database}_{domain.name}")
        out(f"database {redact(url)} (created fresh)")
        await asyncio.to_thread(migrations.migrate, url, out, domains=[domain.name])
        async with Database(url) as db:
            await story(domain)(db, out)
