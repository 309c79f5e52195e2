"""What one account may store and how fast it may write: notes, bytes of text, writes a minute."""

import pytest

from devenv.visitors import Browser


@pytest.fixture
def limits(app, monkeypatch):
    """Set the quota settings for one test."""

    def set_limits(**settings):
        for name, value in settings.items():
            monkeypatch.setitem(app.config, name, value)

    return set_limits


def test_notes_past_the_per_user_limit_are_refused_with_a_message(user, limits, count_rows):
    limits(NOTES_PER_USER=2)
    assert user.create_note("One").status_code == 302
    second = user.create_note("Two")
    assert second.status_code == 302
    refused = user.create_note("Three")
    assert refused.status_code == 400
    assert "You have 2 notes, the most one account may keep." in refused.get_data(as_text=True)
    assert count_rows("note") == 2
    edited = user.submit(f"{second.headers['Location']}/edit", {"title": "Two", "content": "ok"})
    assert edited.status_code == 302  # an edit adds no note


def test_note_text_past_the_per_user_bytes_is_refused(user, limits, count_rows):
    limits(NOTE_BYTES_PER_USER=1000)
    first = user.create_note("A", "a" * 600)
    assert first.status_code == 302
    refused = user.create_note("B", "한" * 200)  # 600 bytes in UTF-8
    assert refused.status_code == 400
    assert "more than 1,000 bytes of text" in refused.get_data(as_text=True)
    assert count_rows("note") == 1
    edit = f"{first.headers['Location']}/edit"
    assert user.submit(edit, {"title": "A", "content": "a" * 990}).status_code == 302
    assert user.submit(edit, {"title": "A", "content": "a" * 1000}).status_code == 400


def test_note_writes_past_the_rate_get_429_with_retry_after(app, user, other_user, limits):
    limits(NOTE_WRITES_PER_MINUTE=3)
    for number in range(3):
        assert user.create_note(f"Note {number}").status_code == 302
    refused = user.create_note("One too many")
    assert refused.status_code == 429
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    assert "You are saving notes faster than Memo allows." in refused.get_data(as_text=True)
    assert other_user.create_note("Bob's").status_code == 302  # another account is not held
    assert Browser(app.test_client()).get("/healthz").status_code == 200
