"""`tether distribution`: the plan of each domain, derived from the catalog and the
queries, kept current in docs/scale-out.md; and the derivation itself on a schema made
for it (a tenant root, reference and standalone tables, composite keys, a missing
column, SET NULL on the key, a nullable tie, queries pinned and not)."""

from pathlib import Path

import pytest

from tether import distribution, docblocks, domains
from tether.queries import parse

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "scale-out.md"


async def test_the_page_shows_the_plan_of_every_domain(tether_db):
    found = await distribution.plans(tether_db.url)
    assert [p.schema for p in found] == [d.name for d in domains.DOMAINS]
    blocks = docblocks.blocks(distribution.BLOCK, PAGE.read_text())
    for plan in found:
        assert blocks.get(plan.schema) == distribution.page_block(plan), (
            f"docs/scale-out.md: the distribution plan of {plan.schema} is stale or missing: "
            "run `tether distribution --write-docs`"
        )


SCHEMA = """
create schema shardcases;
create table shardcases.countries (code text primary key);
create table shardcases.settings (name text primary key, value text);
create table shardcases.accounts (
    id bigint generated always as identity primary key,
    email text not null,
    country text references shardcases.countries
);
create unique index accounts_email_key on shardcases.accounts (lower(email));
create table shardcases.projects (
    id bigint generated always as identity primary key,
    account_id bigint not null references shardcases.accounts on delete cascade,
    name text not null,
    unique (account_id, name),
    unique (id, account_id)
);
create table shardcases.tasks (
    id bigint generated always as identity,
    account_id bigint not null,
    project_id bigint not null,
    reviewer_project_id bigint,
    primary key (id, account_id),
    foreign key (project_id, account_id) references shardcases.projects (id, account_id)
        on delete cascade,
    foreign key (reviewer_project_id, account_id) references shardcases.projects (id, account_id)
        on delete set null
);
create table shardcases.comments (
    id bigint generated always as identity primary key,
    task_id bigint not null,
    task_account_id bigint not null,
    body text,
    foreign key (task_id, task_account_id) references shardcases.tasks (id, account_id)
        on delete cascade
);
create table shardcases.events (
    id bigint generated always as identity primary key,
    account_id bigint references shardcases.accounts on delete set null
);
"""

QUERIES = """
-- name: account :one
select id, email from shardcases.accounts where id = :id;
-- name: account_by_email :one
select id from shardcases.accounts where lower(email) = lower(:email);
-- name: new_account :one
insert into shardcases.accounts (email) values (:email) returning id;
-- name: project_tasks :many
select t.id from shardcases.tasks t join shardcases.projects p
  on p.id = t.project_id and p.account_id = t.account_id
where p.account_id = :account_id and t.account_id = :account_id;
-- name: tasks_through_the_project :many
select t.id from shardcases.projects p join shardcases.tasks t
  on t.project_id = p.id and t.account_id = p.account_id
where p.account_id = :account_id;
-- name: tasks_by_project_only :many
select t.id from shardcases.projects p join shardcases.tasks t on t.project_id = p.id
where p.account_id = :account_id;
-- name: task_by_id :one
select id from shardcases.tasks where id = :id;
-- name: new_project :one
insert into shardcases.projects (account_id, name) values (:account_id, :name) returning id;
-- name: comment_bodies :many
select body from shardcases.comments where task_id = :task_id;
-- name: two_accounts :many
select id from shardcases.projects where account_id = :first
union all
select id from shardcases.projects where account_id = :second;
-- name: countries :many
select code from shardcases.countries;
-- name: rename_project :exec
update shardcases.projects set name = :name where id = :id and account_id = :account_id;
"""


@pytest.fixture
async def cases(tether_db):
    await tether_db.pool.execute(SCHEMA)
    return parse(QUERIES, Path("shardcases.sql"), "shardcases")


