"""`tether demo chat` plays the seed-002 story: sign-up and sign-in, a streamed reply
counted by the database, token rotation with a forgiven retry and a replay that revokes
the family, paging, and the cascade of a user's deletion, in a database holding `common`
and chat only."""

import pytest

from domain_checks import story
from tether.chat.story import REPLY

# What deleting Ada cascaded, as PostgreSQL counted it, and the rows left: every
# table's line in full, so that one count off fails.
ADA_DELETED = """\
chat.conversations  3             0
chat.messages       10            0
chat.users          1             0
Ada's rows left: users 0, conversations 0, messages 0
Ben's rows left: users 1, conversations 1, messages 2"""


def check_deletion(text: str) -> None:
    assert "preview: chat.conversations 3, chat.messages 10, chat.users 1" in text
    assert text.split("what the database cascaded")[1].endswith(ADA_DELETED)


async def test_the_story_is_told_with_the_databases_counts(tether_server_url):
    text = await story(tether_server_url, "chat")
    assert "applying common_0001_extensions" in text and "applying chat_0001_schema" in text
    assert "planner" not in text
    assert "Ada.Lovelace@example.com  Ada   user  password" in text
    assert "ben@example.com           Ben   user  OAuth" in text
    assert "hashed_password" not in text and "$scrypt$" not in text
    assert "password matches the stored hash: True" in text
    assert "the database holds only its HMAC-SHA256" in text
    assert f"chunk {len(REPLY)} appended in the database" in text
    assert "counted by the database: messages_count 2, last_message_at 20" in text
    assert "a chunk after the reply was sent: refused" in text
    assert "within the grace window (a lost response, retried): a new token" in text
    assert "the first successor revoked; live tokens 1" in text
    assert "a third time (a thief's copy): TokenReuse, the family revoked" in text
    assert "Ada's live tokens: 0" in text
    assert "page 3: follow-up 7 | follow-up 8 | follow-up 9" in text
    assert "Ada's conversations, newest first, two per page: Allergies, Sleep / Headache" in text
    assert "'follow-up 9' deleted; last_message_at is 'follow-up 8''s: True" in text
    check_deletion(text)
    # Counts off are caught (conversations and users swapped: the old check, that each
    # table and each count were somewhere in the table, passed it).
    wrong = text.replace("chat.conversations  3 ", "chat.conversations  1 ")
    wrong = wrong.replace("chat.users          1 ", "chat.users          3 ")
    assert wrong != text
    with pytest.raises(AssertionError):
        check_deletion(wrong)
