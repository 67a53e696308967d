"""The chat domain's entry in the reliability suite (see tests/reliability/model.py):
every method that takes text or JSON, the SQL that counts a user's rows, and the
refresh tokens that must never be stored in clear."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from attrs import frozen
from hypothesis import strategies as st

from reliability.model import EMAILS, HASHES, JSON_OBJECTS, Domain, Secret, TextInput
from tether import Database, paging
from tether.chat import (
    ConversationRepository,
    MessageRepository,
    RefreshTokenRepository,
    TokenKey,
    UserRepository,
)
from tether.passwords import MIN_COST, hash_password

HASH = hash_password("owner's password", cost=MIN_COST)
# A page's cursor (created_at, id), or none for the first page.
CURSORS = st.none() | st.builds(
    lambda at, key: paging.encode([at, key]),
    st.datetimes(min_value=dt.datetime(2000, 1, 1), timezones=st.just(dt.UTC)),
    st.uuids(),
)


@frozen
class Owner:
    """The rows every text input hangs off: a user with a refresh token, a conversation
    and a reply still streaming in it; and the key the user's tokens are hashed with."""

    user_id: uuid.UUID
    conversation_id: uuid.UUID
    streaming_id: uuid.UUID
    key: TokenKey


async def make_owner(db: Database, email: str = "owner@example.com") -> Owner:
    user = await UserRepository(db).create_with_password(email, HASH, "Owner")
    key = TokenKey.generate()
    await RefreshTokenRepository(db, key).issue(user.id)
    conversation = await ConversationRepository(db).create(user.id, "Owner's conversation")
    streaming = await MessageRepository(db).append(
        conversation.id, "assistant", "", status="streaming"
    )
    return Owner(user.id, conversation.id, streaming.id, key)


async def _email(db: Database, owner: Owner, value: Any) -> uuid.UUID:
    return (await UserRepository(db).create_with_password(value, HASH)).id


async def _hashed_password(db: Database, owner: Owner, value: Any) -> uuid.UUID:
    return (await UserRepository(db).create_with_password("hostile@example.com", value)).id


async def _name(db: Database, owner: Owner, value: Any) -> uuid.UUID:
    return (
        await UserRepository(db).sign_in_oauth(
            "test", "hostile", "hostile@example.com", email_verified=False, name=value
        )
    ).id


async def _role(db: Database, owner: Owner, value: Any) -> uuid.UUID:
    return (
        await UserRepository(db).create_with_password("hostile@example.com", HASH, "Hostile", value)
    ).id


async def _find_by_email(db: Database, owner: Owner, value: Any) -> None:
    await UserRepository(db).find_by_email(value)


async def _new_password(db: Database, owner: Owner, value: Any) -> uuid.UUID:
    return (await UserRepository(db).change_password(owner.user_id, value)).id


async def _rotate(db: Database, owner: Owner, value: Any) -> None:
    await RefreshTokenRepository(db, owner.key).rotate(value)


async def _revoke(db: Database, owner: Owner, value: Any) -> None:
    await RefreshTokenRepository(db, owner.key).revoke(value)


async def _title(db: Database, owner: Owner, value: Any) -> uuid.UUID:
    return (await ConversationRepository(db).create(owner.user_id, value)).id


async def _rename(db: Database, owner: Owner, value: Any) -> uuid.UUID:
    return (await ConversationRepository(db).rename(owner.conversation_id, value)).id


async def _conversations_after(db: Database, owner: Owner, value: Any) -> None:
    await ConversationRepository(db).page_of_user(owner.user_id, after=value)


async def _content(db: Database, owner: Owner, value: Any) -> uuid.UUID:
    return (await MessageRepository(db).append(owner.conversation_id, "user", value)).id


async def _sender(db: Database, owner: Owner, value: Any) -> uuid.UUID:
    return (await MessageRepository(db).append(owner.conversation_id, value, "x")).id


async def _status(db: Database, owner: Owner, value: Any) -> uuid.UUID:
    messages = MessageRepository(db)
    return (await messages.append(owner.conversation_id, "user", "x", status=value)).id


async def _metadata(db: Database, owner: Owner, value: Any) -> uuid.UUID:
    messages = MessageRepository(db)
    return (await messages.append(owner.conversation_id, "user", "x", metadata=value)).id


async def _chunk(db: Database, owner: Owner, value: Any) -> uuid.UUID:
    await MessageRepository(db).append_chunk(owner.streaming_id, value)
    return owner.streaming_id


