"""The tickets schema as the catalog sees it: every FK with its columns and ON DELETE rule
(composite same-session references, SET NULL of one column), the indexes behind them,
the unique and check rules, the triggers and their pinned search_path, the keys and
timestamps of the conventions."""

import pytest

from domain_checks import ON_DELETE

pytestmark = pytest.mark.asyncio


async def test_foreign_keys_and_their_on_delete_rules(tether_db):
    rows = await tether_db.pool.fetch(
        """
        select c.conname, c.conrelid::regclass::text as child,
               c.confrelid::regclass::text as parent, c.confdeltype::text,
               array(select a.attname from unnest(c.conkey) with ordinality k(n, i)
                     join pg_attribute a on a.attrelid = c.conrelid and a.attnum = k.n
                     order by k.i) as columns,
               array(select a.attname from unnest(c.confkey) with ordinality k(n, i)
                     join pg_attribute a on a.attrelid = c.confrelid and a.attnum = k.n
                     order by k.i) as parent_columns,
               array(select a.attname from unnest(c.confdelsetcols) k(n)
                     join pg_attribute a on a.attrelid = c.conrelid and a.attnum = k.n)
                   as set_null_columns
        from pg_constraint c
        where c.contype = 'f' and c.connamespace = 'tickets'::regnamespace
        """
    )
    found = {
        r["conname"]: (
            r["child"].removeprefix("tickets."),
            tuple(r["columns"]),
            r["parent"].removeprefix("tickets."),
            tuple(r["parent_columns"]),
            ON_DELETE[r["confdeltype"]],
            tuple(r["set_null_columns"]),
        )
        for r in rows
    }
    session = ("session_id",)
    assert found == {
        "session_tasks_session_id_fkey": (
            "session_tasks",
            session,
            "sessions",
            ("id",),
            "cascade",
            (),
        ),
        "session_validations_session_id_fkey": (
            "session_validations",
            session,
            "sessions",
            ("id",),
            "cascade",
            (),
        ),
        "uploaded_files_session_id_fkey": (
            "uploaded_files",
            session,
            "sessions",
            ("id",),
            "cascade",
            (),
        ),
        "tickets_session_id_fkey": ("tickets", session, "sessions", ("id",), "cascade", ()),
        "ticket_dependencies_ticket_id_fkey": (
            "ticket_dependencies",
            ("session_id", "ticket_id"),
            "tickets",
            ("session_id", "id"),
            "cascade",
            (),
        ),
        "ticket_dependencies_depends_on_ticket_id_fkey": (
            "ticket_dependencies",
            ("session_id", "depends_on_ticket_id"),
            "tickets",
            ("session_id", "id"),
            "cascade",
            (),
        ),
        "attachments_session_id_fkey": ("attachments", session, "sessions", ("id",), "cascade", ()),
        "attachments_ticket_id_fkey": (
            "attachments",
            ("session_id", "ticket_id"),
            "tickets",
            ("session_id", "id"),
            "cascade",
            (),
        ),
        "jira_project_context_session_id_fkey": (
            "jira_project_context",
            session,
            "sessions",
            ("id",),
            "cascade",
            (),
        ),
        "session_errors_session_id_fkey": (
            "session_errors",
            session,
            "sessions",
            ("id",),
            "cascade",
            (),
        ),
        # Only the reference is cleared: the error keeps its session.
        "session_errors_related_file_id_fkey": (
            "session_errors",
            ("session_id", "related_file_id"),
            "uploaded_files",
            ("session_id", "id"),
            "set null",
            ("related_file_id",),
        ),
        "session_errors_related_ticket_id_fkey": (
            "session_errors",
            ("session_id", "related_ticket_id"),
            "tickets",
            ("session_id", "id"),
            "set null",
            ("related_ticket_id",),
        ),
        "audit_log_session_id_fkey": ("audit_log", session, "sessions", ("id",), "set null", ()),
    }


async def test_no_circular_reference_between_tickets_and_attachments(tether_db):
    """The 1:1 is held by attachments.ticket_id alone: tickets refer to no attachment."""
    referencing = await tether_db.pool.fetchval(
        "select count(*) from pg_constraint where contype = 'f' "
        "and conrelid = 'tickets.tickets'::regclass"
    )
    assert referencing == 1  # tickets_session_id_fkey only
    assert (
        await tether_db.pool.fetchval(
            "select count(*) from pg_constraint where contype = 'f' "
            "and connamespace = 'tickets'::regnamespace "
            "and conrelid = 'tickets.jira_auth_tokens'::regclass"
        )
        == 0
    )  # standalone


async def test_unique_rules(tether_db):
    rows = await tether_db.pool.fetch(
        """
        select ic.relname, pg_get_indexdef(i.indexrelid) as definition
        from pg_index i join pg_class ic on ic.oid = i.indexrelid
        where i.indisunique and not i.indisprimary
          and ic.relnamespace = 'tickets'::regnamespace
        """
    )
    definitions = {r["relname"]: r["definition"].partition(" USING btree ")[2] for r in rows}
    assert definitions == {
        "session_tasks_session_id_key": "(session_id)",
        "session_validations_session_id_key": "(session_id)",
        "uploaded_files_session_id_id_key": "(session_id, id)",
        "tickets_session_id_id_key": "(session_id, id)",
        "tickets_jira_key_key": "(jira_key)",  # NULLs are distinct: unique when set
        "attachments_ticket_id_key": "(ticket_id)",
    }
    keys = await tether_db.pool.fetch(
        """
        select c.conrelid::regclass::text as tbl, pg_get_constraintdef(c.oid) as definition
        from pg_constraint c
        where c.contype = 'p' and c.connamespace = 'tickets'::regnamespace
        """
    )
    primary = {r["tbl"].removeprefix("tickets."): r["definition"] for r in keys}
    assert primary["ticket_dependencies"] == "PRIMARY KEY (ticket_id, depends_on_ticket_id)"
    assert primary["jira_auth_tokens"] == "PRIMARY KEY (jira_user_id)"
    assert primary["jira_project_context"] == "PRIMARY KEY (session_id)"


