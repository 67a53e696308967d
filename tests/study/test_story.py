"""`tether demo study` plays the seed-003 story in a database holding `common` and the
study domain only: statuses, topics from a plan, chunks by COPY, a question answered
with parent chunks, refused moves, and a topic deleted out of every chunk's array."""

from domain_checks import story


async def test_the_story_is_told_with_the_databases_counts(tether_server_url):
    text = await story(tether_server_url, "study")
    assert "applying common_0001_extensions" in text and "applying study_0001_schema" in text
    assert "planner" not in text
    assert "Linear algebra exam: ACTIVE" in text
    assert "vectors.md   299                    COMPLETED" in text
    assert "2      Determinants  zero determinant" in text
    assert "ACTIVE -> UPLOADING: StatusMoveRefused" in text
    assert "EDITING_PLAN -> GENERATING_PLAN: StatusChanged" in text
    assert "the session is ACTIVE, not EDITING_PLAN" in text
    assert "17 chunks written" in text
    question = text.split("== a question in the general chat")[1]
    assert "the 3 nearest chunks (hnsw search)" in question or "(exact search)" in question
    assert "0.423     A vector has a direction and a length." in question
    deleted = text.split("== the topic Matrices is deleted ==")[1]
    assert "chunks naming it before: 9" in deleted and "chunks naming it after: 0" in deleted
    assert "study.chats            1             0" in deleted
    assert "study.document_chunks  0             9" in deleted
    assert "study.topics           1             0" in deleted
    assert "one wins, the other is told: StatusChanged / StudySession (COMPLETED)" in text
    assert "reopened: ACTIVE" in text
    would = text.split("== what deleting Ada would remove")[1]
    assert "study.document_chunks  17" in would and "study.profiles         1" in would
