"""`tether erd`: a Mermaid ER diagram per domain schema, read from pg_catalog.

Tables with their columns (type as PostgreSQL names it, PK/FK/UK markers,
"nullable" where NULL is allowed) and one line per foreign key, from the
referenced table to the referencing one, labelled with the key's columns and
its ON DELETE rule. The line's ends say what the catalog says: `||` when every
key column is NOT NULL (else `|o`), `o|` when the key's columns are unique in
the child (one-to-one, else `o{`).

Each domain's page, `docs/<domain>.md`, carries its diagram between
`<!-- erd:<schema> -->` and `<!-- /erd:<schema> -->`; `tether erd --write-docs`
refreshes them and a test fails when one differs from a freshly migrated database.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable, Sequence
from itertools import groupby
from pathlib import Path

from tether import docblocks
from tether import domains as registry
from tether.check.catalog import Catalog, ErdColumn, ForeignKey
from tether.commands import Out, migrated_scratch, write_blocks
from tether.database import Database
from tether.repository import Executor

# PostgreSQL's multi-word type names, shortened: a Mermaid attribute type is one word.
_SHORT_TYPES = {
    "timestamp with time zone": "timestamptz",
    "timestamp without time zone": "timestamp",
    "time with time zone": "timetz",
    "time without time zone": "time",
    "character varying": "varchar",
    "double precision": "float8",
    "bit varying": "varbit",
    "character": "char",
}


def mermaid_type(type_name: str) -> str:
    for long, short in _SHORT_TYPES.items():
        type_name = type_name.replace(long, short)
    type_name = re.sub(r"\b\w+\.", "", type_name)  # an enum's schema: the diagram names it
    return re.sub(r"[^\w()\[\]-]", "_", type_name)


def _attribute(column: ErdColumn) -> str:
    markers = [
        marker
        for marker, present in (
            ("PK", column.primary_key),
            ("FK", column.foreign_key),
            ("UK", column.unique_key),
        )
        if present
    ]
    parts = [mermaid_type(column.type_name), column.column_name]
    if markers:
        parts.append(", ".join(markers))
    if not column.not_null:
        parts.append('"nullable"')
    return " ".join(parts)


def _relationship(key: ForeignKey) -> str:
    parent_end = "||" if key.required else "|o"
    child_end = "o|" if key.one_to_one else "o{"
    rule = f"on delete {key.on_delete}"
    if key.on_delete_columns:
        rule += f" ({', '.join(key.on_delete_columns)})"
    label = f"{', '.join(key.columns)}: {rule}"
    return f'    {key.parent_name} {parent_end}--{child_end} {key.table_name} : "{label}"'


def render(columns: Sequence[ErdColumn], keys: Sequence[ForeignKey]) -> str:
    """The Mermaid source for a schema's columns (in table order) and foreign keys."""
    lines = ["erDiagram"]
    for table, table_columns in groupby(columns, key=lambda column: column.table_name):
        lines.append(f"    {table} {{")
        lines.extend(f"        {_attribute(column)}" for column in table_columns)
        lines.append("    }")
    lines.extend(_relationship(key) for key in keys)
    return "\n".join(lines)


async def diagrams(db: Database | Executor, schemas: Sequence[str] | None = None) -> dict[str, str]:
    """The diagram of each of `schemas` (default: every domain schema), by schema."""
    catalog = Catalog(db)
    known = await catalog.domain_schemas()
    chosen = known if schemas is None else list(schemas)
    if unknown := [schema for schema in chosen if schema not in known]:
        raise ValueError(
            f"no domain schema {', '.join(unknown)} (there are: {', '.join(known) or 'none'})"
        )
    return {
        schema: render(await catalog.erd_columns(schema), await catalog.foreign_keys([schema]))
        for schema in chosen
    }


def page_block(schema: str, diagram: str) -> str:
    return docblocks.block("erd", schema, f"```mermaid\n{diagram}\n```")


def page_blocks(text: str) -> dict[str, str]:
    """The diagram blocks a page holds, markers included, by schema."""
    return docblocks.blocks("erd", text)


def refresh_page(text: str, found: dict[str, str]) -> tuple[str, list[str]]:
    """`text` with the blocks of `found` rewritten, and the schemas it has no markers for."""
    return docblocks.refresh(
        "erd", text, {schema: page_block(schema, diagram) for schema, diagram in found.items()}
    )


async def _diagrams_of_migrations(server_url: str, domains: list[str]) -> dict[str, str]:
    async with (
        migrated_scratch(server_url, domains) as url,
        Database(url, min_size=1, max_size=1) as db,
    ):
        return await diagrams(db, domains)


def command(
    server_url: str, domains: Iterable[str] | None, docs: Path | None, out: Out, note: Out
) -> int:
    """`tether erd`: print the diagrams of the chosen domains (default: all), or rewrite
    them in their pages under `docs` (tether.commands.write_blocks: 1 when a page lacks
    its markers); 2 for an unknown domain."""
    try:
        chosen = [domain.name for domain in registry.select(domains)]
        found = asyncio.run(_diagrams_of_migrations(server_url, chosen))
    except ValueError as error:
        note(f"tether erd: {error}")
        return 2
    if docs is None:
        if len(found) == 1:
            out(next(iter(found.values())))
        else:
            out("\n\n".join(page_block(schema, diagram) for schema, diagram in found.items()))
        return 0
    failed = 0
    for schema, diagram in found.items():
        block = {schema: page_block(schema, diagram)}
        failed |= write_blocks(docs / f"{schema}.md", "erd", block, "diagram", note)
    return failed
