"""The tickets scenarios, each written once per contender.

F runs the query object's own `.sql` (exactly what tether sends) and keeps the raw
Records; L calls the repository method a service would call; O1 and O2 use a session
per operation on their one connection, O1 with the seed's mapping as written, O2 with
the tuned one (benchmarks/tickets/orm.py).
"""

from __future__ import annotations

import graphlib
import itertools
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import insert, select

from tether.tickets import (
    AuditRepository,
    DependencyRepository,
    SessionRepository,
    TicketRepository,
)
from tether.tickets.repositories import Q

from ..harness import Connections, Orm, Scenario
from .fixtures import Graph
from .orm import mapped

# The seed's mapping (O1) and the tuned one (O2), by `Orm.tuned`.
MODELS = {False: mapped(tuned=False), True: mapped(tuned=True)}


def export_order(tickets: Iterable[Any], edges: Iterable[tuple[uuid.UUID, uuid.UUID]]) -> list[Any]:
    """The export order tether's query computes, in Python, for the ORM contenders
    (sql/tickets/tickets.sql): by the highest position among a ticket and all it
    depends on, then the longest chain from a ticket holding that position, then
    position."""
    by_id = {t.id: t for t in tickets}
    needs: dict[uuid.UUID, list[uuid.UUID]] = {ticket_id: [] for ticket_id in by_id}
    for ticket_id, depends_on in edges:
        needs[ticket_id].append(depends_on)
    key: dict[uuid.UUID, tuple[int, int]] = {}
    for ticket_id in graphlib.TopologicalSorter(needs).static_order():
        own = (by_id[ticket_id].position, 0)
        carried = [(key[d][0], key[d][1] + 1) for d in needs[ticket_id]]
        key[ticket_id] = max([own, *(k for k in carried if k[0] >= own[0])])
    return sorted(by_id.values(), key=lambda t: (*key[t.id], t.position, t.id))


class TicketsScenario(Scenario):
    def __init__(self, connections: Connections) -> None:
        super().__init__(connections)
        self.sessions = SessionRepository(connections.tether)
        self.tickets = TicketRepository(connections.tether)
        self.dependencies = DependencyRepository(connections.tether)
        self.audit = AuditRepository(connections.tether)


class SessionAggregate(TicketsScenario):
    name = "session_aggregate"

    def __init__(self, connections: Connections, sessions: Sequence[uuid.UUID], files: int):
        super().__init__(connections)
        self.ids = sessions
        self.what = (
            f"a session with its {files} files, task, validation and Jira project context "
            '(the seed: lazy="joined")'
        )

    async def argument(self, contender: str, number: int) -> uuid.UUID:
        return self.ids[number % len(self.ids)]

    def tenant(self, session_id: uuid.UUID) -> uuid.UUID:
        return session_id

    async def floor(self, session_id: uuid.UUID) -> object:
        return await self.db.floor.fetchrow(Q.session_aggregate.sql, session_id)

    async def tether(self, session_id: uuid.UUID) -> object:
        return await self.sessions.aggregate(session_id)

    async def orm(self, orm: Orm, session_id: uuid.UUID) -> object:
        """The seed's mapping loads the files and the three 1:1s joined, in one SELECT."""
        async with orm.session() as session:
            return await session.get(MODELS[orm.tuned].Session, session_id)


