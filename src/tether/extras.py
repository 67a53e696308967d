"""The optional parts of tether and the pip extra that installs each (pyproject.toml).

A service installs only the parts it uses; a part whose extra is missing fails where
it is first needed, naming the extra, rather than with a bare ModuleNotFoundError.
"""

from __future__ import annotations


class MissingExtra(ModuleNotFoundError):
    """A part of tether was used without the pip extra that installs what it needs."""


def missing(extra: str, part: str, error: ModuleNotFoundError) -> MissingExtra:
    """The error to raise when `part` could not import `error.name`, which tether's
    `extra` installs."""
    return MissingExtra(
        f"{part} needs {error.name}, which tether's {extra!r} extra installs: "
        f"pip install 'tether[{extra}]'",
        name=error.name,
    )
