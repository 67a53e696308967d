"""docs/tickets.md's service example runs as written, twice (it is safe to re-run),
with a key ring in the environment as a deployment would have it."""

import os
import subprocess
import sys

from test_readme import example
from tether.tickets import KEYS_VARIABLE


def test_the_service_example_runs(tether_url, keys):
    code = example("tickets-service", "docs/tickets.md")
    for _ in range(2):
        done = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "DATABASE_URL": tether_url, KEYS_VARIABLE: keys},
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.splitlines() == [
            "ticket_dependencies_no_cycle",
            "['Onboarding', 'Accounts API', 'Sign-up form']",
            "['brief.md']",
            "True",
        ]
