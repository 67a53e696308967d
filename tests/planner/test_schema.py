"""The planner schema as the catalog sees it: every FK and its ON DELETE rule, the
indexes that cover them, the unique and check rules, the ownership trigger."""

import pytest

from domain_checks import foreign_keys

pytestmark = pytest.mark.asyncio


async def test_foreign_keys_and_their_on_delete_rules(tether_db):
    found = await foreign_keys(tether_db, "planner")
    assert found == {
        "subjects_student_id_fkey": (
            "planner.subjects",
            ("student_id",),
            "planner.users",
            "cascade",
        ),
        "plans_user_id_fkey": ("planner.plans", ("user_id",), "planner.users", "cascade"),
        # Composite with the task's user (tenancy): a task's plan and subject are its own
        # user's, whoever writes the row.
        "ai_tasks_plan_id_fkey": (
            "planner.ai_tasks",
            ("plan_id", "user_id"),
            "planner.plans",
            "cascade",
        ),
        "ai_tasks_subject_id_fkey": (
            "planner.ai_tasks",
            ("subject_id", "user_id"),
            "planner.subjects",
            "cascade",
        ),
        "feedback_user_id_fkey": ("planner.feedback", ("user_id",), "planner.users", "cascade"),
    }


async def test_feedback_generation_is_not_a_foreign_key(tether_db):
    referencing = await tether_db.pool.fetchval(
        """
        select count(*) from pg_constraint c
        join pg_attribute a on a.attrelid = c.conrelid and a.attnum = any(c.conkey)
        where c.contype = 'f' and c.conrelid = 'planner.feedback'::regclass
          and a.attname = 'generation_id'
        """
    )
    assert referencing == 0


async def test_unique_rules_and_the_case_insensitive_email(tether_db):
    rows = await tether_db.pool.fetch(
        """
        select ic.relname, pg_get_indexdef(i.indexrelid) as definition
        from pg_index i join pg_class ic on ic.oid = i.indexrelid
        where i.indisunique and not i.indisprimary
          and ic.relnamespace = 'planner'::regnamespace
        """
    )
    definitions = {r["relname"]: r["definition"] for r in rows}
    assert set(definitions) == {
        "users_email_key",
        "subjects_student_id_name_key",
        "plans_user_id_generation_id_date_key",
        "uc_user_generation_feedback",
        "plans_id_user_id_key",
        "subjects_id_student_id_key",
    }
    assert "lower(email)" in definitions["users_email_key"]
    assert definitions["uc_user_generation_feedback"].endswith("(user_id, generation_id)")
    assert definitions["plans_user_id_generation_id_date_key"].endswith(
        "(user_id, generation_id, date)"
    )


async def test_check_rules_exist_by_name(tether_db):
    names = {
        r["conname"]
        for r in await tether_db.pool.fetch(
            "select conname from pg_constraint "
            "where contype = 'c' and connamespace = 'planner'::regnamespace"
        )
    }
    assert names == {
        "users_email_check",
        "users_name_check",
        "subjects_name_check",
        "ai_tasks_ai_task_name_check",
        "ai_tasks_difficulty_check",
        "ai_tasks_priority_check",
        "feedback_content_check",
    }


async def test_ownership_is_guarded_by_triggers_with_a_pinned_search_path(tether_db):
    triggers = await tether_db.pool.fetch(
        """
        select t.tgname, t.tgrelid::regclass::text as tbl, t.tgconstraint <> 0 as is_constraint,
               p.proconfig
        from pg_trigger t join pg_proc p on p.oid = t.tgfoid
        where not t.tgisinternal and p.pronamespace = 'planner'::regnamespace
        """
    )
    found = {r["tgname"]: (r["tbl"], r["is_constraint"]) for r in triggers}
    assert found == {
        "ai_tasks_tenant": ("planner.ai_tasks", False),
        "plans_owner_fixed": ("planner.plans", False),
        "subjects_owner_fixed": ("planner.subjects", False),
    }
    assert all(r["proconfig"] == ["search_path=pg_catalog, pg_temp"] for r in triggers)


async def test_keys_and_timestamps_follow_the_conventions(tether_db):
    columns = await tether_db.pool.fetch(
        """
        select table_name, column_name, data_type, is_identity, identity_generation,
               column_default, is_nullable
        from information_schema.columns where table_schema = 'planner'
        """
    )
    by_name = {(c["table_name"], c["column_name"]): c for c in columns}
    for table in ("users", "subjects", "plans", "ai_tasks", "feedback"):
        key = by_name[(table, "id")]
        assert (key["data_type"], key["identity_generation"]) == ("bigint", "ALWAYS")
        created = by_name[(table, "created_at")]
        assert created["data_type"] == "timestamp with time zone"
        assert created["column_default"] == "now()"
        assert created["is_nullable"] == "NO"
    assert by_name[("plans", "generation_id")]["data_type"] == "uuid"
    assert by_name[("feedback", "generation_id")]["data_type"] == "uuid"
    assert by_name[("users", "name")]["is_nullable"] == "YES"
