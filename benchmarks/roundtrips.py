"""Counting round trips at the one place every contender passes through: asyncpg's protocol.

All four contenders run on asyncpg (SQLAlchemy through its asyncpg dialect), and
every request asyncpg waits on goes through one of a few protocol coroutines:
a statement prepared, bound and executed, a simple query (BEGIN, COMMIT,
ROLLBACK), a COPY, a statement closed. Counting those calls counts what the
client waited for, BEGIN/COMMIT and statement preparation included, whatever
library issued them. An `executemany` is pipelined by asyncpg and counts once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

import asyncpg

# The protocol's coroutines that send a request and wait for the server's answer.
_REQUESTS = frozenset(
    {
        "prepare",
        "bind_execute",
        "bind_execute_many",
        "bind",
        "execute",
        "query",
        "copy_in",
        "copy_out",
        "close_statement",
        "close_portal",
    }
)


class _CountingProtocol:
    """Stands in for a connection's protocol object, counting each request made through it."""

    def __init__(self, protocol: Any) -> None:
        self._protocol = protocol
        self.count = 0

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._protocol, name)
        if name not in _REQUESTS:
            return attribute
        return self._counted(attribute)

    def _counted(self, request: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        async def call(*args: Any, **kwargs: Any) -> Any:
            self.count += 1
            return await request(*args, **kwargs)

        return call


@contextmanager
def counting(conn: asyncpg.Connection) -> Iterator[_CountingProtocol]:
    """Count the round trips `conn` makes inside the block (`.count` after it).

    Only ever used around untimed runs: the wrapper costs a little per request.
    """
    real = conn._protocol
    for name in _REQUESTS:  # fail loudly if asyncpg's internals moved
        if not callable(getattr(real, name, None)):
            raise RuntimeError(
                f"asyncpg's protocol has no {name}(): update benchmarks/roundtrips.py"
            )
    counter = _CountingProtocol(real)
    conn._protocol = counter
    try:
        yield counter
    finally:
        conn._protocol = real
