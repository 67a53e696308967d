"""Helpers for attrs records: rows built positionally (`Record(*row)`), inputs checked."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import attrs

from tether.errors import InvalidValue

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


def is_a(kind: type, table: str) -> Callable[[Any, attrs.Attribute[Any], Any], None]:
    """A field validator for input records: the value must be a `kind` (a bool is no int).

    Inputs that travel as parallel arrays (`unnest(:names::text[])`) need it: asyncpg
    would read a list inside such an array as one more dimension and store its element.
    The error names the table and field, never the value.
    """

    def check(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise InvalidValue(
                f"{table}: {attribute.name} must be {kind.__name__}, not {type(value).__name__}",
                table=table,
            )

    return check


def all_of(record: type[R], table: str, items: Iterable[Any]) -> tuple[R, ...]:
    """A field converter for a collection of input records: a tuple, each one a `record`."""
    found = tuple(items)
    for item in found:
        if not isinstance(item, record):
            raise InvalidValue(
                f"{table}: expected {record.__name__} items, not {type(item).__name__}",
                table=table,
            )
    return found