@pytest.mark.parametrize("tenant", ["accounts", None])  # declared, or suggested
async def test_tables_and_keys_are_placed_from_the_catalog(tether_db, cases, tenant):
    plan = await distribution.plan_schema(tether_db, tether_db.url, "shardcases", tenant, cases)
    assert (plan.root, plan.declared, plan.key) == ("accounts", tenant is not None, "account_id")
    placed = {t.name: (t.kind, t.column, t.present, t.nullable) for t in plan.tables}
    assert placed == {
        "accounts": ("distributed", "id", True, False),
        "projects": ("distributed", "account_id", True, False),
        "tasks": ("distributed", "account_id", True, False),
        "comments": ("distributed", "task_account_id", True, False),
        "events": ("distributed", "account_id", True, True),
        "countries": ("reference", None, False, False),
        "settings": ("standalone", None, False, False),
    }
    text = distribution.markdown(plan)
    for line in (
        "| `accounts` | distributed (tenant root) | `id` | yes: accounts_pkey (id) | **no**: "
        "accounts_email_key (lower(email)); not enforceable across shards (Citus takes "
        "(lower(email), id): unique per tenant only) |",
        "| `projects` | distributed | `account_id` | **no**: projects_pkey (id); Citus needs "
        "(id, account_id) | yes: projects_account_id_name_key (account_id, name)<br>yes: "
        "projects_id_account_id_key (id, account_id) |",
        "| `tasks` | distributed | `account_id` | yes: tasks_pkey (id, account_id) | - |",
        "can be NULL: rows without a tenant have no shard",
        "| `countries` | reference | - | countries_pkey (code) | - |",
        "| `settings` | standalone | - | settings_pkey (name) | - |",
        "`accounts_country_fkey`: accounts (country) -> countries (code) | yes (to a "
        "reference table) |",
        "`tasks_project_id_account_id_fkey`: tasks (project_id, account_id) -> projects "
        "(id, account_id) | yes |",
        "`tasks_reviewer_project_id_account_id_fkey`: tasks (reviewer_project_id, "
        "account_id) -> projects (id, account_id) | **no**: ON DELETE SET NULL would clear "
        "account_id, the distribution column; limit it to (reviewer_project_id) |",
        "`events_account_id_fkey`: events (account_id) -> accounts (id) | **no**: ON DELETE "
        "SET NULL would clear account_id, the distribution column; rows cannot outlive "
        "their tenant |",
        "`comments_task_id_task_account_id_fkey`: comments (task_id, task_account_id) -> "
        "tasks (id, account_id) | yes |",
    ):
        assert line in text, line


async def test_a_missing_column_is_copied_from_the_parent_it_comes_through(tether_db):
    async with tether_db.connection() as conn:
        await conn.execute(SCHEMA)
        await conn.execute(
            "create table shardcases.labels (id bigint primary key,"
            " project_id bigint not null references shardcases.projects)"
        )
    plan = await distribution.plan_schema(tether_db, tether_db.url, "shardcases", "accounts", [])
    labels = plan.table("labels")
    assert (labels.column, labels.present, labels.via.constraint_name) == (
        "account_id",
        False,
        "labels_project_id_fkey",
    )
    text = distribution.markdown(plan)
    assert "`account_id`, **to add** (from projects, by project_id)" in text
    assert "**no**: co-located only as (project_id, account_id) -> projects (id, account_id)" in (
        text
    )


async def test_queries_on_one_shard_are_those_pinned_by_the_tenant(tether_db, cases):
    """Pinned by a parameter, or joined on the distribution column to a table that is."""
    plan = await distribution.plan_schema(tether_db, tether_db.url, "shardcases", None, cases)
    shards = {q.name: (q.shards, q.why) for q in plan.queries}
    assert shards == {
        "account": ("one", "accounts by :id"),
        "account_by_email": ("all", "accounts not by id"),
        "new_account": ("one", "accounts by the new row's key"),
        "project_tasks": ("one", "projects, tasks by :account_id"),
        "tasks_through_the_project": ("one", "projects, tasks by :account_id"),
        "tasks_by_project_only": ("all", "tasks not by account_id"),
        "task_by_id": ("all", "tasks not by account_id"),
        "new_project": ("one", "projects by :account_id"),
        "comment_bodies": ("all", "comments not by task_account_id"),
        "two_accounts": ("all", "several tenants (:first, :second)"),
        "countries": ("none", "no distributed table"),
        "rename_project": ("one", "projects by :account_id"),
    }
    assert "Queries: 6 of 12 stay on one shard as written, 1 touch no distributed table." in (
        distribution.markdown(plan)
    )


def test_write_docs_rewrites_blocks_and_refuses_missing_markers(tether_server_url, tmp_path):
    page = tmp_path / "scale-out.md"
    page.write_text(
        "# Scale-out\n\nintro\n\n<!-- distribution:planner -->\nold\n"
        "<!-- /distribution:planner -->\n\nafter\n"
    )
    notes: list[str] = []
    code = distribution.command(tether_server_url, ["planner"], page, notes.append, notes.append)
    assert code == 0, notes
    text = page.read_text()
    current = docblocks.blocks(distribution.BLOCK, PAGE.read_text())["planner"]
    assert text == f"# Scale-out\n\nintro\n\n{current}\n\nafter\n"
    # A domain without markers is refused, as tether erd refuses: the page is the
    # author's to arrange; the planner's block, which has its place, is still rewritten.
    page.write_text(
        text.replace(current, "<!-- distribution:planner -->\nold\n<!-- /distribution:planner -->")
    )
    notes.clear()
    code = distribution.command(
        tether_server_url, ["planner", "chat"], page, notes.append, notes.append
    )
    assert code == 1
    assert page.read_text() == text
    assert notes == [
        f"{page}: no place for the distribution plan of chat: put <!-- distribution:chat --> "
        "and <!-- /distribution:chat --> where it belongs, then run this again",
        f"{page}: distribution plan of planner up to date",
    ]
