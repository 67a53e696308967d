"""The chat domain's scenarios, each written once per contender.

F runs the query object's own `.sql` (exactly what tether sends, with the same
token hashing) and keeps the raw Records; L calls the repository method a service
would call; O1 and O2 use a session per operation on their one connection, O1
mapped and written as the seed would, O2 tuned.
"""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, func, insert, select, update

from tether.chat import (
    DEFAULT_FAMILY_LIFETIME,
    DEFAULT_REUSE_GRACE,
    DEFAULT_TOKEN_TTL,
    ConversationRepository,
    MessageRepository,
    RefreshTokenRepository,
    TokenKey,
    UserRepository,
)
from tether.chat.repositories import Q
from tether.chat.tokens import new_token

from ..harness import Connections, Orm, Scenario
from . import fixtures
from .fixtures import B
from .orm import mapped

# The seed's mapping (O1) and the tuned one (O2), by `Orm.tuned`.
MODELS = {False: mapped(passive_deletes=False), True: mapped(passive_deletes=True)}
CONTENDERS = ("floor", "tether", "orm", "orm_tuned")
# Every contender hashes refresh tokens with the same key.
KEY = TokenKey.generate()


class ChatScenario(Scenario):
    def __init__(self, connections: Connections) -> None:
        super().__init__(connections)
        self.users = UserRepository(connections.tether)
        self.conversations = ConversationRepository(connections.tether)
        self.messages = MessageRepository(connections.tether)
        self.tokens = RefreshTokenRepository(connections.tether, KEY)


class FindUserByEmail(ChatScenario):
    name = "find_user_by_email"
    what = "sign-in: find a user by e-mail address, in any case"

    def __init__(self, connections: Connections, emails: Sequence[str]) -> None:
        super().__init__(connections)
        self.emails = [email.upper() for email in emails]

    async def argument(self, contender: str, number: int) -> str:
        return self.emails[number % len(self.emails)]

    async def floor(self, email: str) -> object:
        return await self.db.floor.fetchrow(Q.find_user_by_email.sql, email)

    async def tether(self, email: str) -> object:
        return await self.users.find_by_email(email)

    async def orm(self, orm: Orm, email: str) -> object:
        User = MODELS[orm.tuned].User
        async with orm.session() as session:
            found = await session.scalars(
                select(User).where(func.lower(User.email) == email.lower())
            )
            return found.one_or_none()


class ConversationsPage(ChatScenario):
    name = "conversations_page"
    what = "a user's 20 newest conversations (of 30), newest first"

    def __init__(self, connections: Connections, user_ids: Sequence[uuid.UUID]) -> None:
        super().__init__(connections)
        self.user_ids = user_ids

    async def argument(self, contender: str, number: int) -> uuid.UUID:
        return self.user_ids[number % len(self.user_ids)]

    def tenant(self, user_id: uuid.UUID) -> uuid.UUID:
        return user_id

    async def floor(self, user_id: uuid.UUID) -> object:
        return await self.db.floor.fetch(Q.conversations_page.sql, user_id, None, None, 21)

    async def tether(self, user_id: uuid.UUID) -> object:
        return await self.conversations.page_of_user(user_id, limit=20)

    async def orm(self, orm: Orm, user_id: uuid.UUID) -> object:
        Conversation = MODELS[orm.tuned].Conversation
        query = (
            select(Conversation)
            .where(Conversation.user_id == user_id)
            .order_by(Conversation.created_at.desc(), Conversation.id.desc())
            .limit(20)
        )
        async with orm.session() as session:
            return (await session.scalars(query)).all()


class OneOwner(ChatScenario):
    """Works on conversations of one user, the tenant of every operation."""

    owner: uuid.UUID

    def tenant(self, argument: object) -> uuid.UUID:
        return self.owner


class MessagesPage(OneOwner):
    name = "messages_page"
    what = "the first 50 messages of a conversation, in order"

    def __init__(
        self, connections: Connections, conversation_ids: Sequence[uuid.UUID], owner: uuid.UUID
    ) -> None:
        super().__init__(connections)
        self.conversation_ids = conversation_ids
        self.owner = owner

    async def argument(self, contender: str, number: int) -> uuid.UUID:
        return self.conversation_ids[number % len(self.conversation_ids)]

    async def floor(self, conversation_id: uuid.UUID) -> object:
        return await self.db.floor.fetch(Q.messages_page.sql, conversation_id, None, None, 51)

    async def tether(self, conversation_id: uuid.UUID) -> object:
        return await self.messages.page_of_conversation(conversation_id, limit=50)

    async def orm(self, orm: Orm, conversation_id: uuid.UUID) -> object:
        Message = MODELS[orm.tuned].Message
        query = (
            select(Message)
            .where(Message.conversation_id == conversation_id)
            .order_by(Message.created_at, Message.id)
            .limit(50)
        )
        async with orm.session() as session:
            return (await session.scalars(query)).all()


