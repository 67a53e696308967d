"""Rows into records (tether.records.builder): what the fast path builds is exactly what
`Record(*row)` builds (class, fields, converters, ==, repr, hash, immutability), and a
class it cannot mirror is built through its own __init__."""

from __future__ import annotations

import datetime as dt
import enum
import functools
import pickle
from collections.abc import Iterable
from typing import Any

import attrs
import pytest
from attrs import define, field, frozen

from tether.records import builder, rows_of

NOW = dt.datetime(2026, 1, 13, 9, 30, tzinfo=dt.UTC)


@frozen
class Account:
    id: int
    email: str
    password_hash: str = field(repr=False)
    created_at: dt.datetime


@frozen
class Line:
    number: int
    text: str


def _lines(rows: Iterable[Any] | None) -> tuple[Line, ...]:
    return rows_of(Line, rows)


@frozen
class Page:
    title: str
    lines: tuple[Line, ...] = field(converter=_lines)


@frozen
class Book:
    name: str
    pages: tuple[Page, ...] = field(converter=functools.partial(rows_of, Page))


class Colour(enum.StrEnum):
    RED = "red"
    GREEN = "green"


@frozen
class Paint:
    id: int
    colour: Colour = field(converter=Colour)


@frozen
class Base:
    id: int


@frozen
class Derived(Base):
    label: str


ROW = (7, "ada@example.com", "$argon2id$secret", NOW)


def test_a_built_record_is_the_record_class_itself():
    built = builder(Account).one(ROW)
    assert builder(Account).twin
    assert type(built) is Account
    assert built == Account(*ROW)
    assert hash(built) == hash(Account(*ROW))
    assert repr(built) == repr(Account(*ROW))
    assert "secret" not in repr(built)
    assert attrs.asdict(built) == attrs.asdict(Account(*ROW))
    assert pickle.loads(pickle.dumps(built)) == built  # noqa: S301 -- our own bytes


def test_a_built_record_is_immutable():
    built = builder(Account).one(ROW)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        built.email = "eve@example.com"  # type: ignore[misc]
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        del built.email  # type: ignore[misc]
    assert built.email == "ada@example.com"


def test_many_builds_a_list_in_order():
    rows = [(n, f"u{n}@example.com", "h", NOW) for n in range(5)]
    built = builder(Account).many(rows)
    assert built == [Account(*row) for row in rows]
    assert builder(Account).many([]) == []


def test_nested_rows_go_through_the_converters_at_every_level():
    row = ("Notes", [("p1", [(1, "one"), (2, "two")]), ("p2", None)])
    built = builder(Book).one(row)
    assert built == Book(*row)
    assert built.pages[0].lines == (Line(1, "one"), Line(2, "two"))
    assert built.pages[1].lines == ()
    assert all(type(page) is Page for page in built.pages)
    assert builder(Page).twin and builder(Line).twin


def test_records_already_built_pass_through_a_nested_collection():
    line = Line(1, "one")
    assert rows_of(Line, [line, (2, "two")]) == (line, Line(2, "two"))
    assert rows_of(Line, [line])[0] is line
    assert rows_of(Line, None) == ()


def test_inherited_fields_are_built_too():
    built = builder(Derived).one((3, "three"))
    assert builder(Derived).twin
    assert type(built) is Derived and built == Derived(3, "three")


def test_a_wrong_number_of_columns_is_an_error():
    with pytest.raises(ValueError, match="unpack"):
        builder(Line).one((1, "one", "extra"))
    with pytest.raises(ValueError, match="unpack"):
        builder(Line).one((1,))


def _positive(_: Any, attribute: attrs.Attribute[Any], value: int) -> None:
    if value <= 0:
        raise ValueError(f"{attribute.name} must be positive")


@frozen
class Validated:
    amount: int = field(validator=_positive)


@frozen
class PostInit:
    a: int
    b: int = field(init=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "b", self.a * 2)


@frozen(cache_hash=True)
class CachedHash:
    a: int


@frozen(slots=False)
class NoSlots:
    a: int


@define
class Mutable:
    a: int


@frozen
class Refused(Exception):
    a: int


@pytest.mark.parametrize(
    ("record", "row"),
    [
        (Validated, (5,)),
        (PostInit, (4,)),
        (CachedHash, (1,)),
        (NoSlots, (1,)),
    ],
)
def test_what_the_fast_path_cannot_mirror_goes_through_init(record, row):
    rows = builder(record)
    assert not rows.twin
    assert rows.one(row) == record(*row)
    assert rows.many([row]) == [record(*row)]
    assert rows.nested([row]) == (record(*row),)


def test_an_exception_record_goes_through_init():
    assert not builder(Refused).twin
    built = builder(Refused).one((1,))
    assert type(built) is Refused and built.a == 1 and built.args == (1,)


def test_the_fallback_still_runs_validators():
    with pytest.raises(ValueError, match="amount must be positive"):
        builder(Validated).one((0,))


def test_a_mutable_slotted_record_stays_mutable():
    built = builder(Mutable).one((1,))
    assert type(built) is Mutable
    built.a = 2
    assert built == Mutable(2)


def test_one_builder_per_class():
    assert builder(Account) is builder(Account)


def test_an_enum_column_is_built_into_its_member_without_calling_the_enum(monkeypatch):
    fast = builder(Paint)
    assert fast.twin
    rows = [(1, "red"), (2, "green"), (3, Colour.RED)]
    # The builder finds members in a dict made once (~20 ns, not the ~750 ns of the
    # enum call): a rows' worth of enum calls made now would fail.
    monkeypatch.setattr(Colour, "__new__", lambda *_: pytest.fail("the enum was called"))
    built = fast.many(rows)
    monkeypatch.undo()
    assert [paint.colour for paint in built] == [Colour.RED, Colour.GREEN, Colour.RED]
    assert all(type(paint.colour) is Colour for paint in built)
    assert built == [Paint(*row) for row in rows]
    with pytest.raises(KeyError):
        fast.one((4, "blue"))  # the database's check keeps such a label out