async def _finish_status(db: Database, owner: Owner, value: Any) -> uuid.UUID:
    await MessageRepository(db).finish(owner.streaming_id, value)
    return owner.streaming_id


async def _finish_metadata(db: Database, owner: Owner, value: Any) -> uuid.UUID:
    await MessageRepository(db).finish(owner.streaming_id, "sent", value)
    return owner.streaming_id


async def _messages_after(db: Database, owner: Owner, value: Any) -> None:
    await MessageRepository(db).page_of_conversation(owner.conversation_id, after=value)


async def _issued_token(db: Database) -> str:
    user = await UserRepository(db).sign_in_oauth(
        "test", "secret", "secret@example.com", email_verified=False
    )
    return (await RefreshTokenRepository(db, TokenKey.generate()).issue(user.id)).token


async def _rotated_token(db: Database) -> str:
    user = await UserRepository(db).sign_in_oauth(
        "test", "secret", "secret@example.com", email_verified=False
    )
    tokens = RefreshTokenRepository(db, TokenKey.generate())
    rotated = await tokens.rotate((await tokens.issue(user.id)).token)
    assert rotated is not None
    return rotated.token


DOMAIN = Domain(
    schema="chat",
    make_owner=make_owner,
    text_inputs=(
        TextInput(
            "chat.users.email",
            _email,
            "select array[email] from chat.users where id = $1",
            1,
            valid=EMAILS,
        ),
        TextInput(
            "chat.users.hashed_password",
            _hashed_password,
            "select array[hashed_password] from chat.users where id = $1",
            1,
            valid=HASHES,
        ),
        TextInput("chat.users.name", _name, "select array[name] from chat.users where id = $1", 1),
        TextInput(
            "chat.users.role",
            _role,
            "select array[role] from chat.users where id = $1",
            1,
            valid=st.sampled_from(["user", "admin"]),
        ),
        TextInput("chat.users.find_by_email", _find_by_email, None, 0, valid=EMAILS),
        TextInput(
            "chat.users.change_password",
            _new_password,
            "select array[hashed_password] from chat.users where id = $1",
            0,
            valid=HASHES,
        ),
        TextInput("chat.users.refresh_tokens.rotate", _rotate, None, 0),
        TextInput("chat.users.refresh_tokens.revoke", _revoke, None, 0),
        TextInput(
            "chat.conversations.title",
            _title,
            "select array[title] from chat.conversations where id = $1",
            1,
        ),
        TextInput(
            "chat.conversations.rename",
            _rename,
            "select array[title] from chat.conversations where id = $1",
            0,
        ),
        TextInput("chat.conversations.page.after", _conversations_after, None, 0, valid=CURSORS),
        TextInput(
            "chat.messages.content",
            _content,
            "select array[content] from chat.messages where id = $1",
            1,
        ),
        TextInput(
            "chat.messages.sender",
            _sender,
            "select array[sender] from chat.messages where id = $1",
            1,
            valid=st.sampled_from(["user", "assistant"]),
        ),
        TextInput(
            "chat.messages.status",
            _status,
            "select array[status] from chat.messages where id = $1",
            1,
            valid=st.sampled_from(["sending", "streaming", "sent", "failed"]),
        ),
        # JSON: the suite's own connection reads jsonb as text, so only what a success
        # adds is checked here; tests/chat/test_messages.py reads metadata back.
        TextInput("chat.messages.metadata", _metadata, None, 1, valid=JSON_OBJECTS),
        TextInput(
            "chat.messages.append_chunk",
            _chunk,
            "select array[content] from chat.messages where id = $1",  # it started empty
            0,
        ),
        TextInput(
            "chat.messages.finish.status",
            _finish_status,
            "select array[status] from chat.messages where id = $1",
            0,
            valid=st.sampled_from(["sent", "failed"]),
        ),
        TextInput("chat.messages.finish.metadata", _finish_metadata, None, 0, valid=JSON_OBJECTS),
        TextInput("chat.messages.page.after", _messages_after, None, 0, valid=CURSORS),
    ),
    rows_of_owner="""
        select 'chat.users' as table_name, count(*) from chat.users where id = $1
        union all
        select 'chat.conversations', count(*) from chat.conversations where user_id = $1
        union all
        select 'chat.messages', count(*) from chat.messages m
        join chat.conversations c on c.id = m.conversation_id
        where c.user_id = $1
    """,
    secrets=(
        Secret("refresh token, issued", _issued_token),
        Secret("refresh token, rotated", _rotated_token),
    ),
)
