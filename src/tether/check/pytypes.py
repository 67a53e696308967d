"""Which Python type a record field may declare for a PostgreSQL result column.

The table says what asyncpg hands back for each type with tether's codecs
(json/jsonb decoded by `json.loads`, pgvector's types by its binary codec). A
vector or halfvec field may also declare a numpy array: a record's converter turns
the codec's value into one (`Vector.to_numpy()`), as embeddings travel in numpy.
Enums arrive as `str`, so a field may declare `str`, a `str` subclass such as
`enum.StrEnum`, or a `Literal` of strings. Arrays fit `list[X]`, `tuple[X, ...]`
or `Sequence[X]` of a fitting element type. A `record` (an anonymous row built
with `row(...)`) or a composite fits an attrs record class, and an array of them
a list or tuple of records: their inner column names are not visible to a
Describe, so only the outer shape is checked.
"""

from __future__ import annotations

import datetime as dt
import decimal
import ipaddress
import re
import types
import uuid
from collections.abc import Mapping, Sequence
from typing import Any, Literal, Union, get_args, get_origin

import attrs
import numpy as np
from pgvector import HalfVector, SparseVector, Vector

from tether.check.catalog import TypeDescription

_JSON_VALUES: tuple[type, ...] = (dict, list, str, int, float, bool)

# PostgreSQL base type name -> the Python types its values arrive as.
PYTHON_TYPES: Mapping[str, tuple[type, ...]] = {
    "bool": (bool,),
    "int2": (int,),
    "int4": (int,),
    "int8": (int,),
    "oid": (int,),
    "pg_lsn": (int,),  # asyncpg reads a WAL position as its byte offset
    "float4": (float,),
    "float8": (float,),
    "numeric": (decimal.Decimal,),
    "text": (str,),
    "varchar": (str,),
    "bpchar": (str,),
    "name": (str,),
    "citext": (str,),
    "uuid": (uuid.UUID,),
    "date": (dt.date,),
    "time": (dt.time,),
    "timetz": (dt.time,),
    "timestamp": (dt.datetime,),
    "timestamptz": (dt.datetime,),
    "interval": (dt.timedelta,),
    "bytea": (bytes,),
    "json": _JSON_VALUES,
    "jsonb": _JSON_VALUES,
    "inet": (ipaddress.IPv4Interface, ipaddress.IPv6Interface),
    "cidr": (ipaddress.IPv4Network, ipaddress.IPv6Network),
    "vector": (Vector, np.ndarray),
    "halfvec": (HalfVector, np.ndarray),
    "sparsevec": (SparseVector,),
}

_SEQUENCES = (list, tuple, Sequence)
_UNIONS = (Union, types.UnionType)
_COMPOSITE = "c"
_ENUM = "e"


@attrs.frozen
class PgType:
    name: str
    kind: str
    element: PgType | None = None

    @classmethod
    def of(cls, described: TypeDescription) -> PgType:
        element = None
        if described.element_name is not None and described.element_kind is not None:
            element = cls(described.element_name, described.element_kind)
        return cls(described.type_name, described.kind, element)

    @property
    def is_row(self) -> bool:
        return self.name == "record" or self.kind == _COMPOSITE

    def __str__(self) -> str:
        return f"{self.element}[]" if self.element is not None else self.name


def fits(column: PgType, hint: Any) -> bool | None:
    """Whether a field typed `hint` can hold the column's values (None when NULL is
    left aside); None when the table has no entry for the column's type."""
    if hint is Any or hint is object:
        return True
    origin = get_origin(hint)
    if origin in _UNIONS:
        verdicts = [fits(column, member) for member in get_args(hint) if member is not type(None)]
        if any(verdicts):
            return True
        return None if None in verdicts else False
    if column.element is not None:
        if (origin or hint) not in _SEQUENCES:
            return False
        arguments = [a for a in get_args(hint) if a is not Ellipsis]
        return fits(column.element, arguments[0] if arguments else Any)
    if column.is_row:
        return attrs.has(origin or hint) or (origin or hint) is tuple
    allowed = (str,) if column.kind == _ENUM else PYTHON_TYPES.get(column.name)
    if allowed is None:
        return None
    if origin is Literal:
        return all(isinstance(value, allowed) for value in get_args(hint))
    kind = origin or hint
    if kind in allowed:
        return True
    # A StrEnum or other str subclass holds what a text or enum column gives.
    return str in allowed and isinstance(kind, type) and issubclass(kind, str)


def allows_none(hint: Any) -> bool:
    if hint is Any or hint is object or hint is None or hint is type(None):
        return True
    return get_origin(hint) in _UNIONS and type(None) in get_args(hint)


def expected(column: PgType) -> str:
    """The field types that fit `column`, in words for a finding."""
    if column.element is not None:
        return f"list[{expected(column.element)}] or tuple[{expected(column.element)}, ...]"
    if column.is_row:
        return "an attrs record class"
    allowed = (str,) if column.kind == _ENUM else PYTHON_TYPES.get(column.name, ())
    return " or ".join(_qualified(kind) for kind in allowed) or "?"


def hint_text(hint: Any) -> str:
    """A type hint as a reader writes it: `str | None`, `tuple[CalendarTask, ...]`."""
    if isinstance(hint, type) and not get_args(hint):
        return hint.__qualname__
    return re.sub(r"\b(?:[A-Za-z_]\w*\.)+(?=[A-Za-z_])", "", repr(hint)).replace("NoneType", "None")


def _qualified(kind: type) -> str:
    return (
        kind.__qualname__
        if kind.__module__ == "builtins"
        else f"{kind.__module__}.{kind.__qualname__}"
    )
