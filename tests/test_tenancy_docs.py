"""docs/tenancy.md's service example runs as written, twice (it is safe to re-run): a
request signs in unscoped, then works inside `db.tenant(user.id)`, where another
user's conversation does not exist; and the page says what the migrations do."""

import asyncpg

from test_readme import ROOT, example, run_example
from tether import domains

PAGE = "docs/tenancy.md"


async def test_the_scoped_request_example_runs(tether_url):
    code = example("tenancy", PAGE)
    for _ in range(2):
        done = run_example(code, tether_url)
        assert done.stdout.splitlines() == [
            "200 Headache: 1 message(s)",
            "404 no such conversation",
            "401 unknown user",
        ]
    conn = await asyncpg.connect(tether_url)
    try:
        # Ada's two requests wrote to her conversation; Ben's was never touched.
        counted = await conn.fetch(
            "select u.email, c.messages_count from chat.conversations c "
            "join chat.users u on u.id = c.user_id order by u.email, c.created_at"
        )
    finally:
        await conn.close()
    assert [(r["email"], r["messages_count"]) for r in counted] == [
        ("ada@example.com", 1),
        ("ada@example.com", 1),
        ("ben@example.com", 0),
        ("ben@example.com", 0),
    ]


def test_the_page_names_every_domains_root_as_the_registry_does():
    text = (ROOT / PAGE).read_text()
    for domain in domains.DOMAINS:
        globals_ = "".join(f" `{table}`" for table in domain.global_tables)
        assert f"| {domain.name} | `{domain.tenant}` |{globals_} |" in text, domain.name
