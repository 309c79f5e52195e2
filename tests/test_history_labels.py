"""A note's history says what each entry is: a saved text, or one a conflict set aside (never
the note's); and how many saves within the quiet time were not kept on their own."""

import re

import pytest

from tests.databases import run_sql
from tests.noting import conflicted, note_id_of, page, save

pytestmark = pytest.mark.usefixtures("no_jobs")
ENTRY = re.compile(r"<li>\s*<h2 id=\"version-\d+\">(.*?)</h2>(.*?)</li>", re.S)


def entries(user, note_id):
    """Return the history's entries, newest first, as (heading, the rest) without tags."""
    html = page(user.get(f"/notes/{note_id}/history"))
    untag = lambda text: " ".join(re.sub(r"<[^>]+>", " ", text).split())  # noqa: E731
    return [(untag(heading), untag(rest)) for heading, rest in ENTRY.findall(html)]


def test_a_text_set_aside_in_a_conflict_is_labelled_as_such_and_follows_nothing(app, user):
    note_id, mine = conflicted(app, user)
    user.post(f"/notes/{note_id}/resolve", {**mine, "choice": "theirs"})
    (aside, aside_rest), (saved, saved_rest) = entries(user, note_id)
    assert aside.startswith("Set aside in a conflict:") and "Never the note's text" in aside_rest
    assert "Beside the saved text that was kept instead:" in aside_rest
    assert saved.startswith("Saved ") and "Never the note's text" not in saved_rest
    # The saved entry's changes lead to the text that replaced it, not to the one set aside.
    assert "Added: phone's text" in saved_rest and "laptop's text" not in saved_rest
    # Its own page says so too.
    html = page(user.get(f"/notes/{note_id}/history"))
    link = re.findall(r'href="(/notes/\d+/history/\d+)">Show this version in full', html)[0]
    assert "Set aside in a conflict:" in page(user.get(link))


def test_a_text_set_aside_starts_no_quiet_time_and_a_save_keeps_what_it_replaced(app, user):
    note_id, mine = conflicted(app, user)
    # The entry of the phone's save is older than the quiet time.
    run_sql(app, "UPDATE note_version SET created_at = created_at - interval '10 minutes'")
    user.post(f"/notes/{note_id}/resolve", {**mine, "choice": "theirs"})
    save(user, note_id, "fourth")  # a minute after the set-aside text: still kept
    (newest, rest), (aside, _), (oldest, _) = entries(user, note_id)
    assert newest.startswith("Saved ") and aside.startswith("Set aside")
    assert oldest.startswith("Saved ")
    assert "phone's text" in rest and "Added: fourth" in rest


def test_a_save_within_the_quiet_time_after_a_conflict_is_counted_as_not_kept(app, user):
    note_id, mine = conflicted(app, user)
    user.post(f"/notes/{note_id}/resolve", {**mine, "choice": "theirs"})
    save(user, note_id, "fourth")  # the phone's save's entry is a minute old
    (aside, _), (saved, rest) = entries(user, note_id)
    assert aside.startswith("Set aside") and saved.startswith("Saved ")
    assert "1 later save within a few minutes is not kept on its own" in rest
    assert "Added: fourth" in rest


def test_saves_within_the_quiet_time_are_said_to_be_kept_as_one(user):
    note_id = note_id_of(user.create_note("Plan", "one"))
    save(user, note_id, "two")
    [(_, rest)] = entries(user, note_id)
    assert "not kept on its own" not in rest
    save(user, note_id, "three")
    [(_, rest)] = entries(user, note_id)
    assert "1 later save within a few minutes is not kept on its own" in rest
    save(user, note_id, "four")
    [(_, rest)] = entries(user, note_id)
    assert "2 later saves within a few minutes are not kept on their own" in rest
    assert "Added: four" in rest  # what changed after it spans them


def test_the_history_reads_clearly_in_korean(app, user):
    note_id, mine = conflicted(app, user)
    assert user.post("/language", {"language": "ko", "next": "/"}).status_code == 302
    user.post(f"/notes/{note_id}/resolve", {**mine, "choice": "theirs"})
    note = page(user.get(f"/notes/{note_id}"))
    assert ">변경 기록<" in note
    html = page(user.get(f"/notes/{note_id}/history"))
    assert "의 변경 기록</h1>" in html
    (aside, aside_rest), (saved, _) = entries(user, note_id)
    assert (
        aside.startswith("충돌 때 따로 둔 글:") and "메모의 내용이었던 적이 없는 글" in aside_rest
    )
    assert saved.startswith("저장:")
    save(user, note_id, "다섯")
    save(user, note_id, "여섯")
    assert "몇 분 안에 이어서 저장한 2개 버전은 따로 남지 않았어요" in entries(user, note_id)[1][1]
