"""What the reliability suite needs to know of a domain: the shape of each domain's entry.

Every domain of `tether.domains` has an entry, `DOMAIN`, in `tests/<domain>/reliability.py`:
its schema, the rows its text inputs hang off (`make_owner`), every repository method
that takes text or JSON with the values it must accept (the hostile-input properties
run over all of them, the valid values must be stored and read back), the SQL
that counts a user's rows (the deletion race checks none survive), and the secrets it
must never store in clear (hashed refresh tokens, encrypted API tokens). The
invariants are SQL written in the tests, never the code under test.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, LiteralString

import asyncpg
from attrs import frozen
from hypothesis import strategies as st

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


# Generated values per repository method, (hostile, valid), by `--hostile-depth`
# (tests/conftest.py): the default run keeps a few of each, beside the fixed hostile
# corpus it runs whole; `full` searches for what a default run would miss, on demand.
HOSTILE_DEPTH = {"cheap": (12, 6), "full": (400, 100)}

# What a free-text column takes: a letter or digit first (never blank), then letters,
# digits, punctuation (quotes, %, _, \, $, ;) and symbols with spaces between, in any
# script: a method must store every such value exactly.
PLAIN_TEXT = st.builds(
    lambda first, rest: first + rest,
    st.characters(categories=["L", "N"]),
    st.text(st.characters(categories=["L", "N", "P", "S", "Zs"]), max_size=59),
)
# Addresses every e-mail rule takes: lower-case ASCII, one '@', a dotted domain.
EMAILS = st.builds(
    "{}@{}.example".format,
    st.from_regex(r"[a-z0-9]{1,20}([._+-][a-z0-9]{1,10})?", fullmatch=True),
    st.from_regex(r"[a-z0-9]{1,20}", fullmatch=True),
)
# PHC-format password hashes, as the password columns take them (and nothing else).
_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
HASHES = st.builds(
    "${}${}${}${}".format,
    st.sampled_from(["argon2id", "argon2i", "scrypt", "pbkdf2-sha256", "pbkdf2-sha512"]),
    st.sampled_from(["ln=17,r=8,p=1", "m=65536,t=3,p=4", "i=600000"]),
    st.text(_B64, min_size=8, max_size=32),
    st.text(_B64, min_size=16, max_size=88),
)
# JSON objects of plain values (no floats: jsonb keeps numbers as decimals).
JSON_OBJECTS = st.dictionaries(
    st.text(st.characters(categories=["L", "N"]), max_size=12),
    st.one_of(st.none(), st.booleans(), st.integers(-(2**53), 2**53), PLAIN_TEXT),
    max_size=4,
)


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
    `valid` generates values the method must accept (and store exactly, where
    `read_back` reads them): a method that refuses or alters them fails the suite.
    None only for a lookup that finds nothing on the owner's rows whatever it is given.
    """

    name: str
    call: Callable[[Database, Any, Any], Awaitable[Any]]
    read_back: LiteralString | None
    adds: int
    stored_as: Callable[[Any], Any] | None = None
    valid: st.SearchStrategy[Any] | None = PLAIN_TEXT


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
