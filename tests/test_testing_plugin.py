"""tether.testing as a service's test suite uses it (the README's example among them):
loaded with `-p tether.testing` (plugin autoload off), in a pytest run of its own on the
suite's server."""

import pytest

from test_readme import example

pytest_plugins = ["pytester"]


# The README's example, and two more tests a service would write.
MORE_SERVICE_TESTS = """

async def test_each_test_starts_from_an_empty_schema(tether_db):
    assert await UserRepository(tether_db).find_by_email("john@example.com") is None


async def test_a_wrong_expectation_fails_with_the_database_count(tether_db):
    mary = await UserRepository(tether_db).create("mary@example.com")
    async with tether_db.transaction() as conn:
        async with expect_changes(conn, deleted={"planner.users": 2}):
            await UserRepository(conn).delete(mary.id)
"""


@pytest.fixture
def service(pytester, monkeypatch, tether_server_url):
    """A service's project: its own folder, tether's plugin loaded by name only."""
    monkeypatch.setenv("DATABASE_URL", tether_server_url)
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    pytester.makeini(
        "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"
    )
    return pytester


def run(service, *plugins):
    args = [arg for plugin in plugins for arg in ("-p", plugin)]
    return service.runpytest_subprocess(*args, "-p", "tether.testing")


def test_a_service_tests_against_a_migrated_database_of_its_own(service):
    service.makepyfile(test_service=example("testing") + MORE_SERVICE_TESTS)
    result = run(service, "pytest_asyncio.plugin")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*rows deleted: expected {'planner.users': 2}, database says {'planner.users': 1}*",
        ]
    )


def test_a_template_dropped_by_another_run_is_built_again(service):
    service.makeconftest(
        """
import pytest

@pytest.fixture(scope="session")
def tether_template():
    return "tether_tpl_dropped_by_another_run"
"""
    )
    service.makepyfile(
        test_service="""
from tether.planner import UserRepository

async def test_users_start_empty(tether_db):
    assert await UserRepository(tether_db).find_by_email("x@example.com") is None
"""
    )
    run(service, "pytest_asyncio.plugin").assert_outcomes(passed=1)


def test_without_pytest_asyncio_tether_db_says_what_is_missing(service):
    service.makepyfile(
        hide_pytest_asyncio="import sys\n\nsys.modules['pytest_asyncio'] = None\n",
        test_service="def test_needs_a_database(tether_db):\n    pass\n",
    )
    result = run(service, "hide_pytest_asyncio")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*tether_db is an async fixture and needs pytest-asyncio*"])


def test_a_service_suite_migrates_only_its_domains(service):
    """`tether_domains = planner`: the service's databases hold common and the planner only."""
    service.makeini(
        "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"
        "tether_domains = planner\n"
    )
    service.makepyfile(
        test_service="""
from tether.testing import template_prefix

async def test_only_the_chosen_schemas(tether_db, tether_template, tether_domains):
    assert tether_domains == ["planner"]
    assert tether_template.startswith(template_prefix(["planner"]))
    found = await tether_db.pool.fetchval(
        "select array_agg(nspname::text order by nspname) from pg_namespace "
        "where nspname not like 'pg%' and nspname not in ('information_schema', 'public')"
    )
    assert found == ["planner"]
"""
    )
    run(service, "pytest_asyncio.plugin").assert_outcomes(passed=1)


def test_an_unknown_domain_in_the_ini_is_named(service):
    service.makeini("[pytest]\nasyncio_mode = auto\ntether_domains = planner nope\n")
    service.makepyfile(test_service="async def test_x(tether_db):\n    pass\n")
    result = run(service, "pytest_asyncio.plugin")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*tether_domains: no domain 'nope'*"])
