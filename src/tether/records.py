"""Helpers for attrs records: rows built into records, inputs checked.

Rows become records positionally, the query's columns in the record's field order
(`tether check` proves the order). Domains declare records with attrs' `@frozen`;
building one through its `__init__` costs ~350 ns for four fields, because a
frozen class sets every field through `object.__setattr__`. So each record class
gets, once, a `RowBuilder`: functions generated for that class that fill a
*twin* (a subclass with no slots of its own and the plain, mutable `__setattr__`,
whose slot stores CPython specializes) and then turn it into the record class
itself (`obj.__class__ = Record`: the two have the same layout). What comes out
is an instance of the record class, as `Record(*row)` makes it: the same fields,
converters applied, `==`, `repr` and hash, and assigning a field raises
`FrozenInstanceError`. A 4-field row costs ~110 ns, as for a mutable slotted class.

A field whose converter is an enum class (`field(converter=JobStatus)`, as domains
declare their enumerated columns) has its member looked up in a dict made once
(~20 ns), where calling the enum costs ~750 ns a field; rows hold valid labels (the
database checks them). `Record(*row)` and records built by hand call the enum.

A class the twin cannot mirror exactly (validators, `__attrs_post_init__`,
`init=False` fields, extra slots such as a cached hash, no slots, exceptions)
is built with `Record(*row)`, so nothing depends on the fast path being taken.
"""

from __future__ import annotations

import enum
import linecache
import types
from collections.abc import Callable, Iterable
from typing import Any, Generic, TypeVar

import attrs

from tether.errors import InvalidValue

R = TypeVar("R")


@attrs.frozen
class RowBuilder(Generic[R]):
    """How rows become records of one class, built once per class (`builder`).

    `one(row)` builds a record from one row (any sequence of its field values, in
    order); `many(rows)` a list of them; `nested(items)` a tuple for a nested
    collection (an array of rows), where records already built pass through.
    `twin` says whether the fast path applies (False: `Record(*row)`).
    """

    record: type[R]
    one: Callable[[Any], R]
    many: Callable[[Iterable[Any]], list[R]]
    nested: Callable[[Iterable[Any]], tuple[R, ...]]
    twin: bool


# Record class -> its builder. Record classes live as long as their modules.
_BUILDERS: dict[type[Any], RowBuilder[Any]] = {}


def builder(record: type[R]) -> RowBuilder[R]:
    """The row builder of `record`, made on first use and kept."""
    found = _BUILDERS.get(record)
    if found is None:
        found = _BUILDERS.setdefault(record, _make_builder(record))
    return found


def rows_of(record: type[R], rows: Iterable[Any] | None) -> tuple[R, ...]:
    """A nested collection as records: an array of rows (as a query returns
    `array(select row(...))`) becomes a tuple of `record`; records pass through.

    Used in a field's converter: `field(converter=lambda rows: rows_of(Task, rows))`.
    """
    if rows is None:
        return ()
    found = _BUILDERS.get(record) or builder(record)
    return found.nested(rows)


