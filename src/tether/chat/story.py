"""The chat domain's demo story (seed 002), played by `tether demo chat`.

Ada signs up with a password (the service hashes it; tether stores the hash and
never shows it), Ben with OAuth. Ada signs in, gets a refresh token, asks a question
and gets a streamed reply, one chunk per statement; the database counts the
messages. Her refresh token is rotated; presented again at once (a retry) it is
forgiven once, and a third time (a thief's copy) it revokes the whole family. Pages of
messages and conversations follow their cursors. Last, deletes: a message (the
conversation's last_message_at falls back), then Ada, with what the cascade removed
counted by PostgreSQL, and Ben's rows untouched. The tests start from the same
builders (`build_users`, `build_conversation`).
"""

from __future__ import annotations

import uuid

from tether import queries
from tether.changes import preview, track
from tether.chat.errors import TokenReuse
from tether.chat.records import Conversation, Message, MessageStatus, Sender, User
from tether.chat.repositories import (
    ConversationRepository,
    MessageRepository,
    UserRepository,
)
from tether.chat.tokens import RefreshTokenRepository, TokenKey
from tether.database import Database
from tether.demo import Out, RowCount, StoryLookups, changes_table, table
from tether.passwords import MIN_COST, hash_password, verify_password

Q = queries.load("chat")

PASSWORD = "correct horse battery staple"  # noqa: S105 (Ada's made-up password)
# A demo's cheap cost (2^10): a service keeps hash_password's default (OWASP's 2^17).
DEMO_COST = MIN_COST


async def build_users(db: Database) -> tuple[User, User]:
    """Ada, who signs in with a password, and Ben, who signs in with Google."""
    users = UserRepository(db)
    ada = await users.create_with_password(
        "Ada.Lovelace@example.com", hash_password(PASSWORD, cost=DEMO_COST), "Ada"
    )
    ben = await users.sign_in_oauth(
        "google", "109876543210", "ben@example.com", email_verified=True, name="Ben"
    )
    return ada, ben


SENDERS = (Sender.ASSISTANT, Sender.USER)
QUESTION = "I get a headache after running. Should I worry?"
REPLY = (
    "Headaches after exercise are common ",
    "and usually harmless: drink water, ",
    "warm up, and ease the pace. ",
    "See a doctor if it is sudden or severe.",
)


def _quiet(_: str) -> None:
    pass


async def build_conversation(
    db: Database, user: User, out: Out = _quiet
) -> tuple[Conversation, Message, Message]:
    """A conversation of `user`: a question, then the assistant's reply, streamed
    chunk by chunk into the database (each told on `out`) and finished as sent."""
    messages = MessageRepository(db)
    conversation = await ConversationRepository(db).create(user.id, "Headache after running")
    question = await messages.append(
        conversation.id, Sender.USER, QUESTION, metadata={"client": "web-app"}
    )
    reply = await messages.append(
        conversation.id, Sender.ASSISTANT, "", status=MessageStatus.STREAMING
    )
    out(f"user: {question.content}")
    out(f"assistant's reply appended: status {reply.status}, content {reply.content!r}")
    for number, chunk in enumerate(REPLY, start=1):
        assert await messages.append_chunk(reply.id, chunk)
        out(f"chunk {number} appended in the database: {chunk!r}")
    finished = await messages.finish(
        reply.id, MessageStatus.SENT, {"model": "veda-1", "chunks": len(REPLY)}
    )
    assert finished is not None
    out(f"finished: status {finished.status}, metadata {finished.metadata}")
    return conversation, question, finished


class Lookups(StoryLookups):
    """The story's own look-ups (sql/chat/story.sql)."""

    ROWS_OF_USER = Q.rows_of_user.returning(RowCount)
    STORED_TOKEN_HASHES = Q.stored_token_hashes

    async def rows_of_user(self, user_id: uuid.UUID) -> str:
        return await self._rows_left(self.ROWS_OF_USER, user_id=user_id)

    async def stored_token_hashes(self, user_id: uuid.UUID) -> list[str]:
        hashes: list[str] = await self._val(self.STORED_TOKEN_HASHES, user_id=user_id)
        return hashes


def _counters(conversation: Conversation) -> str:
    when = conversation.last_message_at
    return (
        f"messages_count {conversation.messages_count}, "
        f"last_message_at {when.isoformat(timespec='microseconds') if when else None}"
    )