class AppendMessage(OneOwner):
    """Each contender appends to a conversation of its own, which grows over the run:
    the database counts every message into it (the ORM never touches the counters)."""

    name = "append_message"
    what = "append a message to a conversation (counted by the triggers), in its own transaction"

    def __init__(
        self, connections: Connections, targets: dict[str, uuid.UUID], owner: uuid.UUID
    ) -> None:
        super().__init__(connections)
        self.targets = targets
        self.owner = owner

    async def argument(self, contender: str, number: int) -> tuple[uuid.UUID, str]:
        return self.targets[contender], f"message {number}: how long should I rest after a run?"

    async def floor(self, argument: tuple[uuid.UUID, str]) -> object:
        conversation_id, content = argument
        return await self.db.floor.fetchrow(
            Q.insert_message.sql, conversation_id, "user", content, "sent", {}
        )

    async def tether(self, argument: tuple[uuid.UUID, str]) -> object:
        conversation_id, content = argument
        return await self.messages.append(conversation_id, "user", content)

    async def orm(self, orm: Orm, argument: tuple[uuid.UUID, str]) -> object:
        conversation_id, content = argument
        Message = MODELS[orm.tuned].Message
        async with orm.session() as session:
            message = Message(conversation_id=conversation_id, sender="user", content=content)
            session.add(message)
            await session.commit()
            return message

    async def orm_tuned(self, orm: Orm, argument: tuple[uuid.UUID, str]) -> object:
        conversation_id, content = argument
        Message = MODELS[orm.tuned].Message
        async with orm.session() as session:
            message = await session.scalar(
                insert(Message).returning(Message),
                [{"conversation_id": conversation_id, "sender": "user", "content": content}],
            )
            await session.commit()
            return message


CHUNK = "a streamed chunk of about forty characters "


class StreamChunk(OneOwner):
    """Each contender streams into replies of its own, a chunk per operation."""

    name = "stream_chunk"
    what = "append one streamed chunk to a reply's content"

    def __init__(
        self, connections: Connections, replies: dict[str, list[uuid.UUID]], owner: uuid.UUID
    ) -> None:
        super().__init__(connections)
        self.replies = replies
        self.owner = owner

    async def argument(self, contender: str, number: int) -> uuid.UUID:
        replies = self.replies[contender]
        return replies[number % len(replies)]

    async def floor(self, message_id: uuid.UUID) -> object:
        return await self.db.floor.execute(Q.append_chunk.sql, message_id, CHUNK)

    async def tether(self, message_id: uuid.UUID) -> object:
        return await self.messages.append_chunk(message_id, CHUNK)

    async def orm(self, orm: Orm, message_id: uuid.UUID) -> object:
        """As a seed service would: load the message, add the chunk, commit."""
        async with orm.session() as session:
            message = await session.get(MODELS[orm.tuned].Message, message_id)
            assert message is not None
            assert message.status == "streaming"
            message.content += CHUNK
            await session.commit()
            return message

    async def orm_tuned(self, orm: Orm, message_id: uuid.UUID) -> object:
        Message = MODELS[orm.tuned].Message
        async with orm.session() as session:
            done = await session.execute(
                update(Message)
                .where(Message.id == message_id, Message.status == "streaming")
                .values(content=Message.content + CHUNK)
            )
            await session.commit()
            return done


def _successor(old: dict[str, Any], token_hash: str, now: dt.datetime) -> dict[str, Any]:
    """The entry of `old`'s successor, in the shape tether writes (same family)."""
    family_end = dt.datetime.fromisoformat(old["family_issued_at"]) + DEFAULT_FAMILY_LIFETIME
    return {
        **old,
        "hash": token_hash,
        "key_id": KEY.key_id,
        "issued_at": now.isoformat(),
        "expires_at": min(now + DEFAULT_TOKEN_TTL, family_end).isoformat(),
        "spent_at": None,
        "replaced_by": None,
        "retried": False,
    }


