"""The dependency graph: the database refuses a self-dependency, a ticket of another
session and any cycle, also when writers race to close one (checked after every race by
PostgreSQL's own CYCLE detection, in SQL written here); tickets come out in dependency
order, ties by position, in one query."""

import asyncio
import random
import uuid

import pytest

from tether import Conflict, InvalidValue, MissingReference, Retryable
from tether.testing import expect_changes
from tether.tickets import (
    DependencyCycle,
    DependencyRepository,
    NewTicket,
    SessionRepository,
    TicketRepository,
)

from .checks import refusal, statements_sent

# Every cycle in the graph, found by PostgreSQL's CYCLE clause (not the trigger's walk).
CYCLES = """
with recursive walk (node) as (
    select ticket_id from tickets.ticket_dependencies
    union all
    select d.depends_on_ticket_id
    from walk join tickets.ticket_dependencies d on d.ticket_id = walk.node
) cycle node set looped using path
select count(*) from walk where looped
"""


async def new_session(db, size: int, *, positions=None) -> list[uuid.UUID]:
    """A session with `size` independent tickets; their ids, by position."""
    session = await SessionRepository(db).create(title="graph")
    places = positions or list(range(size))
    created = await TicketRepository(db).create_many(
        session.id, [NewTicket(f"t{n}", places[n]) for n in range(size)]
    )
    return [t.id for t in created]


async def test_a_dependency_is_written_with_its_session(tether_db):
    a, b = await new_session(tether_db, 2)
    dependency = await DependencyRepository(tether_db).add(b, a)
    ticket = await TicketRepository(tether_db).get(a)
    assert (dependency.ticket_id, dependency.depends_on_ticket_id) == (b, a)
    assert dependency.session_id == ticket.session_id


async def test_refused_dependencies_name_their_rule_and_write_nothing(tether_db):
    a, b, c = await new_session(tether_db, 3)
    [elsewhere] = await new_session(tether_db, 1)
    dependencies = DependencyRepository(tether_db)
    await dependencies.add(b, a)
    await dependencies.add(c, b)
    cases = [
        ((a, a), InvalidValue, "ticket_dependencies_no_self_check", "cannot depend on itself"),
        ((b, a), Conflict, "ticket_dependencies_pkey", "already exists"),
        ((a, b), DependencyCycle, "ticket_dependencies_no_cycle", "may not close a cycle"),
        ((a, c), DependencyCycle, "ticket_dependencies_no_cycle", "directly or through"),
        (
            (a, elsewhere),
            MissingReference,
            "ticket_dependencies_depends_on_ticket_id_fkey",
            "in the same session",
        ),
        ((a, uuid.uuid4()), MissingReference, "ticket_dependencies_depends_on_ticket_id_fkey", ""),
        ((uuid.uuid4(), a), MissingReference, "ticket_dependencies_ticket_id_fkey", "must exist"),
    ]
    for edge, error, constraint, words in cases:
        with pytest.raises(error) as refused:
            await dependencies.add(*edge)
        assert (refused.value.table, refused.value.constraint) == (
            "tickets.ticket_dependencies",
            constraint,
        ), edge
        assert words in str(refused.value)
    assert await tether_db.pool.fetchval("select count(*) from tickets.ticket_dependencies") == 2


async def test_a_batch_that_closes_a_cycle_writes_nothing(tether_db):
    a, b, c, d = await new_session(tether_db, 4)
    dependencies = DependencyRepository(tether_db)
    with pytest.raises(DependencyCycle):
        await dependencies.add_many([(b, a), (c, b), (d, c), (a, d)])
    assert await tether_db.pool.fetchval("select count(*) from tickets.ticket_dependencies") == 0
    assert await dependencies.add_many([(b, a), (c, b), (d, c), (d, a)]) == 4
    assert await dependencies.remove(d, a)
    assert not await dependencies.remove(d, a)


