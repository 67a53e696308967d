"""docs/security.md names, for each guarantee, the test that proves it: every test and
test file it names exists (a renamed test would leave a guarantee unproved)."""

import re

import pytest

from test_readme import ROOT

pytestmark = pytest.mark.reliability

PAGE = ROOT / "docs" / "security.md"


def test_every_test_the_security_page_names_exists():
    text = PAGE.read_text()
    files = set(re.findall(r"tests/[\w/]+\.py", text))
    assert files and all((ROOT / name).is_file() for name in files), files
    stems = {path.stem for path in (ROOT / "tests").rglob("*.py")}
    named = set(re.findall(r"\btest_\w+", text)) - stems
    defined = {
        found
        for path in (ROOT / "tests").rglob("test_*.py")
        for found in re.findall(r"^(?:async )?def (test_\w+)", path.read_text(), re.MULTILINE)
    }
    assert len(named) >= 20
    assert sorted(named - defined) == []
