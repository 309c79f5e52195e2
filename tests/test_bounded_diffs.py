"""Diffs, conflicts, "keep the saved one" and the history page within a budget (issue #47).

Each test here failed on 36974c7: a diff of 10,000 interleaved unique lines took 4.7 to 43 s,
a stale save spent no write and checked no room, and `choice=theirs` wrote history with
neither, conflict or not.
"""

import re
import time

import pytest
from sqlalchemy import text

from app.extensions import db
from app.features.notes.diff import DIFF_LINES_SHOWN, text_diff
from tests.noting import conflicted, edit_form, note_id_of, page, save, second_session

# 10,000 unique one-character lines, and the same lines interleaved: difflib's worst case.
UNIQUE = [chr(0xAC00 + number) for number in range(10_000)]
OLD, NEW = "\n".join(UNIQUE), "\n".join(UNIQUE[::2] + UNIQUE[1::2])


def test_a_diff_of_ten_thousand_unique_lines_says_promptly_that_they_differ_throughout():
    started = time.perf_counter()
    changes = text_diff(OLD, NEW)
    assert time.perf_counter() - started < 0.5
    assert [line.kind for line in changes] == ["throughout"]


def test_a_small_change_in_a_long_text_is_still_shown_line_by_line():
    changes = text_diff(OLD, OLD.replace(UNIQUE[5000], "changed"))
    assert [(line.kind, line.text) for line in changes if line.kind != "same"] == [
        ("removed", UNIQUE[5000]),
        ("added", "changed"),
    ]


def test_a_diff_shows_at_most_so_many_lines_and_says_how_many_more():
    changes = text_diff("\n".join(UNIQUE[:400]), "\n".join(UNIQUE[400:800]))
    assert len(changes) == DIFF_LINES_SHOWN + 1
    assert (changes[-1].kind, changes[-1].text) == ("cut", "300")


def stale_save(user, note_id, version, content):
    return user.post(
        f"/notes/{note_id}/edit", {"title": "Plan", "content": content, "version": version}
    )


def test_a_hostile_conflict_page_answers_promptly_with_the_texts_differing_throughout(app, user):
    note_id = note_id_of(user.create_note("Plan", OLD))
    version = edit_form(user, note_id)
    save(second_session(app), note_id, OLD.replace(UNIQUE[0], "z"))
    started = time.perf_counter()
    answer = stale_save(user, note_id, version, NEW)
    assert time.perf_counter() - started < 2
    assert answer.status_code == 409
    assert "The two texts differ throughout" in page(answer)


def test_a_conflict_spends_no_note_write(app, user, monkeypatch):
    note_id, _ = conflicted(app, user)  # two writes and a conflict
    monkeypatch.setitem(app.config, "NOTE_WRITES_PER_MINUTE", 3)
    statuses = [stale_save(user, note_id, 1, f"try {n}").status_code for n in range(6)]
    assert statuses == [409] * 6  # a stale save writes nothing, so it spends nothing


def test_a_conflict_over_the_accounts_room_writes_nothing(app, user, monkeypatch):
    note_id, _ = conflicted(app, user)
    monkeypatch.setitem(app.config, "NOTE_BYTES_PER_USER", 1000)
    answer = stale_save(user, note_id, 1, "x" * 2000)
    assert answer.status_code == 409  # the conflict page: choosing "mine" checks the room
    assert "x" * 2000 not in page(user.get(f"/notes/{note_id}"))


def versions_kept(app):
    with app.app_context():
        count = db.session.scalar(text("SELECT count(*) FROM note_version"))
        db.session.rollback()
        return count


def test_keep_the_saved_one_is_accepted_only_for_a_real_conflict(app, user):
    note_id = note_id_of(user.create_note("Plan", "first text"))
    version = edit_form(user, note_id)
    form = {"title": "Plan", "content": "mine", "version": version, "base": version}
    answer = user.post(f"/notes/{note_id}/resolve", {**form, "choice": "theirs"})
    assert answer.status_code == 400
    assert "nothing to resolve" in page(answer)
    assert versions_kept(app) == 0


def test_keep_the_saved_one_past_the_write_rate_gets_429_and_keeps_nothing_more(app, user):
    note_id, mine = conflicted(app, user)
    limit = app.config["NOTE_WRITES_PER_MINUTE"]
    with app.app_context():  # the burst opens a window of its own, whatever came before it
        db.session.execute(text("DELETE FROM login_throttle WHERE scope = 'note-writes'"))
        db.session.commit()
    before = versions_kept(app)
    started = time.monotonic()
    statuses = [
        user.post(
            f"/notes/{note_id}/resolve", {**mine, "content": f"copy {n}", "choice": "theirs"}
        ).status_code
        for n in range(limit + 70)
    ]
    windows = 1 + int((time.monotonic() - started) // 60)  # 1 unless the machine crawled
    accepted = statuses.count(302)
    assert 0 < accepted <= limit * windows
    assert statuses.count(429) == len(statuses) - accepted
    assert versions_kept(app) - before <= accepted


def test_keep_the_saved_one_respects_the_quota(app, user, monkeypatch):
    note_id, mine = conflicted(app, user)
    monkeypatch.setitem(app.config, "NOTE_BYTES_PER_USER", 2000)
    before = versions_kept(app)
    answer = user.post(
        f"/notes/{note_id}/resolve", {**mine, "content": "y" * 2500, "choice": "theirs"}
    )
    assert answer.status_code == 409
    assert "the most one account may keep" in page(answer)
    assert versions_kept(app) <= before


@pytest.fixture
def many_versions(app, user, monkeypatch):
    monkeypatch.setitem(app.config, "HISTORY_QUIET_SECONDS", 0)
    monkeypatch.setitem(app.config, "NOTE_WRITES_PER_MINUTE", 1000)
    note_id = note_id_of(user.create_note("Plan", "\n".join(UNIQUE[:400])))
    for number in range(8):
        start = 400 * (number + 1)
        save(user, note_id, "\n".join(UNIQUE[start : start + 400]))
    return note_id


def test_the_history_page_diffs_its_newest_versions_and_links_the_others(user, many_versions):
    started = time.perf_counter()
    history = page(user.get(f"/notes/{many_versions}/history"))
    assert time.perf_counter() - started < 2
    assert history.count("Restore this version") == 8
    assert history.count("Show what changed after it") == 3
    assert len(history) < 600_000  # DIFFS_SHOWN diffs of DIFF_LINES_SHOWN lines at most
    link = re.findall(r'href="(/notes/\d+/history/\d+)"', history)[-1]
    one = user.get(link)
    assert one.status_code == 200
    assert "more lines of changes, not shown" in page(one)


def test_a_stale_form_from_another_session_still_conflicts(app, user):
    note_id = note_id_of(user.create_note("Plan", "first text"))
    other = second_session(app)
    version = edit_form(other, note_id)
    save(user, note_id, "moved on")
    assert stale_save(other, note_id, version, "late").status_code == 409
