"""`tether erd`: Mermaid diagrams read from pg_catalog, and each domain page's kept current."""

from pathlib import Path

import pytest

from tether import domains, erd

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


async def test_each_domain_page_shows_the_diagram_of_a_migrated_database(tether_db):
    found = await erd.diagrams(tether_db)
    assert set(found) == {domain.name for domain in domains.DOMAINS}
    for schema, diagram in found.items():
        page = DOCS / f"{schema}.md"
        blocks = erd.page_blocks(page.read_text())
        assert blocks == {schema: erd.page_block(schema, diagram)}, (
            f"{page.relative_to(ROOT)}: the diagram of {schema} is stale or missing: run "
            f"`tether erd --write-docs` (markers <!-- erd:{schema} --> ... "
            f"<!-- /erd:{schema} --> must be in place)"
        )
    assert "```mermaid" not in (ROOT / "README.md").read_text(), "diagrams live in docs/"


SCHEMA = """
create schema erdcases;
create type erdcases.mood as enum ('calm', 'busy');
create table erdcases.sessions (
    id uuid primary key default gen_random_uuid(),
    title varchar(80),
    mood erdcases.mood not null default 'calm'
);
create table erdcases.files (
    id bigint generated always as identity primary key,
    session_id uuid not null references erdcases.sessions on delete cascade,
    unique (id, session_id)
);
create table erdcases.tasks (
    session_id uuid primary key references erdcases.sessions on delete cascade,
    started_at timestamp with time zone not null default now()
);
create table erdcases.errors (
    id bigint generated always as identity primary key,
    session_id uuid not null references erdcases.sessions on delete cascade,
    file_id bigint,
    code text unique,
    tags text[] not null default '{}',
    foreign key (file_id, session_id) references erdcases.files (id, session_id)
        on delete set null (file_id)
);
"""

DIAGRAM = """\
erDiagram
    errors {
        bigint id PK
        uuid session_id FK
        bigint file_id FK "nullable"
        text code UK "nullable"
        text[] tags
    }
    files {
        bigint id PK
        uuid session_id FK
    }
    sessions {
        uuid id PK
        varchar(80) title "nullable"
        mood mood
    }
    tasks {
        uuid session_id PK, FK
        timestamptz started_at
    }
    files |o--o{ errors : "file_id, session_id: on delete set null (file_id)"
    sessions ||--o{ errors : "session_id: on delete cascade"
    sessions ||--o{ files : "session_id: on delete cascade"
    sessions ||--o| tasks : "session_id: on delete cascade\""""


async def test_the_diagram_says_what_the_catalog_says(tether_db):
    async with tether_db.connection() as conn:
        await conn.execute(SCHEMA)
    found = await erd.diagrams(tether_db, ["erdcases"])
    assert found == {"erdcases": DIAGRAM}


async def test_an_unknown_schema_is_refused(tether_db):
    with pytest.raises(ValueError, match="no domain schema nowhere"):
        await erd.diagrams(tether_db, ["nowhere"])


def test_refreshing_rewrites_only_the_diagram_blocks():
    text = (
        "intro\n<!-- erd:a -->\nold a\n<!-- /erd:a -->\nmiddle\n"
        "<!-- erd:gone -->\nkept\n<!-- /erd:gone -->\nend\n"
    )
    refreshed, missing = erd.refresh_page(text, {"a": "erDiagram\n    x {\n    }", "b": "-"})
    assert refreshed == (
        "intro\n<!-- erd:a -->\n```mermaid\nerDiagram\n    x {\n    }\n```\n<!-- /erd:a -->\n"
        "middle\n<!-- erd:gone -->\nkept\n<!-- /erd:gone -->\nend\n"
    )
    assert missing == ["b"]


def test_write_docs_refreshes_a_stale_page(tether_server_url, tmp_path):
    current = erd.page_blocks((DOCS / "planner.md").read_text())["planner"]
    stale = tmp_path / "planner.md"
    stale.write_text("# x\n\n<!-- erd:planner -->\nold\n<!-- /erd:planner -->\n")
    notes: list[str] = []
    code = erd.command(
        tether_server_url, ["planner"], tmp_path, out=notes.append, note=notes.append
    )
    assert code == 0, notes
    assert stale.read_text() == f"# x\n\n{current}\n"


def test_write_docs_says_where_markers_are_missing(tether_server_url, tmp_path):
    (tmp_path / "planner.md").write_text("# no markers\n")
    notes: list[str] = []
    code = erd.command(
        tether_server_url, ["planner"], tmp_path, out=notes.append, note=notes.append
    )
    assert code == 1
    assert notes == [
        f"{tmp_path / 'planner.md'}: no place for the diagram of planner: put "
        "<!-- erd:planner --> and <!-- /erd:planner --> where it belongs, then run this again"
    ]
    assert (tmp_path / "planner.md").read_text() == "# no markers\n"
