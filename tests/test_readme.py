"""The README's service example runs as written, twice (it is safe to re-run). `example`
reads a runnable example out of the README or a page of docs/."""

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


def run_example(code: str, url: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run an example's code as a new user would: a Python process of its own, on the
    database at `url` (`DATABASE_URL`), with `env` set too. It must exit 0 (its stderr
    is the failure's message)."""
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "DATABASE_URL": url, **env},
    )
    assert done.returncode == 0, done.stderr
    return done


def test_the_service_example_runs(tether_url):
    code = example("service")
    for _ in range(2):
        done = run_example(code, tether_url)
        lines = done.stdout.splitlines()
        assert lines[0] == "2026-03-02 [('Algebra', 'Matrices')]"
        assert lines[1] == (
            "planner.feedback: this user has already given feedback on this generation "
            "(rule uc_user_generation_feedback)"
        )