class RotateToken(ChatScenario):
    """Verify a refresh token and replace it. Each operation rotates a token issued
    (untimed) just before, for one of the contender's users. The ORM contenders, like
    a seed service, are given the user's id (from the expired access token) and edit
    the JSON list in Python; the seed's way lets two rotations of one token both win,
    O2 locks the row (SELECT ... FOR UPDATE)."""

    name = "rotate_token"
    what = "refresh: verify a refresh token and rotate it"

    def __init__(self, connections: Connections, users: dict[str, list[uuid.UUID]]) -> None:
        super().__init__(connections)
        self.user_ids = users
        self.issuer = RefreshTokenRepository(connections.setup, KEY)

    async def argument(self, contender: str, number: int) -> tuple[uuid.UUID, str]:
        users = self.user_ids[contender]
        issued = await self.issuer.issue(users[number % len(users)])
        return issued.user_id, issued.token

    async def floor(self, argument: tuple[uuid.UUID, str]) -> object:
        _, token = argument
        row = await self.db.floor.fetchrow(
            Q.rotate_refresh_token.sql,
            *Q.rotate_refresh_token.args(
                {
                    "old_hashes": [KEY.hash(token)],
                    "new_hash": KEY.hash(new_token()),
                    "key_id": KEY.key_id,
                    "ttl": DEFAULT_TOKEN_TTL,
                    "lifetime": DEFAULT_FAMILY_LIFETIME,
                    "grace": DEFAULT_REUSE_GRACE,
                }
            ),
        )
        assert row is not None
        return row

    async def tether(self, argument: tuple[uuid.UUID, str]) -> object:
        _, token = argument
        rotated = await self.tokens.rotate(token)
        assert rotated is not None
        return rotated

    async def _rotate(self, orm: Orm, argument: tuple[uuid.UUID, str], *, lock: bool) -> object:
        user_id, token = argument
        old, now = KEY.hash(token), dt.datetime.now(dt.UTC)
        async with orm.session() as session:
            user = await session.get(MODELS[orm.tuned].User, user_id, with_for_update=lock)
            assert user is not None
            unexpired = [
                entry
                for entry in user.refresh_tokens
                if dt.datetime.fromisoformat(entry["expires_at"]) > now
            ]
            [presented] = [e for e in unexpired if e["hash"] == old and e["spent_at"] is None]
            fresh = KEY.hash(new_token())
            spent = {**presented, "spent_at": now.isoformat(), "replaced_by": fresh}
            others = [entry for entry in unexpired if entry["hash"] != old]
            kept_spent = [e for e in [*others, spent] if e["spent_at"] is not None][-40:]
            kept_live = [e for e in others if e["spent_at"] is None][-19:]
            user.refresh_tokens = [*kept_spent, *kept_live, _successor(presented, fresh, now)]
            await session.commit()
            return fresh

    async def orm(self, orm: Orm, argument: tuple[uuid.UUID, str]) -> object:
        return await self._rotate(orm, argument, lock=False)

    async def orm_tuned(self, orm: Orm, argument: tuple[uuid.UUID, str]) -> object:
        return await self._rotate(orm, argument, lock=True)


class DeleteConversation(OneOwner):
    """Delete a conversation of many messages, re-created (untimed) before each run."""

    name = "delete_conversation"
    heavy = True

    _numbers = itertools.count()

    def __init__(self, connections: Connections, owner: uuid.UUID, messages: int) -> None:
        super().__init__(connections)
        self.owner = owner
        self.size = messages
        self.what = f"delete a conversation with {messages:,} messages (cascade)"

    async def argument(self, contender: str, number: int) -> uuid.UUID:
        [[conversation_id]] = (
            await fixtures.conversations(self.db.setup, [self.owner], 1)
        ).values()
        await fixtures.messages(self.db.setup, conversation_id, self.size)
        return conversation_id

    async def clean(self, conversation_id: uuid.UUID) -> None:
        exists = await self.db.setup.fetchval(B.conversation_exists.sql, conversation_id)
        assert exists is False, "not deleted"
        await self.db.setup.execute(B.vacuum_chat.sql)

    async def floor(self, conversation_id: uuid.UUID) -> object:
        return await self.db.floor.execute(Q.delete_conversation.sql, conversation_id)

    async def tether(self, conversation_id: uuid.UUID) -> object:
        return await self.conversations.delete(conversation_id)

    async def orm(self, orm: Orm, conversation_id: uuid.UUID) -> object:
        """The seed's cascade: the ORM loads every message and deletes each by key."""
        models = MODELS[orm.tuned]
        async with orm.session() as session:
            conversation = await session.get(models.Conversation, conversation_id)
            await session.delete(conversation)
            await session.commit()
        return conversation

    async def orm_tuned(self, orm: Orm, conversation_id: uuid.UUID) -> object:
        """passive_deletes: one DELETE of the conversation, the database cascades."""
        Conversation = MODELS[orm.tuned].Conversation
        async with orm.session() as session:
            done = await session.execute(
                delete(Conversation).where(Conversation.id == conversation_id)
            )
            await session.commit()
        return done


def per_contender(made: Any) -> dict[str, Any]:
    """One of `made` per contender, by key."""
    return dict(zip(CONTENDERS, made, strict=True))
