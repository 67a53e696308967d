"""The chat schema as the catalog sees it: FKs and their ON DELETE rules, the indexes
that cover them and serve the pages, the GIN index that finds a refresh token, the
check rules, and the triggers that keep the counters, each with a pinned search_path."""

import pytest

from domain_checks import foreign_keys

pytestmark = pytest.mark.asyncio


async def test_foreign_keys_and_their_on_delete_rules(tether_db):
    found = await foreign_keys(tether_db, "chat")
    assert found == {
        "conversations_user_id_fkey": (
            "chat.conversations",
            ("user_id",),
            "chat.users",
            "cascade",
        ),
        # Composite with the message's user (tenancy): a message's conversation is its
        # own user's, whoever writes the row.
        "messages_conversation_id_fkey": (
            "chat.messages",
            ("conversation_id", "user_id"),
            "chat.conversations",
            "cascade",
        ),
    }


async def test_indexes_their_columns_and_methods(tether_db):
    rows = await tether_db.pool.fetch(
        """
        select ic.relname, am.amname, i.indisunique, pg_get_indexdef(i.indexrelid) as definition
        from pg_index i
        join pg_class ic on ic.oid = i.indexrelid
        join pg_am am on am.oid = ic.relam
        where ic.relnamespace = 'chat'::regnamespace
        """
    )
    found = {r["relname"]: (r["amname"], r["indisunique"], r["definition"]) for r in rows}
    assert set(found) == {
        "users_pkey",
        "users_email_key",
        "users_refresh_tokens_idx",
        "users_oauth_identity_key",  # chat_0005: one user per (provider, subject)
        "conversations_pkey",
        "conversations_user_id_created_at_id_idx",
        "conversations_id_user_id_key",
        "messages_pkey",
        "messages_conversation_id_created_at_id_idx",
        "messages_conversation_id_user_id_idx",
    }
    method, unique, definition = found["users_email_key"]
    assert (method, unique) == ("btree", True) and "(lower(email))" in definition
    method, unique, definition = found["users_oauth_identity_key"]
    assert (method, unique) == ("btree", True)
    assert definition.endswith("(oauth_provider, oauth_subject)")
    method, unique, definition = found["users_refresh_tokens_idx"]
    assert (method, unique) == ("gin", False)
    assert definition.endswith("(refresh_tokens jsonb_path_ops)")
    assert found["conversations_user_id_created_at_id_idx"][2].endswith(
        "btree (user_id, created_at, id)"
    )
    # The SPEC's index (conversation_id, created_at), with id as the keyset's tiebreak.
    assert found["messages_conversation_id_created_at_id_idx"][2].endswith(
        "btree (conversation_id, created_at, id)"
    )


async def test_check_rules_by_name_and_what_they_hold(tether_db):
    rows = await tether_db.pool.fetch(
        "select conname, pg_get_constraintdef(oid) as definition from pg_constraint "
        "where contype = 'c' and connamespace = 'chat'::regnamespace"
    )
    checks = {r["conname"]: r["definition"] for r in rows}
    assert set(checks) == {
        "users_email_check",
        "users_hashed_password_check",
        "users_name_check",
        "users_role_check",
        "users_refresh_tokens_check",
        "users_oauth_identity_check",
        "conversations_title_check",
        "conversations_messages_count_check",
        "conversations_last_message_at_check",
        "messages_sender_check",
        "messages_status_check",
        "messages_metadata_check",
    }
    assert "length(email) <= 256" in checks["users_email_check"]
    assert "length(name) <= 256" in checks["users_name_check"]
    assert "length(title) <= 512" in checks["conversations_title_check"]
    assert "messages_count >= 0" in checks["conversations_messages_count_check"]
    for rule, words in (
        ("users_role_check", ("'user'", "'admin'")),
        ("messages_sender_check", ("'user'", "'assistant'")),
        ("messages_status_check", ("'sending'", "'streaming'", "'sent'", "'failed'")),
    ):
        assert all(word in checks[rule] for word in words), checks[rule]
    assert "jsonb_typeof(metadata) = 'object'" in checks["messages_metadata_check"]
    assert "refresh_tokens_are_valid(refresh_tokens)" in checks["users_refresh_tokens_check"]
    # chat_0004/0005: a PHC string only, validated (no NOT VALID left).
    assert "scrypt|pbkdf2-sha256" in checks["users_hashed_password_check"]
    assert "NOT VALID" not in " ".join(checks.values())


