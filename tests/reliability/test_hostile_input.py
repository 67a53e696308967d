"""Hostile input into every repository method that takes text (domains.TEXT_INPUTS):
NUL bytes, lone surrogates, huge strings, LIKE and SQL metacharacters, odd Unicode,
wrong types. Each value is either stored and read back exactly, or refused as a tether
error that does not echo it; never a driver exception, never a partial write (every
table counted by SQL after each call). And each method's valid values (`TextInput.valid`)
must be accepted and read back equal: a method refusing or altering everything fails.

The generated examples per method are few by default; `pytest -m reliability
--hostile-depth=full` runs many more (tests/conftest.py)."""

import datetime as dt
import decimal
import uuid

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from tether import InvalidValue, TetherError
from tether.planner import UserRepository

from .domains import DOMAINS, SCHEMAS, TEXT_INPUTS
from .model import TextInput, row_counts

pytestmark = pytest.mark.reliability

CORPUS = [
    "",
    " ",
    "\x00",
    "plain\x00with a NUL",
    "\ud800",
    "lone low \udfff surrogate",
    "%",
    "_",
    "\\",
    "100%_done\\ or not",
    "' or 1=1 --",
    "'); drop table planner.users; --",
    "$1 $$ $tag$ :name ::text",
    "e\u0301 vs \u00e9",  # the same letter, decomposed and composed
    "\u202eright-to-left override",
    "\ufeffbyte order mark",
    "zero\u200bwidth",
    "İstanbul ß ﬃ Σσς",  # case mappings that change length
    "😀 \U0001f468\u200d\U0001f469\u200d\U0001f467",
    "\r\n\t\x0b\x0c",
    "\x7f\x1b[31m",
    "a@b",
    "A@B.EXAMPLE",
    "x" * 255,
    "x" * 256,
    "é" * 321,
    "%_" * 10_000,
    "a" * 1_000_000,
    None,
    0,
    -1,
    2**63,
    1.5,
    float("nan"),
    True,
    b"bytes",
    bytearray(b"\x00\xff"),
    decimal.Decimal("1.0"),
    dt.date(2026, 1, 1),
    uuid.UUID(int=0),
    {"json": "object"},
    object(),
]


text = st.text(alphabet=st.one_of(st.characters(), st.characters(categories=["Cs"])), max_size=400)
# Words that pass the e-mail check (no '@', no spaces), so odd addresses get stored too.
word = st.text(
    st.characters(exclude_categories=["Cs", "Cc", "Z"], exclude_characters="@"),
    min_size=1,
    max_size=60,
)
hostile = st.one_of(
    text,
    st.builds(lambda local, domain: f"{local}@{domain}", text, text),
    st.builds(lambda local, domain: f"{local}@{domain}", word, word),
    st.emails(),
    st.builds(
        lambda piece, times: piece * times,
        text.filter(bool),
        st.sampled_from([128, 256, 1000, 100_000]),
    ),
    st.sampled_from(CORPUS),
    st.none(),
    st.integers(),
    st.floats(),
    st.binary(),
    st.booleans(),
    st.lists(text, max_size=3),
    st.dictionaries(text, text, max_size=2),
)


# The user triggers that refuse TRUNCATE (an append-only table's, as tickets.audit_log
# has), as `alter table` clauses: the suite, owner of the tables, sets them aside while
# it empties the tables between examples (bit 5 of tgtype: fires on TRUNCATE).
TRUNCATE_GUARDS = """
select format('alter table %I.%I %%s trigger %I', n.nspname, c.relname, t.tgname)
from pg_trigger t
join pg_class c on c.oid = t.tgrelid
join pg_namespace n on n.oid = c.relnamespace
where n.nspname = $1 and not t.tgisinternal and t.tgtype & 32 <> 0
"""
# One DELETE per table with every trigger off (foreign keys, counters, append-only
# guards: the tables are emptied whole), for a superuser: a reset runs before each of
# thousands of examples, and TRUNCATE costs ~40 ms where this costs under 1.
DELETE_ALL = """
select case when (select rolsuper from pg_roles where rolname = current_user) then
       'set local session_replication_role = replica; '
       || string_agg(format('delete from %I.%I', schemaname, tablename), '; ') end
from pg_tables where schemaname = $1
"""
# Schema -> its DELETE_ALL statement (None when the role may not turn triggers off):
# the same for the whole run, so asked for once rather than before every example.
_DELETE_ALL: dict[str, str | None] = {}


