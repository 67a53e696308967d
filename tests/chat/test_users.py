"""Users: password and OAuth sign-ups, e-mail unique in any case, the password hash kept
out of every repr and error, every refused write a tether error naming table and rule,
and the cascade user -> conversations -> messages counted by PostgreSQL."""

import uuid

import asyncpg
import pytest

from tether import Conflict, InvalidValue, MissingReference, NotFound
from tether.chat import (
    ConversationRepository,
    EmailTaken,
    MessageRepository,
    RefreshTokenRepository,
    UserRepository,
)
from tether.chat.story import PASSWORD, build_conversation
from tether.passwords import MIN_COST, hash_password, verify_password
from tether.testing import expect_changes

from .conftest import counts

# Tests hash at the cheapest cost (2^10): what is stored is the same PHC format.
HASH = hash_password("a password", cost=MIN_COST)
# Ids the same in every xdist worker for parameters made from HASH (it has a random salt).
FIXED_IDS = {
    HASH: "phc-hash",
    HASH.rsplit("$", 1)[0]: "phc-without-its-hash",
    HASH + " ": "phc-with-a-space",
}


async def test_password_and_oauth_users(tether_db, people):
    ada, ben = people
    assert (ada.email, ada.name, ada.role, ada.has_password) == (
        "Ada.Lovelace@example.com",
        "Ada",
        "user",
        True,
    )
    assert (ben.hashed_password, ben.has_password) == (None, False)
    stored = await tether_db.pool.fetchval(
        "select hashed_password from chat.users where id = $1", ada.id
    )
    assert stored == ada.hashed_password and stored.startswith("$scrypt$ln=10,r=8,p=1$")
    assert verify_password(PASSWORD, stored)
    assert not verify_password("wrong", stored)
    assert await UserRepository(tether_db).get(ben.id) == ben


async def test_the_password_hash_is_in_no_repr(people):
    ada, _ = people
    assert ada.hashed_password not in repr(ada)
    assert "hashed_password" not in repr(ada)


async def test_emails_are_unique_whatever_their_case_and_never_echoed(tether_db, people):
    ada, _ = people
    users = UserRepository(tether_db)
    with pytest.raises(EmailTaken) as refused:
        await users.sign_in_oauth("github", "1", "ADA.lovelace@Example.COM", email_verified=False)
    assert isinstance(refused.value, Conflict)
    assert (refused.value.table, refused.value.constraint) == ("chat.users", "users_email_key")
    message = str(refused.value)
    assert "already exists" in message and "lovelace" not in message.lower()
    assert await users.find_by_email("ada.LOVELACE@example.com") == ada
    assert await users.find_by_email("nobody@example.com") is None
    assert (await counts(tether_db))["users"] == 2


@pytest.mark.parametrize(
    ("email", "hashed_password", "name", "role", "constraint"),
    [
        ("not-an-address", HASH, None, "user", "users_email_check"),
        ("a@" + "b" * 255, HASH, None, "user", "users_email_check"),
        ("a@b.io", HASH, "n" * 257, "user", "users_name_check"),
        ("a@b.io", HASH, None, "root", "users_role_check"),
        ("a@b.io", "hunter2", None, "user", "users_hashed_password_check"),
        ("a@b.io", "a password with spaces in it", None, "user", "users_hashed_password_check"),
        ("a@b.io", "é" * 30, None, "user", "users_hashed_password_check"),
        ("a@b.io", "x" * 513, None, "user", "users_hashed_password_check"),
        # Long plaintexts, which the printable-ASCII check of chat_0001 let through.
        (
            "a@b.io",
            "correct-horse-battery-staple-2026",
            None,
            "user",
            "users_hashed_password_check",
        ),
        ("a@b.io", "P" * 200, None, "user", "users_hashed_password_check"),
        ("a@b.io", "$scrypt$" + "x" * 40, None, "user", "users_hashed_password_check"),
        ("a@b.io", "$md5$salt1234$" + "A" * 22, None, "user", "users_hashed_password_check"),
        ("a@b.io", HASH.rsplit("$", 1)[0], None, "user", "users_hashed_password_check"),
        ("a@b.io", HASH + " ", None, "user", "users_hashed_password_check"),
        ("a@b.io", "$2b$12$" + "a" * 53, None, "user", "users_hashed_password_check"),
    ],
    # Ids the same in every xdist worker: HASH has a random salt.
    ids=lambda value: FIXED_IDS.get(value) if isinstance(value, str) else None,
)
async def test_bad_users_are_invalid_values(
    tether_db, email, hashed_password, name, role, constraint
):
    with pytest.raises(InvalidValue) as refused:
        await UserRepository(tether_db).create_with_password(email, hashed_password, name, role)
    assert (refused.value.table, refused.value.constraint) == ("chat.users", constraint)
    # The server's DETAIL ("Failing row contains ...") holds the hash: tether never repeats it.
    said = " ".join([str(refused.value), repr(refused.value), *map(str, refused.value.args)])
    assert hashed_password not in said and "Failing row" not in said
    assert (await counts(tether_db))["users"] == 0


async def test_lengths_at_the_limit_are_stored(tether_db):
    email = "a" * 120 + "@" + "b" * 135
    user = await UserRepository(tether_db).create_with_password(email, HASH, "n" * 256, "admin")
    assert (len(user.email), len(user.name), user.role) == (256, 256, "admin")


async def test_a_password_user_needs_a_hash(tether_db):
    with pytest.raises(InvalidValue, match="sign_in_oauth"):
        await UserRepository(tether_db).create_with_password("a@b.io", None)
    assert (await counts(tether_db))["users"] == 0