async def test_columns_keys_defaults_and_nullability(tether_db):
    columns = await tether_db.pool.fetch(
        """
        select table_name, column_name, data_type, column_default, is_nullable
        from information_schema.columns where table_schema = 'chat'
        order by table_name, ordinal_position
        """
    )
    by_table: dict[str, list[str]] = {}
    for c in columns:
        by_table.setdefault(c["table_name"], []).append(c["column_name"])
    assert by_table == {
        "users": [
            "id",
            "email",
            "hashed_password",
            "name",
            "role",
            "refresh_tokens",
            "created_at",
            # chat_0004: OAuth identities, with defaults so SPEC inserts still work.
            "email_verified",
            "oauth_provider",
            "oauth_subject",
        ],
        "conversations": [
            "id",
            "user_id",
            "title",
            "messages_count",
            "created_at",
            "last_message_at",
        ],
        "messages": [
            "id",
            "conversation_id",
            "sender",
            "content",
            "status",
            "metadata",
            "created_at",
            "user_id",  # the tenant key (chat_0002_tenancy), NOT NULL, the conversation's
        ],
    }
    by_name = {(c["table_name"], c["column_name"]): c for c in columns}
    for table in by_table:
        key = by_name[(table, "id")]
        assert (key["data_type"], key["column_default"]) == ("uuid", "gen_random_uuid()")
        created = by_name[(table, "created_at")]
        assert (created["data_type"], created["column_default"], created["is_nullable"]) == (
            "timestamp with time zone",
            "now()",
            "NO",
        )
    defaults = {
        ("users", "role"): "'user'::text",
        ("users", "refresh_tokens"): "'[]'::jsonb",
        ("users", "email_verified"): "false",
        ("conversations", "messages_count"): "0",
        ("messages", "status"): "'sent'::text",
        ("messages", "metadata"): "'{}'::jsonb",
    }
    for column, default in defaults.items():
        assert by_name[column]["column_default"] == default, column
    nullable = {name for name, c in by_name.items() if c["is_nullable"] == "YES"}
    assert nullable == {
        ("users", "hashed_password"),
        ("users", "name"),
        ("users", "oauth_provider"),
        ("users", "oauth_subject"),
        ("conversations", "title"),
        ("conversations", "last_message_at"),
    }


async def test_the_counters_and_guards_are_triggers_with_a_pinned_search_path(tether_db):
    triggers = await tether_db.pool.fetch(
        """
        select t.tgname, t.tgrelid::regclass::text as tbl, pg_get_triggerdef(t.oid) as definition
        from pg_trigger t
        where not t.tgisinternal and t.tgrelid::regclass::text like 'chat.%'
        """
    )
    found = {r["tgname"]: r["tbl"] for r in triggers}
    assert found == {
        "messages_count_inserted": "chat.messages",
        "messages_count_deleted": "chat.messages",
        "messages_count_truncated": "chat.messages",
        "messages_placement_fixed": "chat.messages",
        "messages_status_transition_check": "chat.messages",
        "messages_tenant": "chat.messages",
        "conversations_counters_kept_on_insert": "chat.conversations",
        "conversations_counters_kept_on_update": "chat.conversations",
    }
    definitions = {r["tgname"]: r["definition"] for r in triggers}
    # One UPDATE per conversation per statement, whatever the number of rows.
    assert (
        "REFERENCING NEW TABLE AS inserted_messages FOR EACH STATEMENT"
        in (definitions["messages_count_inserted"])
    )
    assert (
        "REFERENCING OLD TABLE AS deleted_messages FOR EACH STATEMENT"
        in (definitions["messages_count_deleted"])
    )
    configs = await tether_db.pool.fetch(
        "select proname, proconfig from pg_proc where pronamespace = 'chat'::regnamespace"
    )
    assert len(configs) == 12
    assert all(r["proconfig"] == ["search_path=pg_catalog, pg_temp"] for r in configs), configs
