"""Nothing a user writes is lost: the trash, saves that would overwrite another, and history.

Against the suite's real PostgreSQL and object store; time is moved in the database, not
waited for.
"""

import re

import pytest
from sqlalchemy import text

from app.extensions import db
from app.features.notes import tasks as notes_tasks
from devenv.services import stored_keys
from devenv.uploads import Attacher
from tests.attaching import PDF
from tests.note_writers import set_up_directly
from tests.noting import conflicted, edit_form, note_id_of, page, save, second_session
from tests.workers import run_queued_jobs

pytestmark = pytest.mark.usefixtures("no_jobs")


def words(response):
    """The page's text without its tags (search marks the words it found)."""
    return re.sub(r"<[^>]+>", "", page(response))


def trashed_days_ago(app, note_id, days):
    with app.app_context(), set_up_directly():  # a clock moved back
        db.session.execute(
            text("UPDATE note SET deleted_at = now() - :d * interval '1 day' WHERE id = :id"),
            {"d": days, "id": note_id},
        )
        db.session.commit()


# --- The trash ----------------------------------------------------------------------------


def test_a_deleted_note_comes_back_from_the_trash_with_its_attachments_and_search_hits(
    user, object_store
):
    note_id = note_id_of(user.create_note("Pelican facts", "a pelican's bill holds water"))
    attacher = Attacher(user)
    attacher.attach(note_id, PDF, "report.pdf")
    assert "Pelican facts" in words(user.get("/search?q=pelican"))
    files = stored_keys(object_store)

    assert user.post(f"/notes/{note_id}/delete").status_code == 302
    assert "Pelican facts" not in page(user.get("/"))
    assert "Pelican facts" not in words(user.get("/search?q=pelican"))
    assert user.get(f"/notes/{note_id}").status_code == 404
    assert user.get(f"/notes/{note_id}/wordcount").status_code == 404
    trash = page(user.get("/trash"))
    assert "Pelican facts" in trash and "30 days" in trash

    restored = user.post(f"/trash/{note_id}/restore")
    assert restored.headers["Location"] == f"/notes/{note_id}"
    assert "Note restored." in page(user.get(f"/notes/{note_id}"))
    assert [name for _, name in attacher.listing(note_id)] == ["report.pdf"]
    assert "Pelican facts" in words(user.get("/search?q=pelican"))
    assert "Pelican facts" in page(user.get("/"))
    assert "Pelican facts" not in page(user.get("/trash"))
    assert stored_keys(object_store) == files


def test_emptying_the_trash_deletes_the_notes_and_their_files_for_good(
    app, user, count_rows, object_store
):
    kept = note_id_of(user.create_note("Kept"))
    gone = note_id_of(user.create_note("Gone"))
    Attacher(user).attach(gone, PDF, "report.pdf")
    run_queued_jobs(app)  # the upload's own copy goes once the attachment is confirmed
    files = stored_keys(object_store)
    user.post(f"/notes/{gone}/delete")
    run_queued_jobs(app)
    assert stored_keys(object_store) == files  # a trashed note keeps its attachments

    emptied = user.post("/trash/empty")
    assert emptied.headers["Location"] == "/trash"
    assert "1 note deleted for good." in page(user.get("/trash"))
    assert count_rows("note") == 1 and count_rows("attachment") == 0
    run_queued_jobs(app)
    assert stored_keys(object_store) == set()
    assert user.get(f"/notes/{kept}").status_code == 200


def test_the_worker_purges_notes_trashed_30_days_ago_and_their_files(
    app, user, count_rows, object_store
):
    old = note_id_of(user.create_note("Trashed a month ago"))
    recent = note_id_of(user.create_note("Trashed last week"))
    Attacher(user).attach(old, PDF, "old.pdf")
    run_queued_jobs(app)
    old_files = stored_keys(object_store)
    Attacher(user).attach(recent, PDF, "recent.pdf")
    run_queued_jobs(app)
    recent_files = stored_keys(object_store) - old_files
    for note_id in (old, recent):
        user.post(f"/notes/{note_id}/delete")
    trashed_days_ago(app, old, 31)
    trashed_days_ago(app, recent, 7)

    with app.app_context():
        notes_tasks.purge_trash_and_history(timestamp=0)
    run_queued_jobs(app)

    trash = page(user.get("/trash"))
    assert "Trashed last week" in trash and "Trashed a month ago" not in trash
    assert count_rows("note") == 1
    assert stored_keys(object_store) == recent_files


