"""Migrations pass squawk (PyPI squawk-cli), the linter for locking hazards in DDL.

Rules that only matter when a migration alters a table already in use are ignored
per file, in the file, with a reason: `-- squawk-ignore-file rule, ... -- reason`
(or `-- squawk-ignore rule -- reason` above one statement). .squawk.toml says that
yoyo runs each migration in a transaction.
"""

import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MIGRATIONS = sorted((ROOT / "migrations").rglob("*.sql"))
IGNORE = re.compile(r"--\s*squawk-ignore(?:-file)?\b(?P<rest>.*)")
RULE_LIST = r"\s+[a-z-]+(?:\s*,\s*[a-z-]+)*"


def squawk() -> str:
    beside_python = Path(sys.executable).parent / "squawk"
    found = str(beside_python) if beside_python.exists() else shutil.which("squawk")
    assert found, "squawk is not installed: pip install -e '.[dev]' (it is squawk-cli)"
    return found


def lint(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [squawk(), "--config", str(ROOT / ".squawk.toml"), "--reporter", "gcc", *args],
        cwd=ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_migrations_pass_squawk():
    assert MIGRATIONS
    done = lint(*(str(path.relative_to(ROOT)) for path in MIGRATIONS))
    assert done.returncode == 0, (
        "squawk found hazards; fix them, or, for a rule that only matters when altering a "
        "table in use, add `-- squawk-ignore-file <rule> -- <reason>` to the file (after "
        "`-- depends:`):\n" + done.stdout + done.stderr
    )


def test_every_ignore_names_rules_and_gives_a_reason():
    ignores = [
        (path.relative_to(ROOT), number, match["rest"])
        for path in MIGRATIONS
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if (match := IGNORE.search(line))
    ]
    assert ignores, "expected the new-table migrations to ignore the altering-only rules"
    for path, number, rest in ignores:
        assert re.fullmatch(RULE_LIST + r"\s+--\s+\S.*", rest), (
            f"{path}:{number}: name the rules and give a reason: "
            "-- squawk-ignore-file rule-a, rule-b -- why they do not apply here"
        )


def test_yoyo_directives_stay_first():
    for path in MIGRATIONS:
        lines = path.read_text().splitlines()
        depends = [i for i, line in enumerate(lines) if line.startswith("-- depends:")]
        assert depends in ([], [0]), f"{path}: yoyo reads `-- depends:` only from the top"


def test_squawk_still_flags_a_hazard_on_a_table_in_use():
    done = lint(
        "--stdin-filepath",
        "migrations/planner/planner_9999_example.sql",
        stdin="create index users_name_idx on planner.users (name);\n",
    )
    assert done.returncode != 0
    assert "require-concurrent-index-creation" in done.stdout
