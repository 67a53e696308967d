"""docs/tickets.md's service example runs as written, twice (it is safe to re-run),
with a key ring in the environment as a deployment would have it."""

from test_readme import example, run_example
from tether.tickets import KEYS_VARIABLE


def test_the_service_example_runs(tether_url, keys):
    code = example("tickets-service", "docs/tickets.md")
    for _ in range(2):
        done = run_example(code, tether_url, **{KEYS_VARIABLE: keys})
        assert done.stdout.splitlines() == [
            "ticket_dependencies_no_cycle",
            "['Onboarding', 'Accounts API', 'Sign-up form']",
            "['brief.md']",
            "True",
        ]