def _make_builder(record: type[R]) -> RowBuilder[R]:
    twin = _twin(record)
    if twin is None:
        return RowBuilder(
            record,
            one=lambda row: record(*row),
            many=lambda rows: [record(*row) for row in rows],
            # A list comprehension: measurably faster than a generator for tuple() here.
            nested=lambda rows: tuple(
                [row if isinstance(row, record) else record(*row) for row in rows]
            ),
            twin=False,
        )
    namespace: dict[str, Any] = {"Record": record, "Twin": twin}
    targets, conversions = [], []
    for number, field in enumerate(attrs.fields(twin)):  # the record's, inherited
        converter = field.converter
        if converter is None:
            targets.append(f"obj.{field.name}")
        elif isinstance(converter, type) and issubclass(converter, enum.Enum):
            # The member by its label, subscripted inline: no call at all.
            namespace[f"members_{number}"] = {member.value: member for member in converter}
            targets.append(f"value_{number}")
            conversions.append(f"obj.{field.name} = members_{number}[value_{number}]")
        else:
            namespace[f"convert_{number}"] = converter
            targets.append(f"value_{number}")
            conversions.append(f"obj.{field.name} = convert_{number}(value_{number})")
    # One row into `obj`: the row unpacked into its fields (or, for a field with a
    # converter, into a local the converter then takes), then the class becomes the record's.
    fill = ["obj = Twin()", f"{', '.join(targets)}, = row", *conversions, "obj.__class__ = Record"]
    source = _SOURCE.format(
        fill="\n".join("    " + line for line in fill),
        fill_loop="\n".join("        " + line for line in fill),
    )
    filename = f"<tether row builder {record.__module__}.{record.__qualname__}>"
    # The text is made of the record's field names (identifiers), never of row values:
    # the way attrs itself writes each class's __init__.
    exec(compile(source, filename, "exec"), namespace)  # noqa: S102
    # Tracebacks through a converter then show the generated lines, as attrs' do.
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    return RowBuilder(
        record, one=namespace["one"], many=namespace["many"], nested=namespace["nested"], twin=True
    )


# The functions a fast builder is made of, around the lines that fill one record.
_SOURCE = """\
def one(row):
{fill}
    return obj

def many(rows):
    out = []
    append = out.append
    for row in rows:
{fill_loop}
        append(obj)
    return out

def nested(rows):
    out = []
    append = out.append
    for row in rows:
        if isinstance(row, Record):
            append(row)
            continue
{fill_loop}
        append(obj)
    return tuple(out)
"""


def _twin(record: type[Any]) -> type[Any] | None:
    """A subclass of `record` that adds no slots and sets attributes plainly, if one can
    stand in for `record.__init__` exactly; None otherwise."""
    if not attrs.has(record) or issubclass(record, BaseException):
        return None
    if record.__new__ is not object.__new__:
        return None
    if hasattr(record, "__attrs_pre_init__") or hasattr(record, "__attrs_post_init__"):
        return None
    fields = attrs.fields(record)
    if not fields:
        return None
    for field in fields:
        if not field.init or field.validator is not None:
            return None
        if field.converter is not None and isinstance(field.converter, attrs.Converter):
            return None
        if not isinstance(getattr(record, field.name, None), types.MemberDescriptorType):
            return None
    # Every slot must be a field: anything else (a cached hash, a cached_property's
    # slot, a __dict__) is set up by the class's own __init__.
    slots: set[str] = set()
    for klass in record.__mro__[:-1]:
        declared = vars(klass).get("__slots__")
        if declared is None:
            return None  # a class without __slots__ gives its instances a __dict__
        slots.update([declared] if isinstance(declared, str) else declared)
    if slots - {"__weakref__"} != {field.name for field in fields}:
        return None
    metaclass: Any = type(record)
    twin: type[Any] = metaclass(
        f"{record.__name__}Twin",
        (record,),
        {
            "__slots__": (),
            "__module__": record.__module__,
            "__qualname__": f"{record.__qualname__}Twin",
            "__doc__": f"{record.__qualname__} under construction (tether.records).",
            # The plain ones: CPython then specializes the slot stores of the builder.
            "__init__": object.__init__,
            "__setattr__": object.__setattr__,
            "__delattr__": object.__delattr__,
        },
    )
    try:
        probe = twin()
        probe.__class__ = record
    except TypeError:
        return None
    return twin


def is_a(kind: type, table: str) -> Callable[[Any, attrs.Attribute[Any], Any], None]:
    """A field validator for input records: the value must be a `kind` (a bool is no int).

    Inputs that travel as parallel arrays (`unnest(:names::text[])`) need it: asyncpg
    would read a list inside such an array as one more dimension and store its element.
    The error names the table and field, never the value.
    """

    def check(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if value.__class__ is kind:  # the usual case, first: a bool's class is bool
            return
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