async def test_a_generated_batch_with_a_cycle_leaves_no_ticket(tether_db):
    session = await SessionRepository(tether_db).create()
    with pytest.raises(DependencyCycle):
        await TicketRepository(tether_db).create_many(
            session.id,
            [
                NewTicket("a", 0, depends_on=(2,)),
                NewTicket("b", 1, depends_on=(0,)),
                NewTicket("c", 2, depends_on=(1,)),
            ],
        )
    with pytest.raises(InvalidValue) as refused:
        await TicketRepository(tether_db).create_many(
            session.id, [NewTicket("a", 0, depends_on=(0,))]
        )
    assert refused.value.constraint == "ticket_dependencies_no_self_check"
    assert await tether_db.pool.fetchval("select count(*) from tickets.tickets") == 0


async def test_moving_a_dependency_onto_a_cycle_is_refused(tether_db):
    a, b, c, d = await new_session(tether_db, 4)
    await DependencyRepository(tether_db).add_many([(b, a), (c, b), (d, a)])
    refused = await refusal(
        tether_db,
        "update tickets.ticket_dependencies set ticket_id = $1, depends_on_ticket_id = $2 "
        "where ticket_id = $3",
        a,
        c,
        d,
    )
    assert isinstance(refused, DependencyCycle)


@pytest.mark.parametrize(
    ("edge", "message"),
    [
        ((str(uuid.uuid4()), uuid.uuid4()), "ticket_id must be UUID, not str"),
        ((uuid.uuid4(), [uuid.uuid4()]), "depends_on_ticket_id must be UUID, not list"),
    ],
)
async def test_dependency_inputs_are_typed(tether_db, edge, message):
    """Pairs travel as two uuid[] arrays, where a list would become one more dimension."""
    with pytest.raises(InvalidValue, match=message):
        await DependencyRepository(tether_db).add_many([edge])


async def test_adding_a_dependency_touches_the_session_and_nothing_else(tether_db):
    a, b = await new_session(tether_db, 2)
    async with (
        tether_db.connection() as conn,
        expect_changes(
            conn,
            inserted={"tickets.ticket_dependencies": 1},
            updated={"tickets.sessions": 1},  # the lock that serializes the graph's writers
            deleted={},
        ),
    ):
        await DependencyRepository(conn).add(b, a)


RACES = 25


async def test_two_writers_closing_a_cycle_at_once_one_wins(tether_db):
    """a -> b and b -> a, each in its own transaction, issued together and committed a
    moment later: exactly one commits, the other is a DependencyCycle, every time."""
    outcomes = []
    for _ in range(RACES):
        a, b = await new_session(tether_db, 2)
        ready = asyncio.Barrier(2)

        async def add(ticket, depends_on, ready=ready):
            async with tether_db.transaction() as conn:
                await ready.wait()
                await DependencyRepository(conn).add(ticket, depends_on)
                await asyncio.sleep(0.01)  # hold the transaction open

        results = await asyncio.gather(add(a, b), add(b, a), return_exceptions=True)
        outcomes.append(sorted(type(r).__name__ for r in results))
    assert outcomes == [["DependencyCycle", "NoneType"]] * RACES
    assert (
        await tether_db.pool.fetchval("select count(*) from tickets.ticket_dependencies") == RACES
    )
    assert await tether_db.pool.fetchval(CYCLES) == 0


async def test_under_repeatable_read_the_late_writer_is_told_to_retry(tether_db):
    """Its snapshot cannot see the first writer's edge, so the session lock turns the race
    into a serialization failure (Retryable) rather than a cycle."""
    a, b = await new_session(tether_db, 2)
    ready = asyncio.Barrier(2)

    async def add(ticket, depends_on, pause):
        async with tether_db.transaction(isolation="repeatable_read") as conn:
            await conn.fetchval("select 1")  # the snapshot is taken here, before either write
            await ready.wait()
            await asyncio.sleep(pause)
            await DependencyRepository(conn).add(ticket, depends_on)
            await asyncio.sleep(0.05)

    results = await asyncio.gather(add(a, b, 0), add(b, a, 0.02), return_exceptions=True)
    assert results[0] is None
    assert isinstance(results[1], Retryable) and results[1].sqlstate == "40001"
    assert await tether_db.pool.fetchval(CYCLES) == 0


