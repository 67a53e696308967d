"""The tickets domain (seed 004): its fixtures, scenarios and figures.

Scenarios (the four contenders): the session aggregate against the seed's joined
eager loads; adding a dependency in a session of 1,000 tickets and ~10,000
dependencies; that session's tickets in export order; an audit append. Figures: how
the cost of adding a dependency grows with the graph, and audit appends per second
with concurrent writers.
"""

from __future__ import annotations

from attrs import frozen

from ..harness import Connections, Figure, Progress, Scenario
from .figures import Growth, Throughput, audit_throughput, dependency_growth
from .fixtures import load_graph, load_sessions, reach
from .scenarios import AddDependency, AuditAppend, ExportOrder, SessionAggregate


@frozen
class Sizes:
    sessions: int  # sessions the aggregate cycles through
    files: int  # uploaded files per session
    tickets: int  # tickets of the big graph
    per_ticket: int  # dependencies of each of its tickets (on earlier ones)
    loose: int  # tickets of the same session with no dependency, to add some from
    growth: Growth
    throughput: Throughput


SIZES = {
    "full": Sizes(50, 10, 1000, 10, 50, Growth((100, 300, 1000), 10, 200), Throughput(8, 4000)),
    "quick": Sizes(20, 10, 1000, 10, 20, Growth((100, 1000), 10, 50), Throughput(8, 1000)),
    "smoke": Sizes(2, 2, 20, 3, 3, Growth((10, 20), 3, 2), Throughput(2, 10)),
}


async def scenarios(connections: Connections, sizes: Sizes) -> list[Scenario]:
    """Load the tickets fixtures (untimed) and return its scenarios."""
    sessions = await load_sessions(connections.setup, sizes.sessions, sizes.files)
    graph = await load_graph(connections.setup, sizes.tickets, sizes.per_ticket, sizes.loose)
    middle = graph.tickets[len(graph.tickets) // 2]
    return [
        SessionAggregate(connections, sessions, sizes.files),
        AddDependency(connections, graph, await reach(connections.setup, middle)),
        ExportOrder(connections, graph),
        AuditAppend(connections, sessions[0]),
    ]


async def figures(server_url: str, mode: str, progress: Progress) -> list[Figure]:
    sizes = SIZES[mode]
    return [
        *await dependency_growth(server_url, sizes.growth, progress),
        await audit_throughput(server_url, sizes.throughput, progress),
    ]
