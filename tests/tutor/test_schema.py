"""The tutor schema as the catalog sees it: every FK and its ON DELETE rule, the indexes
that cover them (no duplicates), the unique and check rules, the triggers, the types."""

import pytest

from domain_checks import foreign_keys

pytestmark = pytest.mark.asyncio


async def test_foreign_keys_and_their_on_delete_rules(tether_db):
    found = await foreign_keys(tether_db, "tutor")
    assert found == {
        "courses_professor_id_fkey": (
            "tutor.courses",
            ("professor_id",),
            "tutor.users",
            "cascade",
        ),
        "weeks_course_id_fkey": ("tutor.weeks", ("course_id",), "tutor.courses", "cascade"),
        "readings_week_id_fkey": (
            "tutor.readings",
            ("week_id", "course_id"),
            "tutor.weeks",
            "cascade",
        ),
        "jobs_week_id_fkey": ("tutor.jobs", ("week_id", "course_id"), "tutor.weeks", "set null"),
        "chunks_reading_id_fkey": (
            "tutor.chunks",
            ("reading_id", "course_id"),
            "tutor.readings",
            "cascade",
        ),
        "summaries_week_id_fkey": (
            "tutor.summaries",
            ("week_id", "course_id"),
            "tutor.weeks",
            "cascade",
        ),
        "summaries_created_by_id_fkey": (
            "tutor.summaries",
            ("created_by_id",),
            "tutor.users",
            "cascade",
        ),
        "conversations_user_id_fkey": (
            "tutor.conversations",
            ("user_id",),
            "tutor.users",
            "cascade",
        ),
        "conversations_week_id_fkey": (
            "tutor.conversations",
            ("week_id", "course_id"),
            "tutor.weeks",
            "cascade",
        ),
        "audio_blobs_conversation_id_fkey": (
            "tutor.audio_blobs",
            ("conversation_id", "course_id"),
            "tutor.conversations",
            "cascade",
        ),
    }


async def test_the_indexes_are_these_and_none_twice(tether_db):
    """The seed declared several indexes twice (index=True and an Index() on the same
    column); here each exists once, and no index is a prefix of another on the same table."""
    rows = await tether_db.pool.fetch(
        """
        select ic.relname, i.indrelid::regclass::text as tbl, pg_get_indexdef(i.indexrelid) as def
        from pg_index i join pg_class ic on ic.oid = i.indexrelid
        where ic.relnamespace = 'tutor'::regnamespace and not i.indisprimary
        """
    )
    definitions = {r["relname"]: r["def"].partition(" USING ")[2] for r in rows}
    assert definitions == {
        "users_email_key": "btree (lower(email))",
        "courses_code_key": "btree (code)",
        "courses_professor_id_idx": "btree (professor_id)",
        "uq_weeks_course_number": "btree (course_id, number)",
        "weeks_id_course_id_key": "btree (id, course_id)",
        "readings_id_course_id_key": "btree (id, course_id)",
        "readings_week_id_course_id_idx": "btree (week_id, course_id)",
        "jobs_week_id_course_id_idx": "btree (week_id, course_id)",
        "jobs_status_kind_idx": "btree (status, kind)",
        "jobs_pending_order_idx": (
            "btree (priority DESC, run_at, id) WHERE (status = 'pending'::text)"
        ),
        "jobs_dedup_key": (
            "btree (kind, dedup_key, course_id) NULLS NOT DISTINCT WHERE ((dedup_key IS NOT NULL) "
            "AND (status = ANY (ARRAY['pending'::text, 'running'::text])))"
        ),
        "jobs_lease_idx": "btree (lease_expires_at) WHERE (status = 'running'::text)",
        "chunks_reading_id_idx_key": "btree (reading_id, idx)",
        "chunks_reading_id_course_id_idx": "btree (reading_id, course_id)",
        "summaries_week_id_course_id_idx": "btree (week_id, course_id)",
        "summaries_created_by_id_idx": "btree (created_by_id)",
        "conversations_session_id_key": "btree (session_id)",
        "conversations_user_id_idx": "btree (user_id)",
        "conversations_id_course_id_key": "btree (id, course_id)",
        "conversations_week_id_course_id_idx": "btree (week_id, course_id)",
        "audio_blobs_conversation_id_id_idx": "btree (conversation_id, id)",
        "audio_blobs_conversation_id_course_id_idx": "btree (conversation_id, course_id)",
    }
    unique = {
        r["relname"]
        for r in await tether_db.pool.fetch(
            "select ic.relname from pg_index i join pg_class ic on ic.oid = i.indexrelid "
            "where i.indisunique and not i.indisprimary "
            "and ic.relnamespace = 'tutor'::regnamespace"
        )
    }
    assert unique == {
        "users_email_key",
        "jobs_dedup_key",
        "courses_code_key",
        "uq_weeks_course_number",
        "chunks_reading_id_idx_key",
        "conversations_session_id_key",
        "weeks_id_course_id_key",
        "readings_id_course_id_key",
        "conversations_id_course_id_key",
    }


