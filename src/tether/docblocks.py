"""Generated blocks in Markdown pages, between `<!-- kind:name -->` and
`<!-- /kind:name -->`.

`tether erd --write-docs` keeps each domain's diagram in docs/<domain>.md this way,
and `tether distribution --write-docs` each domain's distribution plan in
docs/scale-out.md; tests compare every block with a freshly computed one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping


def _pattern(kind: str) -> re.Pattern[str]:
    return re.compile(rf"<!-- {kind}:(?P<name>\w+) -->\n.*?<!-- /{kind}:(?P=name) -->", re.DOTALL)


def block(kind: str, name: str, body: str) -> str:
    return f"<!-- {kind}:{name} -->\n{body}\n<!-- /{kind}:{name} -->"


def blocks(kind: str, text: str) -> dict[str, str]:
    """The blocks of `kind` a page holds, markers included, by name."""
    return {match["name"]: match.group() for match in _pattern(kind).finditer(text)}


def refresh(kind: str, text: str, found: Mapping[str, str]) -> tuple[str, list[str]]:
    """`text` with the blocks of `found` (name -> the whole new block) rewritten, and
    the names it has no block for."""

    def rewrite(match: re.Match[str]) -> str:
        return found.get(match["name"], match.group())

    present = blocks(kind, text)
    return _pattern(kind).sub(rewrite, text), [name for name in found if name not in present]
