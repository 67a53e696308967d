"""The repository base against a real database: the binding rule, COPY, a server-side
cursor that holds few rows at a time, keyset pages and their cursors (written as
json.dumps wrote them), a rule's own
error class, the delete preview, and a pool that refuses to wait forever."""

import asyncio
import base64
import datetime as dt
import json
import string
import uuid
from contextlib import aclosing
from decimal import Decimal

import pytest
from asyncpg.pgproto import pgproto
from attrs import frozen
from hypothesis import given, settings
from hypothesis import strategies as st

from tether import Conflict, InvalidValue, PoolExhausted, TetherError, paging, queries
from tether.changes import preview
from tether.errors import Rule, describe_rules
from tether.planner import SubjectRepository, UserRepository
from tether.planner.story import build_first_generation
from tether.repository import Repository

SQL = """\
-- name: copy_items :copy
insert into cases.items (box, position, label)
values (:box, :position, :label);

-- name: items_of_box :many
select id, box, position, label from cases.items where box = :box order by position;

-- name: items_page :many
-- Newest first; after the cursor's (created_at, id).
select id, box, position, label, created_at from cases.items
where box = :box
  and (:after_created_at::timestamptz is null
       or (created_at, id) < (:after_created_at::timestamptz, :after_id::bigint))
order by created_at desc, id desc
limit :limit;

-- name: insert_item :one
insert into cases.items (box, position, label) values (:box, :position, :label)
returning id, box, position, label;
"""

SCHEMA = """
create schema cases;
create table cases.items (
    id bigint generated always as identity primary key,
    box int not null,
    position int not null constraint items_position_check check (position >= 0),
    label text not null,
    created_at timestamptz not null default clock_timestamp(),
    constraint items_box_position_key unique (box, position)
);
"""


@frozen
class Item:
    id: int
    box: int
    position: int
    label: str


@frozen
class DatedItem:
    id: int
    box: int
    position: int
    label: str
    created_at: dt.datetime


class TakenPosition(Conflict):
    """A case's own error class for one rule."""


@pytest.fixture(scope="module")
def Q(tmp_path_factory):
    root = tmp_path_factory.mktemp("sql")
    (root / "cases").mkdir()
    (root / "cases" / "items.sql").write_text(SQL)
    return queries.load("cases", root)


@pytest.fixture
def Items(Q):
    class Items(Repository):
        COPY_ITEMS = Q.copy_items
        ITEMS_OF_BOX = Q.items_of_box.returning(Item)
        ITEMS_PAGE = Q.items_page.returning(DatedItem)
        INSERT_ITEM = Q.insert_item.returning(Item)

        async def copy(self, rows):
            return await self._copy(self.COPY_ITEMS, rows)

        async def of_box(self, box):
            return await self._many(self.ITEMS_OF_BOX, box=box)

        def stream(self, box, prefetch):
            return self._stream(self.ITEMS_OF_BOX, prefetch=prefetch, box=box)

        async def page(self, box, limit, after=None):
            return await self._page(
                self.ITEMS_PAGE, key=("created_at", "id"), limit=limit, after=after, box=box
            )

        async def insert(self, box, position, label):
            return await self._returning(self.INSERT_ITEM, box=box, position=position, label=label)

    return Items


@pytest.fixture
async def db(tether_db):
    async with tether_db.connection() as conn:
        await conn.execute(SCHEMA)
    return tether_db


def test_a_query_bound_under_another_name_fails_at_class_creation(Q):
    with pytest.raises(TypeError, match=r"Wrong\.ITEMS binds query cases\.items_of_box: name it"):

        class Wrong(Repository):
            ITEMS = Q.items_of_box.returning(Item)

    with pytest.raises(AttributeError, match="no query named 'item_of_box'"):

        class Misspelt(Repository):
            ITEM_OF_BOX = Q.item_of_box


def test_a_copy_query_must_be_one_insert_naming_each_column(tmp_path):
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "x.sql").write_text(
        "-- name: copy_x :copy\ninsert into cases.items (box, label) values (:label, :box);\n"
    )
    with pytest.raises(queries.QueryError, match="VALUES must name each column once, in order"):
        queries.load("bad", tmp_path)


async def test_copy_writes_every_row_or_none(db, Items):
    items = Items(db)
    assert await items.copy([(1, n, f"item {n}") for n in range(500)]) == 500
    assert [i.position for i in await items.of_box(1)] == list(range(500))
    with pytest.raises(Conflict) as refused:
        await items.copy([(2, 0, "a"), (2, 1, "b"), (2, 1, "again")])
    assert refused.value.constraint == "items_box_position_key"
    assert await db.pool.fetchval("select count(*) from cases.items where box = 2") == 0


