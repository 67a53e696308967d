"""The README's service example runs as written, twice (it is safe to re-run)."""

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def example(name: str, page: str = "README.md") -> str:
    text = (ROOT / page).read_text()
    block = re.search(
        rf"<!-- example:{name} -->\s*```python\n(.*?)```\s*<!-- /example:{name} -->", text, re.S
    )
    assert block, f"no example:{name} in {page}"
    return block.group(1)


def test_the_service_example_runs(tether_url):
    code = example("service")
    for _ in range(2):
        done = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "DATABASE_URL": tether_url},
        )
        assert done.returncode == 0, done.stderr
        lines = done.stdout.splitlines()
        assert lines[0] == "2026-03-02 [('Algebra', 'Matrices')]"
        assert lines[1] == (
            "planner.feedback: this user has already given feedback on this generation "
            "(rule uc_user_generation_feedback)"
        )
