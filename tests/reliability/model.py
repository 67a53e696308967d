"""What the reliability suite needs to know of a domain: the shape of each domain's entry.

Every domain of `tether.domains` has an entry, `DOMAIN`, in `tests/<domain>/reliability.py`:
its schema, the rows its text inputs hang off (`make_owner`), every repository method
that takes text or JSON (the hostile-input properties run over all of them), the SQL
that counts a user's rows (the deletion race checks none survive), and the secrets it
must never store in clear (hashed refresh tokens, encrypted API tokens). The
invariants are SQL written in the tests, never the code under test.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, LiteralString

import asyncpg
from attrs import frozen

from tether import Database

# One `select count(*)` per table of the given schemas, glued by the server, which
# quotes every name itself (%I, %L).
COUNT_EVERY_TABLE = """
select string_agg(format('select %L as table_name, count(*) as n from %I.%I',
                         schemaname || '.' || tablename, schemaname, tablename),
                  ' union all ' order by tablename)
from pg_tables
where schemaname = any($1::text[])
"""


async def row_counts(conn: asyncpg.Connection, schemas: list[str]) -> dict[str, int]:
    """Rows in every table of `schemas`, by schema-qualified name."""
    statement = await conn.fetchval(COUNT_EVERY_TABLE, schemas)
    return {row["table_name"]: row["n"] for row in await conn.fetch(statement)}


@frozen
class TextInput:
    """A repository method taking text or JSON, and how to check what it stored.

    `call` runs the method with the value on the rows `make_owner` made and returns
    the key of the row it wrote (or None for a read); `read_back` is SQL returning the
    stored values for that key as one array (`$1` is the key) to compare with
    `[value]`; `adds` is how many rows a success writes, in all tables.
    `stored_as`, where given, is the form the database keeps a value in when that
    form is not Python's own: jsonb keeps numbers as decimals, so a float of 1e16
    or more comes back as the int of its shortest decimal digits.
    """

    name: str
    call: Callable[[Database, Any, Any], Awaitable[Any]]
    read_back: LiteralString | None
    adds: int
    stored_as: Callable[[Any], Any] | None = None


@frozen
class Secret:
    """A secret the domain must never keep in clear: a hashed refresh token, an
    encrypted API token.

    `issue` stores a new one through the domain's repository and returns the raw
    secret it was given; the test then looks for that raw text in every column of
    every table of the schema, and in the records and logs.
    """

    name: str
    issue: Callable[[Database], Awaitable[str]]


@frozen
class Domain:
    schema: str
    # Makes the rows every text input hangs off (a user and a subject, a session...).
    make_owner: Callable[[Database], Awaitable[Any]]
    text_inputs: tuple[TextInput, ...]
    # Counts, per table, the rows that belong to the owner `$1` (directly or through
    # a parent), as (table_name, count) rows.
    rows_of_owner: LiteralString
    secrets: tuple[Secret, ...] = ()
