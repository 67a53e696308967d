"""A finding of `tether check`: one line, `path:line: message`, as compilers print them."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from attrs import frozen


@frozen(order=True)
class Finding:
    path: str
    line: int
    message: str

    @classmethod
    def at(cls, path: Path, line: int, message: str) -> Finding:
        """A finding in `path`, shown relative to the working directory when below it."""
        shown = path.resolve()
        with contextlib.suppress(ValueError):  # outside the working directory: absolute
            shown = shown.relative_to(Path.cwd().resolve())
        return cls(os.fspath(shown), line, message)

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"
