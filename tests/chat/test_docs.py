"""docs/chat.md's service example (sign-in with a dummy hash for unknown e-mails, refresh
with a replay that revokes the family, a streamed reply through the owned forms) runs as
written, twice (it is safe to re-run)."""

import secrets

from test_readme import example, run_example


def test_the_service_example_runs(tether_url):
    code = example("chat-service", "docs/chat.md")
    key = secrets.token_urlsafe(48)
    for _ in range(2):
        done = run_example(code, tether_url, TETHER_CHAT_TOKEN_KEY=key)
        assert done.stdout.splitlines() == [
            "True None",
            "2 ['I get a headache.', 'Drink water and ease the pace.']",
        ]


TIMING = """
import time


async def timed() -> None:
    async with Database() as db:
        try:
            await UserRepository(db).create_with_password(
                "timing@example.com", hash_password("right"), "T"
            )
        except EmailTaken:
            pass
        for _ in range(2):  # the second round is the one measured (caches warm)
            started = time.perf_counter()
            assert await sign_in(db, "nobody-here@example.com", "guess") is None
            unknown = time.perf_counter() - started
            started = time.perf_counter()
            assert await sign_in(db, "timing@example.com", "wrong") is None
            wrong = time.perf_counter() - started
        print(f"{unknown:.4f} {wrong:.4f}")


asyncio.run(timed())
"""


def test_an_unknown_email_costs_what_a_wrong_password_does(tether_url):
    """The example's sign-in checks a dummy hash for an unknown address: both answers
    take a full scrypt (N=2^17, a tenth of a second or more), where returning early
    would answer an unknown address in about a millisecond."""
    code = example("chat-service", "docs/chat.md").replace("asyncio.run(main())", TIMING)
    done = run_example(code, tether_url, TETHER_CHAT_TOKEN_KEY=secrets.token_urlsafe(48))
    unknown, wrong = map(float, done.stdout.split())
    assert wrong > 0.05
    assert unknown > wrong / 3, (unknown, wrong)
