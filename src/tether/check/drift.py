"""`tether check --live`: a live database's schemas against what the migrations build.

Both sides are read with one catalog query (sql/catalog/drift.sql): every table
(with its row security), column (type, NOT NULL, default), constraint, index,
trigger, policy, function, view and enum type of the chosen domains' schemas,
each with the definition PostgreSQL prints for it. Nothing but the catalog is
read, so a role that may only connect is enough, and nothing is written. Each
difference is one line: what the migrations make, what the database has.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable

from attrs import frozen

from tether import domains as registry
from tether.catalog import Q
from tether.commands import Out, migrated_scratch
from tether.database import Database, redact
from tether.repository import Repository

_TABLE_PARTS = ("column", "constraint", "index", "trigger", "policy")
_RELATIONS = ("table", "view")  # what parts belong to

Key = tuple[str, str, str]  # (schema, kind, name); a table part's name is `table.part`


@frozen
class SchemaObject:
    schema_name: str
    kind: str
    object_name: str
    definition: str


class DriftCatalog(Repository):
    SCHEMA_OBJECTS = Q.schema_objects.returning(SchemaObject)

    async def objects(self, schemas: list[str]) -> dict[Key, str]:
        """Each object's definition by (schema, kind, name)."""
        rows = await self._many(self.SCHEMA_OBJECTS, schemas=schemas)
        return {(r.schema_name, r.kind, r.object_name): r.definition for r in rows}


@frozen
class Drift:
    schema_name: str
    kind: str
    object_name: str
    expected: str | None  # None: the migrations do not make it
    found: str | None  # None: the database does not have it
    parts: int = 0  # of a table missing or extra: how many of its columns, indexes... with it

    def __str__(self) -> str:
        subject = f"{self.kind} {self.schema_name}.{self.object_name}"
        with_parts = (
            f", with its {self.parts} columns, constraints, indexes..." if self.parts else ""
        )
        if self.found is None:
            made = _clipped(_one_line(self.expected))
            return f"drift: {subject} is missing{with_parts} (the migrations make: {made})"
        if self.expected is None:
            extra = _clipped(_one_line(self.found))
            return f"drift: {subject} is not made by the migrations{with_parts} ({extra})"
        expected, found = _around_first_difference(_one_line(self.expected), _one_line(self.found))
        return f"drift: {subject} differs: the migrations make {expected}, the database has {found}"


_SHOWN = 120  # characters of a definition a line shows


def _one_line(definition: str | None) -> str:
    return " ".join((definition or "").split())


def _clipped(text: str) -> str:
    return text if len(text) <= _SHOWN else text[: _SHOWN - 3] + "..."


def _around_first_difference(expected: str, found: str) -> tuple[str, str]:
    """Both definitions whole when short, else from a little before where they part."""
    if max(len(expected), len(found)) <= _SHOWN:
        return expected, found
    same = next(
        (i for i, (a, b) in enumerate(zip(expected, found, strict=False)) if a != b),
        min(len(expected), len(found)),
    )
    start = max(0, same - 40)
    lead = "..." if start else ""
    return _clipped(lead + expected[start:]), _clipped(lead + found[start:])


def differences(expected: dict[Key, str], found: dict[Key, str]) -> list[Drift]:
    """One Drift per object missing, extra or defined otherwise, sorted; the columns,
    constraints, indexes, triggers and policies of a table that is missing or extra
    are counted on the table's line rather than listed."""
    changed = [
        key for key in sorted(expected.keys() | found.keys()) if expected.get(key) != found.get(key)
    ]
    whole = {
        (schema, name)
        for schema, kind, name in changed
        if kind in _RELATIONS
        and ((schema, kind, name) in expected) != ((schema, kind, name) in found)
    }

    def table_of(key: Key) -> tuple[str, str] | None:
        schema, kind, name = key
        return (schema, name.split(".", 1)[0]) if kind in _TABLE_PARTS else None

    parts = Counter(table for key in changed if (table := table_of(key)) in whole)
    return [
        Drift(
            *key,
            expected.get(key),
            found.get(key),
            parts[(key[0], key[2])] if key[1] in _RELATIONS else 0,
        )
        for key in changed
        if table_of(key) not in whole
    ]


def schemas_of(domains: Iterable[str] | None = None) -> list[str]:
    return [domain.schema for domain in registry.select(domains)]


async def compare(live_url: str, reference_url: str, schemas: list[str]) -> list[Drift]:
    """The differences between the live database and a migrated reference database."""
    async with Database(reference_url, min_size=1, max_size=1) as reference:
        expected = await DriftCatalog(reference).objects(schemas)
    async with Database(live_url, min_size=1, max_size=1) as live:
        found = await DriftCatalog(live).objects(schemas)
    return differences(expected, found)


async def command(
    server_url: str, live_url: str, out: Out, note: Out, domains: Iterable[str] | None = None
) -> int:
    """`tether check --live`: one line per difference on `out`; 1 if there is any."""
    schemas = schemas_of(domains)
    async with migrated_scratch(server_url, domains) as reference_url:
        started = time.perf_counter()
        drifts = await compare(live_url, reference_url, schemas)
        elapsed = time.perf_counter() - started
    for drift in drifts:
        out(str(drift))
    summary = (
        f"tether check --live {redact(live_url)}: schema(s) {', '.join(schemas)} "
        f"compared in {elapsed:.2f} s"
    )
    if drifts:
        note(f"{summary}: {len(drifts)} difference(s) from the migrations")
        return 1
    note(f"{summary}: as the migrations make them")
    return 0