def test_another_users_trashed_note_cannot_be_restored(user, other_user):
    note_id = note_id_of(user.create_note("Ann's"))
    user.post(f"/notes/{note_id}/delete")
    assert other_user.post(f"/trash/{note_id}/restore").status_code == 404
    assert "Ann's" not in page(other_user.get("/trash"))
    assert other_user.post("/trash/empty").status_code == 302
    assert "Ann's" in page(user.get("/trash"))


def test_a_note_in_the_list_cannot_be_restored_twice(user):
    note_id = note_id_of(user.create_note())
    assert user.post(f"/trash/{note_id}/restore").status_code == 404


# --- Saves that would overwrite another -----------------------------------------------------


def test_a_save_based_on_an_older_version_is_not_applied_and_shows_both_texts(app, user):
    note_id = note_id_of(user.create_note("Plan", "first text"))
    laptop, phone = user, second_session(app)
    laptop_version, phone_version = edit_form(laptop, note_id), edit_form(phone, note_id)
    saved = phone.post(
        f"/notes/{note_id}/edit",
        {"title": "Plan", "content": "phone's text", "version": phone_version},
    )
    assert saved.status_code == 302

    refused = laptop.post(
        f"/notes/{note_id}/edit",
        {"title": "Plan", "content": "laptop's text", "version": laptop_version},
    )
    assert refused.status_code == 409
    assert "This note was changed meanwhile" in page(refused)
    assert "laptop's text" in page(refused) and "phone's text" in page(refused)
    assert "phone's text" in page(laptop.get(f"/notes/{note_id}"))


def texts_of_account(user, note_ids):
    """Every text the account holds for these notes: current and in their history."""
    found = ""
    for note_id in note_ids:
        found += page(user.get(f"/notes/{note_id}")) + page(user.get(f"/notes/{note_id}/history"))
    return found


def test_keep_mine_saves_my_text_and_keeps_the_other_in_history(app, user):
    note_id, mine = conflicted(app, user)
    kept = user.post(f"/notes/{note_id}/resolve", {**mine, "choice": "mine"})
    assert kept.headers["Location"] == f"/notes/{note_id}"
    assert "laptop's text" in page(user.get(f"/notes/{note_id}"))
    assert "phone's text" in page(user.get(f"/notes/{note_id}/history"))


def test_keep_theirs_keeps_the_saved_text_and_mine_in_history(app, user):
    note_id, mine = conflicted(app, user)
    user.post(f"/notes/{note_id}/resolve", {**mine, "choice": "theirs"})
    assert "phone's text" in page(user.get(f"/notes/{note_id}"))
    assert "laptop's text" in page(user.get(f"/notes/{note_id}/history"))


def test_keep_both_makes_my_text_a_new_note(app, user):
    note_id, mine = conflicted(app, user)
    both = user.post(f"/notes/{note_id}/resolve", {**mine, "choice": "both"})
    copy_id = note_id_of(both)
    assert copy_id != note_id
    copy = page(user.get(f"/notes/{copy_id}"))
    assert re.search(r"<h1[^>]*>.*\(copy\)</h1>", copy, re.S)  # not a second note of that title
    assert "laptop's text" in page(user.get(f"/notes/{copy_id}"))
    assert "phone's text" in page(user.get(f"/notes/{note_id}"))
    assert "first text" in texts_of_account(user, [note_id])


def test_the_conflict_page_offers_the_choices_before_the_texts(app, user):
    note_id = note_id_of(user.create_note("Plan", "first text"))
    stale = {"title": "Plan", "content": "mine", "version": "0"}
    shown = page(user.post(f"/notes/{note_id}/edit", stale))
    assert shown.index("Keep both as two notes") < shown.index("<h2>Your text</h2>")


def test_a_version_shows_its_full_text(app, user):
    note_id = note_id_of(user.create_note("Plan", "the whole first text\nof two lines"))
    user.post(f"/notes/{note_id}/edit", {"title": "Plan", "content": "new", "version": "1"})
    history = page(user.get(f"/notes/{note_id}/history"))
    [link] = re.findall(r'href="(/notes/\d+/history/\d+)">Show this version in full', history)
    assert "the whole first text\nof two lines" in page(user.get(link))


