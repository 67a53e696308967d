"""Keyset pagination: a page of records and an opaque cursor to the next one.

A page query orders by a unique key (`created_at desc, id desc`) and starts after
the last row of the page before, `where (created_at, id) < (:after_created_at,
:after_id)`, so page 1,000 costs what page 1 does and rows inserted between two
requests neither repeat nor vanish a row. The cursor carries the last row's key
values, typed, as URL-safe text a service can hand to its client and take back.
A cursor that was not made here (edited, truncated, of another shape) is an
InvalidValue, never a wrong page.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import uuid
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, Generic, TypeVar

from attrs import frozen

from tether.errors import InvalidValue

R = TypeVar("R")

# Each key value travels as [type tag, text]; the tag says how to read it back.
_ENCODE: dict[type, tuple[str, Any]] = {
    bool: ("b", lambda v: v),
    int: ("i", lambda v: v),
    str: ("s", lambda v: v),
    Decimal: ("n", str),
    uuid.UUID: ("u", str),
    dt.datetime: ("t", lambda v: v.isoformat()),
    dt.date: ("d", lambda v: v.isoformat()),
}
_DECODE: dict[str, Any] = {
    "b": lambda v: _typed(v, bool),
    "i": lambda v: _typed(v, int),
    "s": lambda v: _typed(v, str),
    "n": lambda v: Decimal(_typed(v, str)),
    "u": lambda v: uuid.UUID(_typed(v, str)),
    "t": lambda v: dt.datetime.fromisoformat(_typed(v, str)),
    "d": lambda v: dt.date.fromisoformat(_typed(v, str)),
    "z": lambda v: None,
}


def _typed(value: Any, kind: type) -> Any:
    if type(value) is not kind:
        raise ValueError(f"expected {kind.__name__}")
    return value


@frozen
class Page(Generic[R]):
    """One page: its records in order, as a tuple (`items`; iterating and `len()` use
    it), and the cursor of the next page (None: the last)."""

    items: tuple[R, ...]
    next: str | None

    def __iter__(self) -> Any:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


def encode(values: Sequence[Any]) -> str:
    """An opaque cursor for these key values."""
    items = []
    for value in values:
        if value is None:
            items.append(["z", None])
            continue
        tag, convert = _ENCODE.get(type(value)) or _encoder(type(value))
        items.append([tag, convert(value)])
    return base64.urlsafe_b64encode(_compact(items).encode()).rstrip(b"=").decode()


# Made once: json.dumps with any option builds a new encoder on every call.
_compact = json.JSONEncoder(separators=(",", ":")).encode


def _encoder(kind: type) -> tuple[str, Any]:
    """How to write a value of `kind`: its own entry, else its nearest base class's
    (asyncpg returns uuid columns as its own subclass of uuid.UUID)."""
    for base in kind.__mro__:
        if base in _ENCODE:
            return _ENCODE[base]
    raise TypeError(f"a page key cannot be a {kind.__name__}")


# A cursor comes from a client: its size is capped before any decoding (its keys are
# ids, times and short texts), and so is its nesting (a list of [tag, value] pairs), so
# that `[[[[...` is a refused cursor, not a RecursionError deep in json.
MAX_CURSOR_LENGTH = 8192
_CURSOR_DEPTH = 2


def decode(cursor: str, size: int, where: str) -> tuple[Any, ...]:
    """The key values a cursor of `encode` carries; InvalidValue naming `where` otherwise."""
    try:
        if not isinstance(cursor, str) or len(cursor) > MAX_CURSOR_LENGTH:
            raise ValueError("too long")
        padded = cursor + "=" * (-len(cursor) % 4)
        text = base64.urlsafe_b64decode(padded.encode("ascii")).decode()
        # Brackets beyond a valid cursor's count may still be inside its texts: look closer.
        if text.count("[") + text.count("{") > 1 + size and _depth(text) > _CURSOR_DEPTH:
            raise ValueError("too deep")
        items = json.loads(text)
        if not isinstance(items, list) or len(items) != size:
            raise ValueError("wrong shape")
        return tuple(_DECODE[tag](value) for tag, value in items)
    except (ValueError, KeyError, TypeError, UnicodeError, binascii.Error):
        raise InvalidValue(f"{where}: the page cursor is not one this API gave out") from None


def _depth(text: str) -> int:
    """How deeply JSON `text` nests its arrays and objects (brackets in strings aside)."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


MAX_PAGE = 1000


def check_limit(limit: int, where: str) -> None:
    if type(limit) is not int or not 1 <= limit <= MAX_PAGE:
        raise InvalidValue(f"{where}: a page holds 1 to {MAX_PAGE} rows", table=where)