@pytest.mark.parametrize("label", [5, None, ["a"], b"bytes"])
async def test_copy_refuses_a_value_its_codec_cannot_encode(db, Items, label):
    """COPY encodes on the client: a wrong type is an InvalidValue naming the table (or a
    not-null rule for None), and nothing is written."""
    with pytest.raises(InvalidValue) as refused:
        await Items(db).copy([(6, 0, "fine"), (6, 1, label)])
    assert refused.value.table == "cases.items"
    assert await db.pool.fetchval("select count(*) from cases.items") == 0
    assert await Items(db).copy([(6, 0, "the connection still works")]) == 1


async def test_copy_joins_the_callers_transaction(db, Items):
    async def change_of_mind():
        async with db.transaction() as conn:
            await Items(conn).copy([(3, 0, "x")])
            raise RuntimeError("the caller changes its mind")

    with pytest.raises(RuntimeError):
        await change_of_mind()
    assert await db.pool.fetchval("select count(*) from cases.items") == 0


async def test_a_stream_holds_at_most_prefetch_rows_per_round_trip(db, Items):
    items = Items(db)
    await items.copy([(4, n, "x" * 10) for n in range(1000)])
    async with db.connection() as conn:
        fetches: list[str] = []
        conn.add_query_logger(lambda record: fetches.append(record.query))
        seen = [item.position async for item in Items(conn).stream(4, prefetch=100)]
    assert seen == list(range(1000))
    assert db.pool.get_idle_size() >= 1  # the pooled run below gets its connection back
    pooled = [item.position async for item in items.stream(4, prefetch=7)]
    assert pooled == seen


async def test_a_stream_closed_early_hands_its_connection_back(db, Items):
    await Items(db).copy([(5, n, "x") for n in range(50)])
    async with aclosing(Items(db).stream(5, prefetch=10)) as stream:
        async for item in stream:
            if item.position == 3:
                break
    assert db.pool.get_idle_size() == db.pool.get_size()


async def test_keyset_pages_cover_every_row_once_despite_inserts_between_pages(db, Items):
    items = Items(db)
    for n in range(25):
        await items.insert(6, n, f"#{n}")
    seen: list[int] = []
    page = await items.page(6, limit=10)
    while True:
        seen += [i.position for i in page]
        await items.insert(6, 100 + len(seen), "newer than every page")  # lands before page 1
        if page.next is None:
            break
        page = await items.page(6, limit=10, after=page.next)
    assert seen == list(range(24, -1, -1))
    assert len(seen) == 25


def test_a_cursor_carries_the_key_types_asyncpg_returns():
    """asyncpg returns uuid columns as its own subclass of uuid.UUID; a subclass is
    written as its base (a bool stays a bool, a datetime a datetime)."""
    value = pgproto.UUID("12345678-1234-5678-1234-567812345678")
    when = dt.datetime(2026, 1, 13, 9, 30, tzinfo=dt.UTC)
    decoded = paging.decode(paging.encode([value, True, when, None]), 4, "cases.items_page")
    assert decoded == (uuid.UUID(str(value)), True, when, None)
    assert [type(v) for v in decoded] == [uuid.UUID, bool, dt.datetime, type(None)]
    with pytest.raises(TypeError, match="a page key cannot be a list"):
        paging.encode([[1]])


def _cursor_as_json_dumps_writes_it(values):
    """The cursor format as first written (json.dumps of [tag, text] pairs): the fast
    writer must produce the same text, so cursors handed out before still read back."""
    tags = {bool: "b", int: "i", str: "s", Decimal: "n", uuid.UUID: "u"}
    tags |= {dt.datetime: "t", dt.date: "d"}
    pairs = []
    for value in values:
        kind = next(k for k in type(value).__mro__ if k in tags) if value is not None else None
        text = {Decimal: str, uuid.UUID: str, dt.datetime: dt.datetime.isoformat}.get(kind)
        text = text or {dt.date: dt.date.isoformat}.get(kind) or (lambda v: v)
        pairs.append(["z", None] if kind is None else [tags[kind], text(value)])
    raw = json.dumps(pairs, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


KEY_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.text(),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.uuids(),
    st.datetimes(timezones=st.sampled_from([dt.UTC, dt.timezone(dt.timedelta(hours=-5))])),
    st.dates(),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(KEY_VALUES, min_size=1, max_size=4))
def test_a_cursor_is_written_as_json_dumps_wrote_it_and_reads_back(values):
    cursor = paging.encode(values)
    assert cursor == _cursor_as_json_dumps_writes_it(values)
    assert set(cursor) <= set(string.ascii_letters + string.digits + "-_")  # URL-safe
    decoded = paging.decode(cursor, len(values), "cases.items_page")
    same = [
        (a.is_nan() and b.is_nan()) if isinstance(a, Decimal) and a.is_nan() else a == b
        for a, b in zip(decoded, values, strict=True)
    ]
    assert all(same)


