"""Where the queries (`sql/`) and migrations (`migrations/`) are.

In a checkout (or an editable install) they sit at the repository root, beside
`src/`; in a built wheel they are package data under `tether/_data/`. One
lookup serves both, so the code never cares how tether was installed.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _find(name: str) -> Path:
    for candidate in (_PACKAGE / "_data" / name, _PACKAGE.parent.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(
        f"tether's {name}/ folder is neither packaged in {_PACKAGE / '_data'} "
        f"nor beside the source tree in {_PACKAGE.parent.parent}"
    )


def sql_dir() -> Path:
    return _find("sql")


def migrations_dir() -> Path:
    return _find("migrations")