async def test_many_writers_adding_random_edges_never_leave_a_cycle(tether_db):
    tickets = await new_session(tether_db, 8)
    rng = random.Random(4)
    edges = [tuple(rng.sample(tickets, 2)) for _ in range(120)]
    dependencies = DependencyRepository(tether_db)

    async def add(edge):
        try:
            await dependencies.add(*edge)
        except (DependencyCycle, Conflict) as refused:
            return type(refused).__name__
        return "added"

    outcomes = await asyncio.gather(*(add(edge) for edge in edges))
    assert set(outcomes) <= {"added", "DependencyCycle", "Conflict"}
    assert outcomes.count("added") > 7
    assert await tether_db.pool.fetchval(CYCLES) == 0


async def export(db, ids) -> list[str]:
    session_id = (await TicketRepository(db).get(ids[0])).session_id
    names = {t: f"t{n}" for n, t in enumerate(ids)}
    return [names[item.ticket.id] for item in await TicketRepository(db).export_order(session_id)]


async def test_export_order_of_a_chain_placed_backwards(tether_db):
    t0, t1, t2, t3 = ids = await new_session(tether_db, 4)
    await DependencyRepository(tether_db).add_many([(t0, t1), (t1, t2), (t2, t3)])
    assert await export(tether_db, ids) == ["t3", "t2", "t1", "t0"]


async def test_export_order_of_a_diamond_ties_by_position(tether_db):
    """t3 is the root; t1 and t2 depend on it; t0 depends on both."""
    t0, t1, t2, t3 = ids = await new_session(tether_db, 4)
    await DependencyRepository(tether_db).add_many([(t1, t3), (t2, t3), (t0, t1), (t0, t2)])
    assert await export(tether_db, ids) == ["t3", "t1", "t2", "t0"]


async def test_export_keeps_positions_that_respect_the_dependencies(tether_db):
    """The same diamond placed in order, with unrelated tickets between: position order."""
    ids = await new_session(tether_db, 7)
    top, _, left, right, _, bottom, _ = ids
    await DependencyRepository(tether_db).add_many(
        [(left, top), (right, top), (bottom, left), (bottom, right)]
    )
    assert await export(tether_db, ids) == [f"t{n}" for n in range(7)]


async def test_a_ticket_placed_before_its_dependency_comes_right_after_it(tether_db):
    ids = await new_session(tether_db, 5)
    await DependencyRepository(tether_db).add(ids[1], ids[3])
    assert await export(tether_db, ids) == ["t0", "t2", "t3", "t1", "t4"]
    [first, *_] = await TicketRepository(tether_db).export_order(
        (await TicketRepository(tether_db).get(ids[0])).session_id
    )
    assert first.depends_on == ()


async def test_export_order_of_a_random_graph_respects_every_dependency(tether_db):
    rng = random.Random(7)
    size = 60
    positions = rng.sample(range(size), size)
    ids = await new_session(tether_db, size, positions=positions)
    rank = rng.sample(range(size), size)  # a hidden topological order for the edges
    edges = {
        (ids[a], ids[b])
        for a in range(size)
        for b in rng.sample(range(size), 4)
        if rank[b] < rank[a]
    }
    await DependencyRepository(tether_db).add_many(sorted(edges))
    session_id = (await TicketRepository(tether_db).get(ids[0])).session_id
    order = await TicketRepository(tether_db).export_order(session_id)
    place = {item.ticket.id: n for n, item in enumerate(order)}
    assert len(order) == size
    assert all(place[depends_on] < place[ticket] for ticket, depends_on in edges)
    for item in order:
        assert set(item.depends_on) == {d for t, d in edges if t == item.ticket.id}


async def test_export_is_one_query(tether_db):
    ids = await new_session(tether_db, 3)
    await DependencyRepository(tether_db).add_many([(ids[1], ids[0]), (ids[2], ids[1])])
    session_id = (await TicketRepository(tether_db).get(ids[0])).session_id
    sent = await statements_sent(
        tether_db, lambda conn: TicketRepository(conn).export_order(session_id)
    )
    assert len(sent) == 1
    assert [
        item.ticket.id for item in await TicketRepository(tether_db).export_order(session_id)
    ] == ids
    assert await TicketRepository(tether_db).export_order(uuid.uuid4()) == []
