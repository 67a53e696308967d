"""The schema's own rules, as `tether check` reads them from pg_catalog and the files.

- every foreign key has an index whose leading columns are its columns;
- no index is made useless by another one;
- every rule a caller can break has plain words in its domain's RULES
  (`tether/<schema>/rules.py`, found through tether.domains), and RULES names
  nothing that does not exist;
- every migration has a non-empty rollback.

Findings point at the migration line that first names the object.
"""

from __future__ import annotations

import re
from pathlib import Path

from tether import domains as registry
from tether.check.catalog import Catalog, TriggerFunction
from tether.check.findings import Finding
from tether.translate import rule_text

ROLLBACK_SUFFIX = ".rollback.sql"

# `raise` that stops the statement (not `raise notice` and its like).
_RAISES = re.compile(r"\braise\b(?!\s+(?:debug|log|info|notice|warning)\b)", re.IGNORECASE)
# `constraint = 'name'` in a RAISE ... USING; the name is empty when computed.
_RAISED_CONSTRAINT = re.compile(r"\bconstraint\s*=\s*(?:'([^']*)')?", re.IGNORECASE)


class MigrationSource:
    """The forward migrations' lines, to point a finding at where an object is made."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._files = [
            (path, path.read_text(encoding="utf-8").splitlines())
            for path in sorted(root.rglob("*.sql"))
            if not path.name.endswith(ROLLBACK_SUFFIX)
        ]

    def locate(self, schema: str, *names: str) -> tuple[Path, int]:
        """The first SQL (not comment) line naming any of `names`, tried in order, in
        the schema's own folder before the others (domains reuse names such as
        `users_email_key`); else the schema's first migration."""
        own = [file for file in self._files if file[0].parent.name == schema]
        others = [file for file in self._files if file[0].parent.name != schema]
        patterns = [re.compile(rf"(?<![\w.]){re.escape(name)}(?!\w)") for name in names]
        for files in (own, others):
            for pattern in patterns:
                for path, lines in files:
                    for number, line in enumerate(lines, start=1):
                        if pattern.search(line.split("--", 1)[0]):
                            return path, number
        return (own[0][0], 1) if own else (self.root, 1)


async def schema_findings(
    catalog: Catalog, schemas: list[str], source: MigrationSource
) -> list[Finding]:
    findings: list[Finding] = []

    def add(schema: str, table: str, names: tuple[str, ...], message: str) -> None:
        path, line = source.locate(schema, *names, f"{schema}.{table}")
        findings.append(Finding.at(path, line, f"{schema}.{table}: {message}"))

    for key in await catalog.foreign_keys(schemas):
        if key.indexed:
            continue
        columns = ", ".join(key.columns)
        add(
            key.schema_name,
            key.table_name,
            (key.constraint_name,),
            f"foreign key {key.constraint_name} ({columns}) has no index whose leading "
            f"columns are ({columns}): each delete of a referenced row scans the table",
        )
    for index in await catalog.redundant_indexes(schemas):
        add(
            index.schema_name,
            index.table_name,
            (index.index_name,),
            f"index {index.index_name} is redundant: {index.covered_by} already serves its lookups",
        )

    needed: dict[tuple[str, str], str] = {}  # (schema, rule) -> table
    known: set[tuple[str, str]] = set()
    for subject in await catalog.rule_subjects(schemas):
        known.add((subject.schema_name, subject.rule_name))
        if subject.needs_words:
            needed[(subject.schema_name, subject.rule_name)] = subject.table_name
    for trigger in await catalog.trigger_functions(schemas):
        raised = _raised_rules(trigger)
        if raised is None:
            add(
                trigger.schema_name,
                trigger.table_name,
                (trigger.trigger_name,),
                f"trigger {trigger.trigger_name} raises an error without naming a constraint "
                "(RAISE ... USING constraint = '...'), so callers get no plain-words rule",
            )
            continue
        for name in raised:
            known.add((trigger.schema_name, name))
            needed[(trigger.schema_name, name)] = trigger.table_name
    for (schema, rule), table in sorted(needed.items()):
        if rule_text(schema, rule) is None:
            add(
                schema,
                table,
                (rule,),
                f"rule {rule} has no plain words: add it to RULES in tether.{schema}.rules",
            )
    for schema in schemas:
        findings.extend(_stale_rules(schema, known))
    return findings


def _raised_rules(trigger: TriggerFunction) -> set[str] | None:
    """The rules a trigger's function raises errors under: the literal constraint
    names it gives, or the trigger's own name when it computes one. Empty when the
    function never raises; None when it raises without naming a constraint."""
    source = trigger.function_source
    if not _RAISES.search(source):
        return set()
    names = _RAISED_CONSTRAINT.findall(source)
    if not names:
        return None
    return {name or trigger.trigger_name for name in names}


def _stale_rules(schema: str, known: set[tuple[str, str]]) -> list[Finding]:
    if schema not in {domain.name for domain in registry.DOMAINS}:
        return []
    domain = registry.get(schema)
    module = domain.module("rules")
    rules = domain.rules()
    if module.__file__ is None or not rules:
        return []
    path = Path(module.__file__)
    lines = path.read_text(encoding="utf-8").splitlines()
    findings = []
    for name in rules:
        if (schema, name) in known:
            continue
        quoted = (f'"{name}"', f"'{name}'")
        line = next((n for n, text in enumerate(lines, 1) if any(q in text for q in quoted)), 1)
        message = (
            f"RULES names {name}, but schema {schema} has no constraint, index or trigger "
            "of that name"
        )
        findings.append(Finding.at(path, line, message))
    return findings


def rollback_findings(root: Path) -> list[Finding]:
    """Every forward migration has a rollback with SQL in it, and every rollback a migration."""
    files = sorted(root.rglob("*.sql"))
    rollbacks = {path for path in files if path.name.endswith(ROLLBACK_SUFFIX)}
    findings = []
    for path in files:
        if path in rollbacks:
            forward = path.with_name(path.name.removesuffix(ROLLBACK_SUFFIX) + ".sql")
            if not forward.exists():
                findings.append(
                    Finding.at(path, 1, f"a rollback without a migration {forward.name}")
                )
            continue
        rollback = path.with_name(path.name.removesuffix(".sql") + ROLLBACK_SUFFIX)
        if rollback not in rollbacks:
            findings.append(Finding.at(path, 1, f"migration {path.stem} has no {rollback.name}"))
        elif not _has_sql(rollback):
            findings.append(Finding.at(rollback, 1, f"the rollback of {path.stem} is empty"))
    return findings


def _has_sql(path: Path) -> bool:
    return any(
        line.strip() and not line.strip().startswith("--")
        for line in path.read_text(encoding="utf-8").splitlines()
    )
