"""`tether demo tutor` plays the seed-000 story: chunks paged, jobs drained, a dead
worker's job rescued and its late success refused, audio in order, then a preview and
the delete of a week, in a database holding `common` and the tutor only."""

from domain_checks import story


async def test_the_story_is_told_with_the_databases_counts(tether_server_url):
    text = await story(tether_server_url, "tutor")
    assert "applying common_0001_extensions" in text
    assert "applying tutor_0001_schema" in text
    assert "planner" not in text
    assert "7 chunks written" in text
    assert "6    2     Overfitting" not in text and "6    3     Regularization" in text
    assert "worker B claims job 4 again: attempt 2" in text
    assert "reports success: refused (LeaseLost)" in text
    assert "4    transcribe  succeeded  100       2        1" in text
    assert "450 s; audio: 3 pieces, 96,000 bytes, in order: True" in text
    preview, delete = text.split("== What deleting week 1 would remove")[1].split("== Delete")
    for part in (preview, delete):
        assert "tutor.chunks         7             0" in part
        assert "tutor.jobs           0             4" in part
        assert "tutor.audio_blobs    3             0" in part
    assert "after the preview: weeks 3, readings 1, chunks 7" in preview
    assert "ML-101's rows left: weeks 2, readings 0, chunks 0, summaries 0" in delete
    assert text.endswith("\n4    transcribe  succeeded  100       2        None")