@pytest.mark.parametrize("value", [1.5, b"x", [1], dt.time(9, 30), object()])
def test_a_page_key_of_another_type_is_refused_by_name(value):
    with pytest.raises(TypeError, match=f"a page key cannot be a {type(value).__name__}"):
        paging.encode([value])


@pytest.mark.parametrize("cursor", ["", "x", "W1sidCIsMV1d", "WyJ0Il0", "bm90IGpzb24"])
async def test_a_cursor_not_made_here_is_an_invalid_value(db, Items, cursor):
    with pytest.raises(InvalidValue, match="the page cursor is not one this API gave out"):
        await Items(db).page(6, limit=10, after=cursor)


@pytest.mark.parametrize("limit", [0, -1, 1001, True, "10"])
async def test_a_page_size_out_of_bounds_is_refused(db, Items, limit):
    with pytest.raises(InvalidValue, match="a page holds 1 to 1000 rows"):
        await Items(db).page(6, limit=limit)


async def test_a_rule_can_name_its_own_error_class(db, Items):
    describe_rules("cases", {"items_box_position_key": Rule("that place is taken", TakenPosition)})
    await Items(db).insert(7, 0, "first")
    with pytest.raises(TakenPosition) as refused:
        await Items(db).insert(7, 0, "second")
    assert str(refused.value) == "cases.items: that place is taken (rule items_box_position_key)"
    assert isinstance(refused.value, Conflict)


async def test_preview_counts_the_cascade_and_changes_nothing(tether_db):
    story = await build_first_generation(tether_db)
    before = await tether_db.pool.fetchval(
        "select (select count(*) from planner.users) + (select count(*) from planner.subjects)"
        " + (select count(*) from planner.plans) + (select count(*) from planner.ai_tasks)"
    )
    changes = await preview(tether_db, lambda conn: UserRepository(conn).delete(story.john.id))
    assert changes.deleted == {
        "planner.users": 1,
        "planner.subjects": 3,
        "planner.plans": 3,
        "planner.ai_tasks": 6,
    }
    assert changes.inserted == {} and changes.updated == {}
    after = await tether_db.pool.fetchval(
        "select (select count(*) from planner.users) + (select count(*) from planner.subjects)"
        " + (select count(*) from planner.plans) + (select count(*) from planner.ai_tasks)"
    )
    assert after == before
    assert await UserRepository(tether_db).get(story.john.id) == story.john


async def test_preview_inside_a_transaction_keeps_the_callers_work(tether_db):
    async with tether_db.transaction() as conn:
        ada = await UserRepository(conn).create("ada@example.com")
        changes = await preview(conn, lambda c: SubjectRepository(c).create(ada.id, "Algebra"))
        assert changes.inserted == {"planner.subjects": 1}
    assert await UserRepository(tether_db).find_by_email("ada@example.com") == ada
    assert await SubjectRepository(tether_db).of_student(ada.id) == []


async def test_an_error_inside_preview_rolls_back_and_reaches_the_caller(tether_db):
    async def twice(conn):
        await UserRepository(conn).create("twice@example.com")
        await UserRepository(conn).create("TWICE@example.com")

    with pytest.raises(Conflict):
        await preview(tether_db, twice)
    assert await UserRepository(tether_db).find_by_email("twice@example.com") is None


async def test_a_pool_with_every_connection_held_refuses_after_its_timeout(tether_url):
    from tether import Database

    async with Database(tether_url, max_size=1, acquire_timeout=0.3) as db:
        async with db.transaction():
            started = asyncio.get_running_loop().time()
            with pytest.raises(PoolExhausted) as refused:
                await UserRepository(db).find_by_email("x@example.com")
            waited = asyncio.get_running_loop().time() - started
        assert 0.25 < waited < 5
        message = str(refused.value)
        assert "all 1 are in use" in message and "db.transaction()" in message
        assert isinstance(refused.value, TetherError)
        # The pool is whole again once the transaction is over.
        assert await UserRepository(db).find_by_email("x@example.com") is None


async def test_a_cancelled_transaction_commits_nothing_and_the_pool_stays_healthy(tether_url):
    from tether import Database

    async with Database(tether_url, max_size=2) as db:
        entered = asyncio.Event()

        async def slow_transaction():
            async with db.transaction() as conn:
                await UserRepository(conn).create("cancelled@example.com")
                entered.set()
                await conn.execute("select pg_sleep(10)")

        task = asyncio.create_task(slow_transaction())
        await entered.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert await UserRepository(db).find_by_email("cancelled@example.com") is None
        for n in range(4):
            await UserRepository(db).create(f"after-{n}@example.com")
        assert await db.pool.fetchval("select count(*) from planner.users") == 4