def test_two_versions_saved_within_a_minute_show_their_seconds(app, user):
    note_id = note_id_of(user.create_note("Plan", "one"))
    user.post(f"/notes/{note_id}/edit", {"title": "Plan", "content": "two", "version": "1"})
    history = page(user.get(f"/notes/{note_id}/history"))
    assert re.search(r"Saved <time[^>]*>[^<]*\d:\d\d [AP]M</time>", history)  # alone: minutes
    first = re.findall(r'action="(/notes/\d+/history/\d+/restore)"', history)[-1]
    user.post(first)  # a restore always keeps the text it replaces
    history = page(user.get(f"/notes/{note_id}/history"))
    saved = re.findall(r"Saved <time[^>]*>([^<]*)</time>", history)
    assert len(saved) == 2 and all(re.search(r"\d:\d\d:\d\d [AP]M$", t) for t in saved), saved


def test_keep_mine_after_yet_another_save_asks_again(app, user):
    note_id, mine = conflicted(app, user)
    other = second_session(app)
    version = edit_form(other, note_id)
    other.post(f"/notes/{note_id}/edit", {"title": "Plan", "content": "third", "version": version})
    again = user.post(f"/notes/{note_id}/resolve", {**mine, "choice": "mine"})
    assert again.status_code == 409
    assert "third" in page(again) and "laptop's text" in page(again)


# --- History ----------------------------------------------------------------------------


@pytest.fixture
def every_save_kept(app, monkeypatch):
    monkeypatch.setitem(app.config, "HISTORY_QUIET_SECONDS", 0)


def test_each_save_keeps_the_text_it_replaced_and_any_version_can_come_back(user, every_save_kept):
    note_id = note_id_of(user.create_note("Plan", "one"))
    save(user, note_id, "one\ntwo")
    save(user, note_id, "one\ntwo\nthree")
    history = page(user.get(f"/notes/{note_id}/history"))
    assert history.count("Restore this version") == 2
    assert "Added: three" in re.sub(r"<[^>]+>", "", history)
    first = re.findall(r'action="(/notes/\d+/history/\d+/restore)"', history)[-1]

    assert user.post(first).headers["Location"] == f"/notes/{note_id}"
    shown = page(user.get(f"/notes/{note_id}"))
    assert '<div class="content markdown"><p>one</p>' in shown
    assert page(user.get(f"/notes/{note_id}/history")).count("Restore this version") == 3


def test_saves_a_few_minutes_apart_keep_one_version(user):
    note_id = note_id_of(user.create_note("Plan", "one"))
    for content in ("two", "three", "four"):
        save(user, note_id, content)
    history = page(user.get(f"/notes/{note_id}/history"))
    assert history.count("Restore this version") == 1


def test_a_note_keeps_its_newest_50_versions_each_for_30_days(
    app, user, every_save_kept, monkeypatch
):
    monkeypatch.setitem(app.config, "NOTE_WRITES_PER_MINUTE", 1000)
    note_id = note_id_of(user.create_note("Plan", "0"))
    with app.app_context(), set_up_directly():  # texts no history kept
        for number in range(1, 55):
            db.session.execute(
                text("UPDATE note SET content = :c WHERE id = :id"),
                {"c": str(number), "id": note_id},
            )
    for number in range(52):
        save(user, note_id, f"save {number}")
    assert page(user.get(f"/notes/{note_id}/history")).count("Restore this version") == 50
    with app.app_context():
        db.session.execute(
            text(
                "UPDATE note_version SET created_at = now() - interval '31 days' "
                "WHERE id IN (SELECT id FROM note_version ORDER BY id LIMIT 10)"
            )
        )
        db.session.commit()
        notes_tasks.purge_trash_and_history(timestamp=0)
    assert page(user.get(f"/notes/{note_id}/history")).count("Restore this version") == 40


def test_history_gives_way_before_a_save_is_refused_for_the_quota(
    app, user, every_save_kept, monkeypatch
):
    monkeypatch.setitem(app.config, "NOTE_BYTES_PER_USER", 3000)
    note_id = note_id_of(user.create_note("Plan", "a" * 1000))
    save(user, note_id, "b" * 1000)  # "a"s in history: 2,000 bytes of 3,000 used
    save(user, note_id, "c" * 1000)  # "b"s too: 3,000
    save(user, note_id, "d" * 1000)  # would be 4,000: the oldest version goes
    history = page(user.get(f"/notes/{note_id}/history"))
    assert "a" * 1000 not in history and "b" * 1000 in history


def test_another_users_history_is_404(user, other_user):
    note_id = note_id_of(user.create_note())
    assert other_user.get(f"/notes/{note_id}/history").status_code == 404