async def play(db: Database, out: Out) -> None:
    users, conversations = UserRepository(db), ConversationRepository(db)
    messages, lookups = MessageRepository(db), Lookups(db)
    # A key made up for the demo; a service's comes from $TETHER_CHAT_TOKEN_KEY (the default).
    tokens = RefreshTokenRepository(db, key=TokenKey.generate())

    out("\n== Ada signs up with a password, Ben with Google (OAuth) ==")
    ada, ben = await build_users(db)
    out(
        table(
            ("email", "name", "role", "signs in with"),
            [
                (u.email, u.name, u.role, "password" if u.has_password else "OAuth")
                for u in (ada, ben)
            ],
        )
    )
    out(f"the record, as a log would show it (no hash): {ada!r}")

    out("\n== Ada signs in: found by e-mail in any case, her password checked by the service ==")
    found = await users.find_by_email("ada.lovelace@EXAMPLE.com")
    assert found is not None
    assert found.hashed_password is not None
    matches = verify_password(PASSWORD, found.hashed_password)
    out(f"password matches the stored hash: {matches}")
    session = await tokens.issue(found.id)
    [stored] = await lookups.stored_token_hashes(ada.id)
    out(
        f"refresh token issued, expires {session.expires_at:%Y-%m-%d}: {len(session.token)} "
        f"characters to the client; the database holds only its HMAC-SHA256 "
        f"({len(stored)} hex digits, never shown)"
    )

    out("\n== A question, and the assistant's reply streamed one chunk per statement ==")
    conversation, _, reply = await build_conversation(db, ada, out)
    conversation = await conversations.get(conversation.id)
    out(f"the reply as stored: {reply.content!r}")
    out(f"counted by the database: {_counters(conversation)}")
    late = await messages.append_chunk(reply.id, "!")
    out(f"a chunk after the reply was sent: {'appended' if late else 'refused'}")

    out("\n== Refresh: the token is rotated; a retry is forgiven once; a replay revokes all ==")
    rotated = await tokens.rotate(session.token)
    assert rotated is not None
    out(f"rotated: a new token for the same user ({rotated.user_id == ada.id})")
    retried = await tokens.rotate(session.token)
    assert retried is not None
    out(
        "the same token again within the grace window (a lost response, retried): a new "
        f"token, the first successor revoked; live tokens {len(await tokens.active(ada.id))}"
    )
    try:
        await tokens.rotate(session.token)
    except TokenReuse:
        out("the same token a third time (a thief's copy): TokenReuse, the family revoked")
    out(f"Ada's live tokens: {len(await tokens.active(ada.id))}")

    out("\n== Paging by keyset: the follow-up messages, four at a time ==")
    for n in range(1, 10):
        await messages.append(conversation.id, SENDERS[n % 2], f"follow-up {n}")
    page = await messages.page_of_conversation(conversation.id, limit=4)
    number = 1
    while True:
        out(f"page {number}: " + " | ".join(m.content[:24] for m in page))
        if page.next is None:
            break
        page = await messages.page_of_conversation(conversation.id, limit=4, after=page.next)
        number += 1
    for title in ("Sleep", "Allergies"):
        await conversations.create(ada.id, title)
    listing = await conversations.page_of_user(ada.id, limit=2)
    following = await conversations.page_of_user(ada.id, limit=2, after=listing.next)
    out(
        "Ada's conversations, newest first, two per page: "
        + " / ".join(", ".join(c.title or "-" for c in p) for p in (listing, following))
    )

    out("\n== Deleting the newest message: last_message_at falls back to the one before ==")
    everything = await messages.page_of_conversation(conversation.id, limit=100)
    *_, before_last, newest = everything.items
    out(f"before: {_counters(await conversations.get(conversation.id))}")
    await messages.delete(newest.id)
    after = await conversations.get(conversation.id)
    out(f"after:  {_counters(after)}")
    fallback = after.last_message_at == before_last.created_at
    out(f"{newest.content!r} deleted; last_message_at is {before_last.content!r}'s: {fallback}")

    out("\n== Deleting Ada: what would go (a preview, rolled back), then the delete ==")
    await build_conversation(db, ben)
    would = await preview(db, lambda conn: UserRepository(conn).delete(ada.id))
    out("preview: " + ", ".join(f"{t} {n}" for t, n in sorted(would.deleted.items())))
    async with db.connection() as conn, track(conn) as changes:
        await UserRepository(conn).delete(ada.id)
    out("what the database cascaded (pg_stat_xact_user_tables):")
    out(changes_table(changes))
    out("Ada's rows left: " + await lookups.rows_of_user(ada.id))
    out("Ben's rows left: " + await lookups.rows_of_user(ben.id))
