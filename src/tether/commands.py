"""What the `tether` commands that read a freshly migrated database share (`check`,
`erd`, `distribution`): where they print, the scratch database they migrate and
drop, and how they rewrite the blocks they generate in a docs page.

One policy for a page that lacks a block's markers (`<!-- kind:name -->` and
`<!-- /kind:name -->`): the command writes no block there, names the page and the
two markers to add, and exits 1; the blocks that have their markers are rewritten.
Where a block goes in a page is the page's author's choice, not the command's.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from pathlib import Path

from tether import admin, docblocks

Out = Callable[[str], None]


def scratch_name() -> str:
    """The scratch database the commands migrate and drop: one per process."""
    return f"tether_scratch_{os.getpid()}"


@asynccontextmanager
async def migrated_scratch(server_url: str, domains: Iterable[str] | None) -> AsyncIterator[str]:
    """A scratch database on the server with `common` and the chosen domains (default:
    all) migrated, dropped after the block; its URL."""
    async with admin.scratch_database(
        server_url, scratch_name(), migrated=True, domains=domains
    ) as url:
        yield url


def write_blocks(page: Path, kind: str, found: Mapping[str, str], what: str, note: Out) -> int:
    """Rewrite in `page` the blocks of `found` (name -> the whole new block, markers
    included), each `what` (a diagram, a plan) of a domain; 1 when the page has no
    markers for one of them, else 0."""
    text = page.read_text(encoding="utf-8") if page.exists() else ""
    refreshed, missing = docblocks.refresh(kind, text, found)
    if refreshed != text:
        page.write_text(refreshed, encoding="utf-8")
    for name in missing:
        note(
            f"{page}: no place for the {what} of {name}: put <!-- {kind}:{name} --> and "
            f"<!-- /{kind}:{name} --> where it belongs, then run this again"
        )
    if written := [name for name in found if name not in missing]:
        note(f"{page}: {what} of {', '.join(written)} up to date")
    return 1 if missing else 0