async def reset(sql, schema: str) -> None:
    """Empty the tables of the domain under test (each test has a database of its own,
    where only that domain's methods run)."""
    if schema not in _DELETE_ALL:
        _DELETE_ALL[schema] = await sql.fetchval(DELETE_ALL, schema)
    async with sql.transaction():
        if statement := _DELETE_ALL[schema]:
            await sql.execute(statement)
            return
        tables = await sql.fetchval(
            "select string_agg(format('%I.%I', schemaname, tablename), ', ') "
            "from pg_tables where schemaname = $1",
            schema,
        )
        guards = [row[0] for row in await sql.fetch(TRUNCATE_GUARDS, schema)]
        for guard in guards:
            await sql.execute(guard % "disable")
        await sql.execute(f"truncate {tables} restart identity cascade")
        for guard in guards:
            await sql.execute(guard % "enable")


async def check(db, sql, domain, target, value) -> str:
    """Call `target` with `value` on fresh tables and judge what the database holds after;
    return the outcome in a word or two."""
    await reset(sql, domain.schema)
    owner = await domain.make_owner(db)
    before = await row_counts(sql, SCHEMAS)
    try:
        key = await target.call(db, owner, value)
    except TetherError as error:
        assert await row_counts(sql, SCHEMAS) == before, "a refused write left rows behind"
        message = f"{error} {error!r}"
        if isinstance(value, str) and (len(value) >= 12 or not value.isascii()):
            assert value not in message, "the error echoes the value"
        return f"refused: {type(error).__name__}"
    after = await row_counts(sql, SCHEMAS)
    assert sum(after.values()) - sum(before.values()) == target.adds
    if target.read_back is not None:
        stored = await sql.fetchval(target.read_back, key)
        expected = value if target.stored_as is None else target.stored_as(value)
        assert stored == [expected], f"stored {stored!r:.80}"
    return "stored" if target.adds else "read"


async def accepted(db, sql, domain, target, value) -> str:
    """`check` a value the method must take: it is stored (and read back equal) or read."""
    outcome = await check(db, sql, domain, target, value)
    assert outcome in ("stored", "read"), f"{target.name} {outcome} the valid {value!r:.80}"
    return outcome


INPUTS = [pytest.param(domain, target, id=target.name) for domain, target in TEXT_INPUTS]
VALID_INPUTS = [param for param in INPUTS if param.values[1].valid is not None]


@pytest.mark.parametrize(("domain", "target"), INPUTS)
async def test_the_hostile_corpus(tether_db, sql, domain, target):
    for value in CORPUS:
        await check(tether_db, sql, domain, target, value)


@pytest.mark.parametrize(("domain", "target"), INPUTS)
@settings(settings.get_profile("hostile"))
@given(value=hostile)
async def test_generated_hostile_values(tether_db, sql, domain, target, value):
    event(await check(tether_db, sql, domain, target, value))


@pytest.mark.parametrize(("domain", "target"), VALID_INPUTS)
@settings(settings.get_profile("hostile-valid"))
@given(data=st.data())
async def test_valid_values_are_accepted_and_read_back(tether_db, sql, domain, target, data):
    event(await accepted(tether_db, sql, domain, target, data.draw(target.valid, "value")))


PLANNER = next(domain for domain in DOMAINS if domain.schema == "planner")
READ_NAME = "select array[name] from planner.users where id = $1"


async def _refuse_everything(db, owner, value):
    raise InvalidValue("planner.users: refused, whatever the value", table="planner.users")


async def _store_altered(db, owner, value):
    return (await UserRepository(db).create("altered@example.com", f"{value}!")).id


@pytest.mark.parametrize(
    ("call", "failure"),
    [
        pytest.param(_refuse_everything, "refused: InvalidValue the valid", id="refuses"),
        pytest.param(_store_altered, "stored ", id="alters"),
    ],
)
async def test_a_method_refusing_or_altering_valid_values_fails(tether_db, sql, call, failure):
    """The hostile properties alone accept both of these methods; the valid values do not."""
    target = TextInput("planner.users.name (broken)", call, READ_NAME, 1)
    if call is _refuse_everything:
        assert await check(tether_db, sql, PLANNER, target, "Ada") == "refused: InvalidValue"
    with pytest.raises(AssertionError, match=failure):
        await accepted(tether_db, sql, PLANNER, target, "Ada Lovelace")
    honest = next(t for d, t in TEXT_INPUTS if t.name == "planner.users.name")
    assert await accepted(tether_db, sql, PLANNER, honest, "Ada Lovelace") == "stored"


async def test_a_list_as_a_task_name_is_refused(tether_db, sql):
    """Task names travel as one text[] argument, where asyncpg would read a nested list
    as another dimension and store ['a'] as 'a': the input record refuses it first."""
    [(domain, target)] = [
        (d, t) for d, t in TEXT_INPUTS if t.name == "planner.ai_tasks.ai_task_name"
    ]
    assert await check(tether_db, sql, domain, target, ["a"]) == "refused: InvalidValue"
