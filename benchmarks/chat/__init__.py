"""The chat domain (seed 002): its fixtures, scenarios and figures.

Scenarios (the four contenders): sign-in by e-mail, a page of conversations, a page of
messages, appending a message, a streamed chunk, a refresh-token rotation, and the
cascade delete of a long conversation. Figures (benchmarks/chat/figures.py, each in a
database of its own): what the counting trigger costs an append, eight writers on one
hot conversation, and a page 100,000 messages deep by keyset, by OFFSET and through
the ORM as the seed would page.
"""

from __future__ import annotations

from attrs import frozen

from ..harness import Connections, Figure, Progress, Scenario
from . import fixtures
from .figures import FigureSizes, measure
from .scenarios import (
    CONTENDERS,
    AppendMessage,
    ConversationsPage,
    DeleteConversation,
    FindUserByEmail,
    MessagesPage,
    RotateToken,
    StreamChunk,
    per_contender,
)

__all__ = ["SIZES", "figures", "scenarios"]


@frozen
class Sizes:
    readers: int  # users the read scenarios cycle through, 30 conversations each
    long_conversations: int  # conversations of `long_messages` messages, paged
    long_messages: int
    replies: int  # streaming replies per contender
    token_users: int  # users per contender whose tokens are rotated
    doomed_messages: int  # messages of the conversation deleted
    figures: FigureSizes


SIZES = {
    "full": Sizes(200, 20, 500, 100, 20, 10_000, FigureSizes(100_000, 40, 250, 250, 50, 10)),
    "quick": Sizes(50, 10, 500, 100, 20, 10_000, FigureSizes(100_000, 20, 200, 100, 20, 5)),
    "smoke": Sizes(3, 2, 60, 3, 2, 30, FigureSizes(300, 2, 10, 3, 2, 1)),
}


async def scenarios(connections: Connections, sizes: Sizes) -> list[Scenario]:
    """Load the chat fixtures (untimed) and return its scenarios."""
    setup = connections.setup
    emails = [f"reader-{n}@bench.test" for n in range(sizes.readers)]
    readers = await fixtures.users(setup, emails)
    await fixtures.conversations(setup, readers, 30)
    [writer] = await fixtures.users(setup, ["writer@bench.test"])
    owned = await fixtures.conversations(setup, [writer], sizes.long_conversations + 8)
    long, appended, streamed = (
        owned[writer][: sizes.long_conversations],
        owned[writer][-8:-4],
        owned[writer][-4:],
    )
    for conversation_id in long:
        await fixtures.messages(setup, conversation_id, sizes.long_messages)
    replies = [
        await fixtures.messages(setup, conversation_id, sizes.replies, status="streaming")
        for conversation_id in streamed
    ]
    token_users = [
        await fixtures.users(
            setup, [f"tokens-{contender}-{n}@bench.test" for n in range(sizes.token_users)]
        )
        for contender in CONTENDERS
    ]
    return [
        FindUserByEmail(connections, emails),
        ConversationsPage(connections, readers),
        MessagesPage(connections, long, writer),
        AppendMessage(connections, per_contender(appended), writer),
        StreamChunk(connections, per_contender(replies), writer),
        RotateToken(connections, per_contender(token_users)),
        DeleteConversation(connections, writer, sizes.doomed_messages),
    ]


async def figures(server_url: str, mode: str, progress: Progress) -> list[Figure]:
    """The chat figures at the mode's sizes, each in a database of its own; a smoke run's
    tiny sizes judge no goal."""
    sizes = SIZES[mode].figures
    return await measure(server_url, sizes, goals=mode != "smoke", progress=progress)