async def test_check_rules_on_every_enumerated_and_bounded_column(tether_db):
    rows = await tether_db.pool.fetch(
        "select conname, pg_get_constraintdef(oid) as definition from pg_constraint "
        "where contype = 'c' and connamespace = 'tickets'::regnamespace"
    )
    checks = {r["conname"]: r["definition"] for r in rows}
    for name, words in {
        "sessions_status_check": ("'active'", "'exported'", "'archived'"),
        "session_tasks_status_check": ("'pending'", "'running'", "'completed'", "'failed'"),
        "session_tasks_progress_check": ("progress >= 0", "progress <= 100"),
        "tickets_issue_type_check": ("'Epic'", "'Story'", "'Task'", "'Bug'", "'Subtask'"),
        "tickets_priority_check": ("'Highest'", "'High'", "'Medium'", "'Low'", "'Lowest'"),
        "tickets_story_points_check": ("story_points >= (0)",),
        "uploaded_files_size_bytes_check": ("size_bytes >= 0",),
        "ticket_dependencies_no_self_check": ("ticket_id <> depends_on_ticket_id",),
        "jira_auth_tokens_jira_user_id_check": ("length(jira_user_id) <= 255",),
        "session_validations_errors_check": ("'array'",),
        "session_errors_details_check": ("'object'",),
        "audit_log_details_check": ("'object'",),
    }.items():
        assert all(word in checks[name] for word in words), (name, checks[name])


async def test_triggers_pin_their_search_path(tether_db):
    triggers = await tether_db.pool.fetch(
        """
        select t.tgname, t.tgrelid::regclass::text as tbl, p.proconfig
        from pg_trigger t join pg_proc p on p.oid = t.tgfoid
        where not t.tgisinternal and p.pronamespace = 'tickets'::regnamespace
        """
    )
    assert {r["tgname"]: r["tbl"].removeprefix("tickets.") for r in triggers} == {
        "sessions_touch_updated_at": "sessions",
        "session_tasks_touch_updated_at": "session_tasks",
        "tickets_touch_updated_at": "tickets",
        "jira_auth_tokens_touch_updated_at": "jira_auth_tokens",
        "jira_auth_tokens_version_grows": "jira_auth_tokens",
        "ticket_dependencies_fill_session": "ticket_dependencies",
        "ticket_dependencies_no_cycle_on_insert": "ticket_dependencies",
        "ticket_dependencies_no_cycle_on_update": "ticket_dependencies",
        "audit_log_record_session": "audit_log",
        "audit_log_append_only": "audit_log",
        "audit_log_no_truncate": "audit_log",
    }
    assert all(r["proconfig"] == ["search_path=pg_catalog, pg_temp"] for r in triggers)


async def test_keys_and_timestamps_follow_the_conventions(tether_db):
    columns = await tether_db.pool.fetch(
        """
        select table_name, column_name, data_type, identity_generation, column_default,
               is_nullable
        from information_schema.columns where table_schema = 'tickets'
        """
    )
    by_name = {(c["table_name"], c["column_name"]): c for c in columns}
    for table in (
        "sessions",
        "session_tasks",
        "session_validations",
        "uploaded_files",
        "tickets",
        "attachments",
        "session_errors",
    ):
        key = by_name[(table, "id")]
        assert (key["data_type"], key["column_default"]) == ("uuid", "gen_random_uuid()"), table
    audit = by_name[("audit_log", "id")]
    assert (audit["data_type"], audit["identity_generation"]) == ("bigint", "ALWAYS")
    stamps = [
        (table, column)
        for table, column in by_name
        if column.endswith("_at") and column != "expires_at"
    ]
    assert len(stamps) == 14
    for stamp in stamps:
        column = by_name[stamp]
        assert column["data_type"] == "timestamp with time zone", stamp
        assert (column["column_default"], column["is_nullable"]) == ("now()", "NO"), stamp
    assert by_name[("jira_auth_tokens", "access_token")]["data_type"] == "bytea"
    assert by_name[("jira_auth_tokens", "scopes")]["data_type"] == "ARRAY"


async def test_columns_beyond_the_spec_have_defaults(tether_db):
    """An insert naming only the SPEC's columns still works: each added column has a
    default, a trigger that fills it, or may be NULL."""
    async with tether_db.connection() as conn:
        session = await conn.fetchval("insert into tickets.sessions default values returning id")
        first, second = [
            await conn.fetchval(
                "insert into tickets.tickets (session_id, summary, issue_type, priority, "
                "position) values ($1, $2, 'Task', 'Medium', $3) returning id",
                session,
                summary,
                position,
            )
            for position, summary in enumerate(("a", "b"))
        ]
        await conn.execute(
            "insert into tickets.ticket_dependencies (ticket_id, depends_on_ticket_id) "
            "values ($1, $2)",
            second,
            first,
        )
        await conn.execute(
            "insert into tickets.audit_log (session_id, action) values ($1, 'x')", session
        )
        await conn.execute(
            "insert into tickets.jira_auth_tokens (jira_user_id, access_token, expires_at) "
            "values ('u', '\\x00', now())"
        )
        assert await conn.fetchval("select session_id from tickets.ticket_dependencies") == session
        assert await conn.fetchval("select recorded_session_id from tickets.audit_log") == session
        assert await conn.fetchval("select key_id from tickets.jira_auth_tokens") is None