async def test_check_rules_exist_by_name(tether_db):
    rows = await tether_db.pool.fetch(
        "select conname, pg_get_constraintdef(oid) as def from pg_constraint "
        "where contype = 'c' and connamespace = 'tutor'::regnamespace"
    )
    checks = {r["conname"]: r["def"] for r in rows}
    assert set(checks) == {
        "users_email_check",
        "users_name_check",
        "users_role_check",
        "courses_name_check",
        "courses_code_check",
        "weeks_number_check",
        "weeks_title_check",
        "readings_filename_check",
        "readings_file_path_check",
        "jobs_kind_check",
        "jobs_status_check",
        "jobs_progress_check",
        "jobs_attempt_check",
        "jobs_lease_check",
        "jobs_max_attempts_check",
        "jobs_backoff_check",
        "jobs_dedup_key_check",
        "jobs_errors_check",
        "jobs_cancel_reason_check",
        "chunks_idx_check",
        "summaries_content_check",
        "conversations_session_id_check",
        "conversations_duration_seconds_check",
        "conversations_ended_at_check",
        "conversations_ended_check",
        "conversations_duration_agrees_check",
        "audio_blobs_blob_data_check",
        "audio_blobs_duration_ms_check",
    }
    assert "255" in checks["courses_name_check"] and "64" in checks["courses_code_check"]
    assert "512" in checks["readings_filename_check"]
    assert "1024" in checks["readings_file_path_check"]
    assert "255" in checks["conversations_session_id_check"]
    assert "ended_at >= started_at" in checks["conversations_ended_at_check"]


async def test_triggers_keep_updated_at_and_a_conversations_end(tether_db):
    triggers = await tether_db.pool.fetch(
        """
        select t.tgname, t.tgrelid::regclass::text as tbl, p.proname, p.proconfig
        from pg_trigger t join pg_proc p on p.oid = t.tgfoid
        where not t.tgisinternal and p.pronamespace = 'tutor'::regnamespace
        """
    )
    found = {r["tgname"]: (r["tbl"], r["proname"]) for r in triggers}
    assert found == {
        "jobs_set_updated_at": ("tutor.jobs", "set_updated_at"),
        "summaries_set_updated_at": ("tutor.summaries", "set_updated_at"),
        "conversations_ended_once": ("tutor.conversations", "forbid_reopen"),
        # Tenancy: an insert that leaves course_id out gets its parent's.
        "readings_tenant": ("tutor.readings", "readings_tenant"),
        "jobs_tenant": ("tutor.jobs", "jobs_tenant"),
        "chunks_tenant": ("tutor.chunks", "chunks_tenant"),
        "summaries_tenant": ("tutor.summaries", "summaries_tenant"),
        "conversations_tenant": ("tutor.conversations", "conversations_tenant"),
        "audio_blobs_tenant": ("tutor.audio_blobs", "audio_blobs_tenant"),
    }
    assert all(r["proconfig"] == ["search_path=pg_catalog, pg_temp"] for r in triggers)


async def test_keys_types_and_defaults_follow_the_conventions(tether_db):
    columns = await tether_db.pool.fetch(
        """
        select table_name, column_name, data_type, identity_generation,
               column_default, is_nullable
        from information_schema.columns where table_schema = 'tutor'
        """
    )
    by_name = {(c["table_name"], c["column_name"]): c for c in columns}
    tables = {t for t, _ in by_name}
    assert tables == {
        "users",
        "courses",
        "weeks",
        "readings",
        "jobs",
        "chunks",
        "summaries",
        "conversations",
        "audio_blobs",
    }
    for table in tables:
        key = by_name[(table, "id")]
        assert (key["data_type"], key["identity_generation"]) == ("bigint", "ALWAYS")
    stamps = [key for key, c in by_name.items() if c["data_type"].startswith("timestamp")]
    for key in stamps:
        column = by_name[key]
        assert column["data_type"] == "timestamp with time zone", key
        if key not in {("conversations", "ended_at"), ("jobs", "lease_expires_at")}:
            assert column["column_default"] == "now()", key
            assert column["is_nullable"] == "NO", key
    assert by_name[("audio_blobs", "blob_data")]["data_type"] == "bytea"
    assert by_name[("audio_blobs", "recorded_at")]["column_default"] == "now()"
    assert by_name[("chunks", "meta")]["data_type"] == "jsonb"
    assert by_name[("jobs", "status")]["column_default"] == "'pending'::text"
    assert by_name[("jobs", "progress")]["column_default"] == "0"
    assert by_name[("users", "role")]["column_default"] == "'student'::text"
    for nullable in (("weeks", "title"), ("jobs", "week_id"), ("jobs", "error")):
        assert by_name[nullable]["is_nullable"] == "YES", nullable
    # The columns beyond the SPEC all have defaults: an insert naming only the SPEC's works.
    for extra in (("jobs", "payload"), ("jobs", "attempt")):
        assert by_name[extra]["column_default"] is not None, extra
    storage = await tether_db.pool.fetchval(
        "select attstorage::text from pg_attribute "
        "where attrelid = 'tutor.audio_blobs'::regclass and attname = 'blob_data'"
    )
    assert storage == "e"  # external: out of line, never compressed (audio is already)
