"""Chat fixtures written with COPY, untimed: users, their conversations and messages.

Keys are UUIDs made here, so nothing has to be read back after a COPY. Messages are
spaced a second apart from a fixed start, as a real history is; COPY fires the
counting triggers once per statement, so the conversations' counters come out exact.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from pathlib import Path

import asyncpg

from tether import queries
from tether.passwords import MIN_COST, hash_password

B = queries.load_folder(Path(__file__).resolve().parent / "sql", "bench_chat")

START = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)
# One hash for every fixture user, at the cheapest cost: it is never checked here.
HASH = hash_password("bench password", cost=MIN_COST)


async def _copy(
    conn: asyncpg.Connection, table: str, columns: Sequence[str], records: list[tuple[object, ...]]
) -> None:
    await conn.copy_records_to_table(
        table, schema_name="chat", columns=list(columns), records=records
    )


async def users(conn: asyncpg.Connection, emails: Sequence[str]) -> list[uuid.UUID]:
    """Password users with these (lower-case) e-mail addresses; their ids."""
    ids = [uuid.uuid4() for _ in emails]
    await _copy(
        conn,
        "users",
        ("id", "email", "hashed_password", "name"),
        [(i, email, HASH, "Bench User") for i, email in zip(ids, emails, strict=True)],
    )
    return ids


async def conversations(
    conn: asyncpg.Connection, user_ids: Sequence[uuid.UUID], per_user: int
) -> dict[uuid.UUID, list[uuid.UUID]]:
    """`per_user` conversations for each user, an hour apart; their ids by user."""
    made = {u: [uuid.uuid4() for _ in range(per_user)] for u in user_ids}
    await _copy(
        conn,
        "conversations",
        ("id", "user_id", "title", "created_at"),
        [
            (c, u, f"conversation {n}", START + dt.timedelta(hours=n))
            for u, ids in made.items()
            for n, c in enumerate(ids)
        ],
    )
    return made


async def messages(
    conn: asyncpg.Connection,
    conversation_id: uuid.UUID,
    count: int,
    *,
    status: str = "sent",
    content: str = "a message of an ordinary length, about as long as a short sentence",
) -> list[uuid.UUID]:
    """`count` messages in a conversation, a second apart, users and assistant taking
    turns; their ids in order."""
    ids = [uuid.uuid4() for _ in range(count)]
    await _copy(
        conn,
        "messages",
        ("id", "conversation_id", "sender", "content", "status", "created_at"),
        [
            (
                i,
                conversation_id,
                ("user", "assistant")[n % 2],
                content,
                status,
                START + dt.timedelta(seconds=n),
            )
            for n, i in enumerate(ids)
        ],
    )
    return ids
