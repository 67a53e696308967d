"""Helpers for attrs records built positionally from rows (`Record(*row)`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

R = TypeVar("R")


def rows_of(record: type[R], rows: Iterable[Any] | None) -> tuple[R, ...]:
    """A nested collection as records: an array of rows (as a query returns
    `array(select row(...))`) becomes a tuple of `record`; records pass through.

    Used in a field's converter: `field(converter=lambda rows: rows_of(Task, rows))`.
    """
    if rows is None:
        return ()
    # A list comprehension: measurably faster than a generator for tuple() here.
    return tuple([row if isinstance(row, record) else record(*row) for row in rows])
