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
from collections.abc import Callable, Sequence
from decimal import Decimal
from json.encoder import encode_basestring_ascii as _json_string  # json.dumps' own
from typing import Any, Generic, TypeVar

from attrs import frozen

from tether.errors import InvalidValue

R = TypeVar("R")

# Each key value travels as [type tag, text]; the tag says how to read it back.
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
    """An opaque cursor for these key values: the JSON list of [tag, text] pairs, in
    URL-safe base64 without padding. Written by hand for the types a key holds (the
    text json.dumps would write, byte for byte): this runs on every page but the last."""
    text = ",".join([(_WRITE.get(type(value)) or _writer(type(value)))(value) for value in values])
    encoded: bytes = binascii.b2a_base64(f"[{text}]".encode(), newline=False)
    return encoded.translate(_URL_SAFE).rstrip(b"=").decode()


_URL_SAFE = bytes.maketrans(b"+/", b"-_")

# Each type's [tag, text] pair as JSON; none of these texts needs escaping but a str's.
_WRITE: dict[type, Callable[[Any], str]] = {
    type(None): lambda v: '["z",null]',
    bool: lambda v: '["b",true]' if v else '["b",false]',
    int: lambda v: f'["i",{int.__repr__(v)}]',
    str: lambda v: f'["s",{_json_string(v)}]',
    Decimal: lambda v: f'["n","{v}"]',
    uuid.UUID: lambda v: f'["u","{v}"]',
    dt.datetime: lambda v: f'["t","{v.isoformat()}"]',
    dt.date: lambda v: f'["d","{v.isoformat()}"]',
}


def _writer(kind: type) -> Callable[[Any], str]:
    """How to write a value of `kind`: its own entry, else its nearest base class's
    (asyncpg returns uuid columns as its own subclass of uuid.UUID)."""
    for base in kind.__mro__:
        if base in _WRITE:
            return _WRITE.setdefault(kind, _WRITE[base])
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
