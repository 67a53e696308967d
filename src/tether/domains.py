"""The domains tether carries, each named once.

A domain's name is its PostgreSQL schema and the name of each of its parts,
found by that one convention:

    migrations/<name>/          its migrations (yoyo; ids start with `<name>_`)
    sql/<name>/                 its named queries
    src/tether/<name>/          its package: records, repositories, rules (RULES), story
    tests/<name>/               its tests, and `reliability.py`, its entry in the
                                reliability suite
    benchmarks/<name>/          its benchmark scenarios
    docs/<name>.md              its reference page, with the diagram `tether erd` draws

A module of those parts is named once, by `Domain.module_name(part, within=...)`
(`domain.module("rules")` imports tether.<name>.rules). Everything that spans
domains (the CLI, `tether check` and `erd`, the demo, tether.testing, the
benchmarks, the reliability suite) iterates `DOMAINS`;
adding a domain means adding those parts and one entry here.
`tests/test_domains.py` proves the folders, yoyo.ini and this list agree.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from attrs import frozen

from tether.resources import migrations_dir, sql_dir

if TYPE_CHECKING:
    from tether.errors import Rule

# What every domain's migrations build on (the extensions): applied first, always.
COMMON = "common"


@frozen
class Domain:
    name: str
    seed: str  # the seed document in shared/seeds/ it comes from
    summary: str  # what the application does, in a line
    # The tenant root (SPEC "Tenancy"): the table whose rows are the tenants, planner's
    # `users`. Every other table but the global ones carries its key and is under
    # row-level security (`tether check` verifies); a sharded (Citus) deployment
    # distributes by it (docs/scale-out.md, `tether distribution`). None lets the
    # distribution plan suggest one.
    tenant: str | None = None
    # Tables shared by every tenant, outside row-level security: tutor's `users`.
    global_tables: tuple[str, ...] = ()

    @property
    def schema(self) -> str:
        return self.name

    @property
    def migrations(self) -> Path:
        return migrations_dir() / self.name

    @property
    def queries(self) -> Path:
        return sql_dir() / self.name

    @property
    def docs_page(self) -> str:
        """Its reference page, relative to the repository root."""
        return f"docs/{self.name}.md"

    def module_name(self, part: str | None = None, *, within: str | None = "tether") -> str:
        """The dotted name of one of its parts, by the one convention `<within>.<name>.<part>`:
        `module_name("rules")` is tether.chat.rules, `module_name(within="benchmarks")`
        the package benchmarks.chat, `module_name("reliability", within=None)`
        chat.reliability (tests/chat/reliability.py, with tests/ on the path)."""
        return ".".join(filter(None, (within, self.name, part)))

    def module(self, part: str | None = None, *, within: str | None = "tether") -> ModuleType:
        """One of its parts, imported (see `module_name`)."""
        return importlib.import_module(self.module_name(part, within=within))

    def rules(self) -> Mapping[str, str | Rule]:
        """Its constraints in plain words (`tether.<name>.rules.RULES`)."""
        rules: Mapping[str, str | Rule] = self.module("rules").RULES
        return rules


DOMAINS: tuple[Domain, ...] = (
    Domain(
        "tutor",
        "000",
        "courses, weekly readings cut into chunks, summaries, background jobs, "
        "voice tutoring conversations with audio",
        tenant="courses",
        global_tables=("users",),
    ),
    Domain(
        "planner",
        "001",
        "an AI study planner: subjects, day plans grouped in generations, AI tasks, "
        "feedback that drives regeneration",
        tenant="users",
    ),
    Domain(
        "chat",
        "002",
        "a healthcare chatbot: users (password or OAuth) with hashed refresh tokens, "
        "conversations with exact counters, streamed messages",
        tenant="users",
    ),
    Domain(
        "study",
        "003",
        "study sessions over uploaded documents: topics from a draft plan, chats, "
        "and chunks with 768-d embeddings retrieved by similarity",
        tenant="profiles",
    ),
    Domain(
        "tickets",
        "004",
        "a Jira ticket generator: sessions, uploaded files, tickets with dependencies, "
        "attachments, encrypted tokens, errors, an append-only audit log",
        tenant="sessions",
        global_tables=("jira_auth_tokens", "jira_auth_token_high_water"),
    ),
)

_BY_NAME = {domain.name: domain for domain in DOMAINS}


def names() -> list[str]:
    return list(_BY_NAME)


def get(name: str) -> Domain:
    try:
        return _BY_NAME[name]
    except KeyError:
        raise ValueError(f"no domain {name!r} (there are: {', '.join(_BY_NAME)})") from None


def select(names: Iterable[str] | None = None) -> tuple[Domain, ...]:
    """The domains named (in registry order, each once); every domain when none is named."""
    chosen = {get(name).name for name in names or ()}
    return tuple(d for d in DOMAINS if not chosen or d.name in chosen)


def rules_of(schema: str) -> Mapping[str, str | Rule]:
    """The rules of a domain's schema; none for a schema that is not a domain."""
    domain = _BY_NAME.get(schema)
    return {} if domain is None else domain.rules()