async def test_changing_the_password_revokes_every_refresh_token(tether_db, people, key):
    ada, _ = people
    tokens = RefreshTokenRepository(tether_db, key)
    first, second = await tokens.issue(ada.id), await tokens.issue(ada.id)
    new_hash = hash_password("a new password", cost=MIN_COST)
    changed = await UserRepository(tether_db).change_password(ada.id, new_hash)
    assert changed.hashed_password == new_hash
    assert await tokens.rotate(first.token) is None
    assert await tokens.rotate(second.token) is None
    assert await tokens.active(ada.id) == []
    with pytest.raises(NotFound, match=r"chat\.users"):
        await UserRepository(tether_db).change_password(uuid.uuid4(), HASH)


async def test_get_a_missing_user_is_not_found(tether_db):
    with pytest.raises(NotFound, match=r"chat\.users"):
        await UserRepository(tether_db).get(uuid.uuid4())


async def test_deleting_a_user_cascades_to_conversations_and_messages(tether_db, people):
    ada, ben = people
    await build_conversation(tether_db, ada)
    await build_conversation(tether_db, ada)
    await build_conversation(tether_db, ben)
    assert await counts(tether_db) == {"users": 2, "conversations": 3, "messages": 6}
    async with (
        tether_db.connection() as conn,
        expect_changes(
            conn,
            deleted={"chat.users": 1, "chat.conversations": 2, "chat.messages": 4},
            updated={},
        ),
    ):
        assert await UserRepository(conn).delete(ada.id)
    assert await counts(tether_db) == {"users": 1, "conversations": 1, "messages": 2}
    assert not await UserRepository(tether_db).delete(ada.id)
    [left] = (await ConversationRepository(tether_db).page_of_user(ben.id)).items
    assert left.messages_count == 2


async def test_a_conversation_for_a_missing_user_is_a_missing_reference(tether_db):
    with pytest.raises(MissingReference) as refused:
        await ConversationRepository(tether_db).create(uuid.uuid4(), "x")
    assert refused.value.constraint == "conversations_user_id_fkey"
    assert "the conversation's user must exist" in str(refused.value)


async def test_repositories_join_the_callers_transaction(tether_db, people):
    ada, ben = people
    before = await counts(tether_db)

    async def change_of_mind():
        async with tether_db.transaction() as conn:
            conversation = await ConversationRepository(conn).create(ada.id, "draft")
            await MessageRepository(conn).append(conversation.id, "user", "hello")
            await UserRepository(conn).delete(ben.id)
            raise RuntimeError("the caller changes its mind")

    with pytest.raises(RuntimeError):
        await change_of_mind()
    assert await counts(tether_db) == before
    async with tether_db.transaction() as conn:
        conversation = await ConversationRepository(conn).create(ada.id, "kept")
        await MessageRepository(conn).append(conversation.id, "user", "hello")
    assert await counts(tether_db) == {**before, "conversations": 1, "messages": 1}


async def test_an_oauth_identity_is_found_by_provider_and_subject_not_by_email(tether_db, people):
    _, ben = people
    users = UserRepository(tether_db)
    # Ben's identity again, with another e-mail at the provider: still Ben.
    again = await users.sign_in_oauth(
        "google", "109876543210", "b@else.example", email_verified=True
    )
    assert again.id == ben.id
    # Another subject claiming Ben's e-mail, unverified: no takeover, a refused write.
    with pytest.raises(EmailTaken):
        await users.sign_in_oauth("github", "evil", "ben@example.com", email_verified=False)
    assert (await counts(tether_db))["users"] == 2


async def test_a_password_account_links_only_on_a_verified_email(tether_db, people, key):
    ada, _ = people
    users = UserRepository(tether_db)
    sessions = RefreshTokenRepository(tether_db, key)
    await sessions.issue(ada.id)
    with pytest.raises(EmailTaken):
        await users.sign_in_oauth("google", "ada-g", ada.email, email_verified=False)
    assert (await users.get(ada.id)).oauth_provider is None
    # Pre-takeover: the password was set by someone who never proved the address; the
    # verified identity takes the account, the password and its sessions go.
    linked = await users.sign_in_oauth("google", "ada-g", ada.email.upper(), email_verified=True)
    assert (linked.id, linked.oauth_provider, linked.oauth_subject) == (ada.id, "google", "ada-g")
    assert (linked.email_verified, linked.hashed_password) == (True, None)
    assert await sessions.active(ada.id) == []
    assert (await counts(tether_db))["users"] == 2


async def test_a_verified_password_account_keeps_its_password_when_linked(tether_db, people):
    ada, _ = people
    users = UserRepository(tether_db)
    assert (await users.verify_email(ada.id)).email_verified
    linked = await users.sign_in_oauth("google", "ada-g", ada.email, email_verified=True)
    assert linked.id == ada.id and linked.hashed_password == ada.hashed_password
    # An account already linked is not linked again to another identity by e-mail.
    with pytest.raises(EmailTaken):
        await users.sign_in_oauth("apple", "ada-a", ada.email, email_verified=True)


async def test_an_identity_is_one_users(tether_db, people):
    ada, _ = people
    with pytest.raises(asyncpg.UniqueViolationError) as refused:
        await tether_db.pool.execute(
            "update chat.users set oauth_provider = 'google', oauth_subject = '109876543210'"
            " where id = $1",
            ada.id,
        )
    assert refused.value.constraint_name == "users_oauth_identity_key"
