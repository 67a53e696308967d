"""The chat domain's repositories: one method per use case, one statement per method.

Each works on a `Database`, a pool, or a connection inside the caller's
transaction. Integrity is the database's: messages_count and last_message_at are
kept by triggers (these methods never touch them), cascades delete children, and
every refresh-token operation is one UPDATE of the user's row (tether.chat.tokens).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from tether import queries
from tether.chat.records import (
    Conversation,
    Message,
    MessageStatus,
    Role,
    Sender,
    User,
)
from tether.errors import InvalidValue
from tether.paging import Page
from tether.repository import Repository

Q = queries.load("chat")

# The keyset of each page query: the cursor carries these fields of a page's last row.
PAGE_KEY = ("created_at", "id")


def _metadata(metadata: Mapping[str, Any] | None) -> Any:
    """Metadata to send: {} for none; anything else goes as given, for the database
    to judge (messages_metadata_check refuses what is not a JSON object)."""
    return {} if metadata is None else metadata


def _check_final(status: MessageStatus) -> None:
    if status not in (MessageStatus.SENT, MessageStatus.FAILED):
        raise InvalidValue(
            "chat.messages: a message finishes as sent or failed", table="chat.messages"
        )


class UserRepository(Repository):
    INSERT_USER = Q.insert_user.returning(User)
    GET_USER = Q.get_user.returning(User)
    FIND_USER_BY_EMAIL = Q.find_user_by_email.returning(User)
    SIGN_IN_OAUTH = Q.sign_in_oauth.returning(User)
    VERIFY_EMAIL = Q.verify_email.returning(User)
    CHANGE_PASSWORD = Q.change_password.returning(User)
    DELETE_USER = Q.delete_user

    async def create_with_password(
        self,
        email: str,
        hashed_password: str,
        name: str | None = None,
        role: Role = Role.USER,
    ) -> User:
        """A user who signs in with a password, of which tether stores the hash the
        service computed; EmailTaken if the address is taken, whatever its case."""
        if hashed_password is None:
            raise InvalidValue(
                "chat.users: a password user needs a password hash (sign_in_oauth makes a "
                "user without one)",
                table="chat.users",
            )
        return await self._returning(
            self.INSERT_USER, email=email, hashed_password=hashed_password, name=name, role=role
        )

    async def sign_in_oauth(
        self,
        provider: str,
        subject: str,
        email: str,
        *,
        email_verified: bool,
        name: str | None = None,
    ) -> User:
        """The user of the OAuth identity (`provider`, `subject`: the user's id at the
        provider, never the e-mail), in one statement: the user linked to it; else, if
        the provider says `email_verified`, the unlinked account with that e-mail, now
        linked (an account whose own address was unverified loses its password and
        sessions: who set them never proved the address); else a new user. An
        unverified e-mail never links: EmailTaken if the address is taken."""
        return await self._returning(
            self.SIGN_IN_OAUTH,
            provider=provider,
            subject=subject,
            email=email,
            email_verified=email_verified,
            name=name,
        )

    async def verify_email(self, user_id: uuid.UUID) -> User:
        """Record that the user proved their address (the service's link was followed)."""
        return await self._get(self.VERIFY_EMAIL, "chat.users", id=user_id)

    async def get(self, user_id: uuid.UUID) -> User:
        return await self._get(self.GET_USER, "chat.users", id=user_id)

    async def find_by_email(self, email: str) -> User | None:
        """The user with this e-mail address in any case (sign-in), or None."""
        return await self._one(self.FIND_USER_BY_EMAIL, email=email)

    async def change_password(self, user_id: uuid.UUID, hashed_password: str | None) -> User:
        """Store a new password hash (None: OAuth only) and, in the same statement,
        revoke every refresh token of the user."""
        return await self._get(
            self.CHANGE_PASSWORD, "chat.users", id=user_id, hashed_password=hashed_password
        )

    async def delete(self, user_id: uuid.UUID) -> bool:
        """Delete a user and, by cascade, their conversations and messages."""
        return await self._execrows(self.DELETE_USER, id=user_id) > 0


class ConversationRepository(Repository):
    INSERT_CONVERSATION = Q.insert_conversation.returning(Conversation)
    GET_CONVERSATION = Q.get_conversation.returning(Conversation)
    CONVERSATIONS_PAGE = Q.conversations_page.returning(Conversation)
    RENAME_CONVERSATION = Q.rename_conversation.returning(Conversation)
    DELETE_CONVERSATION = Q.delete_conversation
    GET_OWNED_CONVERSATION = Q.get_owned_conversation.returning(Conversation)
    RENAME_OWNED_CONVERSATION = Q.rename_owned_conversation.returning(Conversation)
    DELETE_OWNED_CONVERSATION = Q.delete_owned_conversation

    async def create(self, user_id: uuid.UUID, title: str | None = None) -> Conversation:
        """A new conversation of the user; MissingReference if there is no such user."""
        return await self._returning(self.INSERT_CONVERSATION, user_id=user_id, title=title)

    async def get(self, conversation_id: uuid.UUID) -> Conversation:
        """The conversation with its exact messages_count and last_message_at, and its
        owner (for the service's access check)."""
        return await self._get(self.GET_CONVERSATION, "chat.conversations", id=conversation_id)

    async def page_of_user(
        self, user_id: uuid.UUID, *, limit: int = 20, after: str | None = None
    ) -> Page[Conversation]:
        """The user's conversations newest first, `limit` at a time: pass the page's
        `next` as `after` for the one that follows. Conversations created between two
        requests land before the first page, never repeating or hiding a row."""
        return await self._page(
            self.CONVERSATIONS_PAGE, key=PAGE_KEY, limit=limit, after=after, user_id=user_id
        )

    async def rename(self, conversation_id: uuid.UUID, title: str | None) -> Conversation:
        return await self._get(
            self.RENAME_CONVERSATION, "chat.conversations", id=conversation_id, title=title
        )

    async def delete(self, conversation_id: uuid.UUID) -> bool:
        """Delete a conversation and, by cascade, its messages."""
        return await self._execrows(self.DELETE_CONVERSATION, id=conversation_id) > 0

    # The owner-scoped forms, what a request of a signed-in user calls: another user's
    # conversation is NotFound or False, as one that does not exist.

    async def get_owned(self, user_id: uuid.UUID, conversation_id: uuid.UUID) -> Conversation:
        """`get`, of a conversation of `user_id` only."""
        return await self._get(
            self.GET_OWNED_CONVERSATION, "chat.conversations", id=conversation_id, user_id=user_id
        )

    async def rename_owned(
        self, user_id: uuid.UUID, conversation_id: uuid.UUID, title: str | None
    ) -> Conversation:
        """`rename`, of a conversation of `user_id` only."""
        return await self._get(
            self.RENAME_OWNED_CONVERSATION,
            "chat.conversations",
            id=conversation_id,
            user_id=user_id,
            title=title,
        )

    async def delete_owned(self, user_id: uuid.UUID, conversation_id: uuid.UUID) -> bool:
        """`delete`, of a conversation of `user_id` only."""
        deleted = await self._execrows(
            self.DELETE_OWNED_CONVERSATION, id=conversation_id, user_id=user_id
        )
        return deleted > 0


class MessageRepository(Repository):
    INSERT_MESSAGE = Q.insert_message.returning(Message)
    GET_MESSAGE = Q.get_message.returning(Message)
    APPEND_CHUNK = Q.append_chunk
    FINISH_MESSAGE = Q.finish_message.returning(Message)
    MESSAGES_PAGE = Q.messages_page.returning(Message)
    DELETE_MESSAGE = Q.delete_message
    INSERT_OWNED_MESSAGE = Q.insert_owned_message.returning(Message)
    GET_OWNED_MESSAGE = Q.get_owned_message.returning(Message)
    APPEND_OWNED_CHUNK = Q.append_owned_chunk
    FINISH_OWNED_MESSAGE = Q.finish_owned_message.returning(Message)
    OWNED_MESSAGES_PAGE = Q.owned_messages_page.returning(Message)
    DELETE_OWNED_MESSAGE = Q.delete_owned_message

    async def append(
        self,
        conversation_id: uuid.UUID,
        sender: Sender,
        content: str,
        *,
        status: MessageStatus = MessageStatus.SENT,
        metadata: Mapping[str, Any] | None = None,
    ) -> Message:
        """Append a message (status `streaming` and empty content to start a streamed
        reply); the database counts it into its conversation."""
        return await self._returning(
            self.INSERT_MESSAGE,
            conversation_id=conversation_id,
            sender=sender,
            content=content,
            status=status,
            metadata=_metadata(metadata),
        )

    async def get(self, message_id: uuid.UUID) -> Message:
        return await self._get(self.GET_MESSAGE, "chat.messages", id=message_id)

    async def append_chunk(self, message_id: uuid.UUID, chunk: str) -> bool:
        """Append a streamed chunk to the message's content, in the database (one
        statement per chunk). False when the message is not streaming (finished,
        failed, deleted): the stream should stop."""
        return await self._execrows(self.APPEND_CHUNK, id=message_id, chunk=chunk) > 0

    async def finish(
        self,
        message_id: uuid.UUID,
        status: MessageStatus = MessageStatus.SENT,
        metadata: Mapping[str, Any] | None = None,
    ) -> Message | None:
        """End a message being sent or streamed as `sent` or `failed`, merging
        `metadata` into its own; None when it was not being sent or streamed."""
        _check_final(status)
        return await self._one(
            self.FINISH_MESSAGE, id=message_id, status=status, metadata=_metadata(metadata)
        )

    async def page_of_conversation(
        self, conversation_id: uuid.UUID, *, limit: int = 50, after: str | None = None
    ) -> Page[Message]:
        """The conversation's messages in order, oldest first, `limit` at a time: pass
        the page's `next` as `after` for the one that follows."""
        return await self._page(
            self.MESSAGES_PAGE,
            key=PAGE_KEY,
            limit=limit,
            after=after,
            conversation_id=conversation_id,
        )

    async def delete(self, message_id: uuid.UUID) -> bool:
        """Delete a message; the database takes it out of its conversation's counters."""
        return await self._execrows(self.DELETE_MESSAGE, id=message_id) > 0

    # The owner-scoped forms, what a request of a signed-in user calls: a message or
    # conversation of another user is NotFound, None, False, an empty page, or (to
    # append) a MissingReference, as one that does not exist.

    async def append_owned(
        self,
        user_id: uuid.UUID,
        conversation_id: uuid.UUID,
        sender: Sender,
        content: str,
        *,
        status: MessageStatus = MessageStatus.SENT,
        metadata: Mapping[str, Any] | None = None,
    ) -> Message:
        """`append`, to a conversation of `user_id` only (the foreign key
        (conversation_id, user_id) refuses another user's)."""
        return await self._returning(
            self.INSERT_OWNED_MESSAGE,
            conversation_id=conversation_id,
            user_id=user_id,
            sender=sender,
            content=content,
            status=status,
            metadata=_metadata(metadata),
        )

    async def get_owned(self, user_id: uuid.UUID, message_id: uuid.UUID) -> Message:
        """`get`, of a message of `user_id` only."""
        return await self._get(
            self.GET_OWNED_MESSAGE, "chat.messages", id=message_id, user_id=user_id
        )

    async def append_chunk_owned(
        self, user_id: uuid.UUID, message_id: uuid.UUID, chunk: str
    ) -> bool:
        """`append_chunk`, to a message of `user_id` only."""
        appended = await self._execrows(
            self.APPEND_OWNED_CHUNK, id=message_id, user_id=user_id, chunk=chunk
        )
        return appended > 0

    async def finish_owned(
        self,
        user_id: uuid.UUID,
        message_id: uuid.UUID,
        status: MessageStatus = MessageStatus.SENT,
        metadata: Mapping[str, Any] | None = None,
    ) -> Message | None:
        """`finish`, of a message of `user_id` only."""
        _check_final(status)
        return await self._one(
            self.FINISH_OWNED_MESSAGE,
            id=message_id,
            user_id=user_id,
            status=status,
            metadata=_metadata(metadata),
        )

    async def page_owned(
        self,
        user_id: uuid.UUID,
        conversation_id: uuid.UUID,
        *,
        limit: int = 50,
        after: str | None = None,
    ) -> Page[Message]:
        """`page_of_conversation`, of a conversation of `user_id` only."""
        return await self._page(
            self.OWNED_MESSAGES_PAGE,
            key=PAGE_KEY,
            limit=limit,
            after=after,
            conversation_id=conversation_id,
            user_id=user_id,
        )

    async def delete_owned(self, user_id: uuid.UUID, message_id: uuid.UUID) -> bool:
        """`delete`, of a message of `user_id` only."""
        return await self._execrows(self.DELETE_OWNED_MESSAGE, id=message_id, user_id=user_id) > 0
