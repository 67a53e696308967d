"""`tether_tenant`, the plugin's scoped fixture, as a service's suite uses it: the
README's example passes, and a service whose code forgets nothing but reaches another
tenant's row through the scope is caught."""

from test_readme import example
from test_testing_plugin import run, service  # noqa: F401 (the service project fixture)

pytest_plugins = ["pytester"]

# A service test that expects to see another tenant's user: the scope must fail it.
LEAKY_EXPECTATION = """

async def test_a_scope_that_showed_another_tenant_would_fail(tether_db, tether_tenant):
    ann = await UserRepository(tether_db).create("ann2@example.com")
    bob = await UserRepository(tether_db).create("bob2@example.com")
    async with tether_tenant(ann.id) as conn:
        assert await UserRepository(conn).find_by_email("bob2@example.com") == bob
"""


def test_a_service_tests_that_its_code_stays_in_its_tenant(service):  # noqa: F811
    service.makepyfile(test_service=example("testing-tenant") + LEAKY_EXPECTATION)
    result = run(service, "pytest_asyncio.plugin")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*assert None == User(*"])