class AddDependency(TicketsScenario):
    """One new dependency in the big graph, from a loose ticket (nothing depends on it)
    to a ticket in the middle; taken away again, untimed, after each run."""

    name = "add_dependency"

    def __init__(self, connections: Connections, graph: Graph, reach: int) -> None:
        super().__init__(connections)
        self.graph = graph
        self.target = graph.tickets[len(graph.tickets) // 2]
        self.what = (
            f"add a dependency in a session of {len(graph.tickets):,} tickets and "
            f"{graph.dependencies:,} dependencies (the cycle check walks the {reach} "
            "tickets its target depends on)"
        )

    async def argument(self, contender: str, number: int) -> tuple[uuid.UUID, uuid.UUID]:
        return self.graph.loose[number % len(self.graph.loose)], self.target

    def tenant(self, edge: tuple[uuid.UUID, uuid.UUID]) -> uuid.UUID:
        return self.graph.session_id

    async def clean(self, edge: tuple[uuid.UUID, uuid.UUID]) -> None:
        removed = await self.db.setup.execute(Q.delete_dependency.sql, *edge)
        assert removed == "DELETE 1", f"the dependency was not written: {removed}"

    async def floor(self, edge: tuple[uuid.UUID, uuid.UUID]) -> object:
        return await self.db.floor.fetchrow(Q.insert_dependency.sql, *edge)

    async def tether(self, edge: tuple[uuid.UUID, uuid.UUID]) -> object:
        return await self.dependencies.add(*edge)

    async def orm(self, orm: Orm, edge: tuple[uuid.UUID, uuid.UUID]) -> object:
        ticket_id, depends_on = edge
        async with orm.session() as session:
            dependency = MODELS[orm.tuned].TicketDependency(
                ticket_id=ticket_id, depends_on_ticket_id=depends_on
            )
            session.add(dependency)
            await session.commit()
            return dependency

    async def orm_tuned(self, orm: Orm, edge: tuple[uuid.UUID, uuid.UUID]) -> object:
        TicketDependency = MODELS[orm.tuned].TicketDependency
        ticket_id, depends_on = edge
        async with orm.session() as session:
            dependency = await session.scalar(
                insert(TicketDependency).returning(TicketDependency),
                [{"ticket_id": ticket_id, "depends_on_ticket_id": depends_on}],
            )
            await session.commit()
            return dependency


class ExportOrder(TicketsScenario):
    """Every ticket of the big graph's session in dependency order."""

    name = "export_order"
    heavy = True

    def __init__(self, connections: Connections, graph: Graph) -> None:
        super().__init__(connections)
        self.graph = graph
        self.what = (
            f"{len(graph.tickets) + len(graph.loose):,} tickets and {graph.dependencies:,} "
            "dependencies in export order (topological, ties by position)"
        )

    async def argument(self, contender: str, number: int) -> uuid.UUID:
        return self.graph.session_id

    def tenant(self, session_id: uuid.UUID) -> uuid.UUID:
        return session_id

    async def floor(self, session_id: uuid.UUID) -> object:
        return await self.db.floor.fetch(Q.export_order.sql, session_id)

    async def tether(self, session_id: uuid.UUID) -> object:
        return await self.tickets.export_order(session_id)

    async def orm(self, orm: Orm, session_id: uuid.UUID) -> object:
        """As the seed's service reaches them: the session, its tickets (lazy="select"),
        each ticket's dependencies (lazy="select": a query per ticket), then the order."""
        models = MODELS[orm.tuned]
        async with orm.session() as session:
            owner = await session.get(models.Session, session_id)
            tickets = await owner.awaitable_attrs.tickets
            edges = [
                (dependency.ticket_id, dependency.depends_on_ticket_id)
                for ticket in tickets
                for dependency in await ticket.awaitable_attrs.dependencies
            ]
            return export_order(tickets, edges)

    async def orm_tuned(self, orm: Orm, session_id: uuid.UUID) -> object:
        """Two queries (the tickets, the session's dependencies), then the order."""
        Ticket, TicketDependency = MODELS[orm.tuned].Ticket, MODELS[orm.tuned].TicketDependency
        async with orm.session() as session:
            tickets = (
                await session.scalars(select(Ticket).where(Ticket.session_id == session_id))
            ).all()
            edges = await session.execute(
                select(TicketDependency.ticket_id, TicketDependency.depends_on_ticket_id).where(
                    TicketDependency.session_id == session_id
                )
            )
            return export_order(tickets, [(t, d) for t, d in edges])


class AuditAppend(TicketsScenario):
    """Append one audit event about a session (the log only grows: nothing to clean)."""

    name = "audit_append"
    what = "append one audit event (with JSON details), in its own transaction"

    _numbers = itertools.count()

    def __init__(self, connections: Connections, session_id: uuid.UUID) -> None:
        super().__init__(connections)
        self.session_id = session_id

    async def argument(self, contender: str, number: int) -> dict[str, Any]:
        return {"ticket": f"BENCH-{next(self._numbers)}", "by": contender}

    def tenant(self, details: dict[str, Any]) -> uuid.UUID:
        return self.session_id

    async def floor(self, details: dict[str, Any]) -> object:
        return await self.db.floor.fetchrow(
            Q.insert_audit_event.sql, self.session_id, "ticket.exported", "bench", details
        )

    async def tether(self, details: dict[str, Any]) -> object:
        return await self.audit.append(
            "ticket.exported", session_id=self.session_id, actor="bench", details=details
        )

    async def orm(self, orm: Orm, details: dict[str, Any]) -> object:
        async with orm.session() as session:
            event = MODELS[orm.tuned].AuditLog(
                session_id=self.session_id, action="ticket.exported", actor="bench", details=details
            )
            session.add(event)
            await session.commit()
            return event

    async def orm_tuned(self, orm: Orm, details: dict[str, Any]) -> object:
        AuditLog = MODELS[orm.tuned].AuditLog
        async with orm.session() as session:
            event = await session.scalar(
                insert(AuditLog).returning(AuditLog),
                [
                    {
                        "session_id": self.session_id,
                        "action": "ticket.exported",
                        "actor": "bench",
                        "details": details,
                    }
                ],
            )
            await session.commit()
            return event
