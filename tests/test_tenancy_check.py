"""`tether check` holds tenant tables to the SPEC: forced row-level security, a policy
for tether_service, and foreign keys that include the tenant column. Each defect is
made by hand in the test's own database and seen reported where the migration made
the table or key; the migrated planner and chat schemas pass."""

from pathlib import Path

from tether.check.schema import MigrationSource
from tether.check.tenancy import tenancy_findings
from tether.resources import migrations_dir

PLANNER_SCHEMA = migrations_dir() / "planner" / "planner_0001_schema.sql"
CHAT_SCHEMA = migrations_dir() / "chat" / "chat_0001_schema.sql"


async def findings(db, *schemas: str) -> list[tuple[Path, int, str]]:
    return located(await tenancy_findings(db, list(schemas), MigrationSource(migrations_dir())))


def located(found) -> list[tuple[Path, int, str]]:
    return sorted((Path(f.path).resolve(), f.line, f.message) for f in found)


def line_of(path: Path, text: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if text in line)


async def test_the_migrated_planner_and_chat_pass(tether_db):
    assert await findings(tether_db, "planner", "chat") == []


async def test_a_global_table_is_not_a_tenant_table(tether_db):
    """tutor.users is global (tether.domains): whatever else tutor reports, not it."""
    reported = await findings(tether_db, "tutor")
    assert not any(message.startswith("tutor.users:") for _, _, message in reported)


async def test_a_table_without_forced_row_level_security_is_reported(tether_db):
    await tether_db.pool.execute("alter table chat.messages no force row level security")
    assert await findings(tether_db, "planner", "chat") == [
        (
            CHAT_SCHEMA.resolve(),
            line_of(CHAT_SCHEMA, "create table chat.messages"),
            "chat.messages: tenant table without forced row-level security (alter table ... "
            "enable row level security, then force row level security)",
        )
    ]
    await tether_db.pool.execute("alter table chat.messages disable row level security")
    assert len(await findings(tether_db, "chat")) == 1


async def test_a_table_without_a_tenant_policy_is_reported(tether_db):
    await tether_db.pool.execute("drop policy tenant_scope on planner.feedback")
    assert await findings(tether_db, "planner", "chat") == [
        (
            PLANNER_SCHEMA.resolve(),
            line_of(PLANNER_SCHEMA, "create table planner.feedback"),
            "planner.feedback: tenant table without a policy for tether_service comparing "
            "its tenant column with public.tether_tenants(): a scoped service sees every "
            "row or none",
        )
    ]
    # A policy for tether_service that ignores the tenants is no tenant policy either.
    await tether_db.pool.execute(
        "create policy everything on planner.feedback to tether_service using (true)"
    )
    assert len(await findings(tether_db, "planner")) == 1


async def test_a_foreign_key_that_leaves_the_tenant_column_out_is_reported(tether_db):
    await tether_db.pool.execute(
        "alter table planner.ai_tasks add constraint ai_tasks_any_plan_fkey "
        "foreign key (plan_id) references planner.plans (id)"
    )
    [(path, line, message)] = await findings(tether_db, "planner")
    # Made by no migration: the line that makes its table.
    assert (path, line) == (
        PLANNER_SCHEMA.resolve(),
        line_of(PLANNER_SCHEMA, "create table planner.ai_tasks"),
    )
    assert message == (
        "planner.ai_tasks: foreign key ai_tasks_any_plan_fkey (plan_id) -> plans (id) leaves "
        "the tenant column out: make it (plan_id, user_id) -> plans (id, user_id), so no row "
        "can point at another tenant's row"
    )
