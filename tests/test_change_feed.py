"""The change feed: `GET /api/v1/changes?since=N` lists the account's notes changed after N
and the notes deleted for good (tombstones), in order; a `since` older than the tombstones
kept is 410."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from app.extensions import db
from app.features.notes import changes
from app.features.notes.tasks import purge_trash_and_history, retag_notes
from app.models import ChangeCounter, NoteEvent, NoteTombstone, utcnow
from devenv.visitors import PASSWORD
from tests.apiclients import ApiClient, is_problem, token_for
from tests.note_writers import set_up_directly
from tests.writes import events_of, last_seq, stored_html


def feed(ann_api, since=0, limit=None):
    query = f"/changes?since={since}" + (f"&limit={limit}" if limit else "")
    response = ann_api.get(query)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_the_feed_from_0_lists_every_note_in_order(ann_api):
    first, second = ann_api.new_note(title="one"), ann_api.new_note(title="two")
    page = feed(ann_api)
    assert [item["note"]["title"] for item in page["items"]] == ["one", "two"]
    assert [item["seq"] for item in page["items"]] == [1, 2]
    assert page["items"][0]["note"] == ann_api.get(f"/notes/{first['id']}").get_json()
    assert page["next_since"] == 2
    assert feed(ann_api, since=2) == {"items": [], "next_since": 2}
    assert second["revision"] == 1


def test_asking_again_lists_only_what_changed_after_trashed_notes_included(ann_api):
    kept, trashed = ann_api.new_note(title="kept"), ann_api.new_note(title="trashed")
    since = feed(ann_api)["next_since"]
    ann_api.delete(f"/notes/{trashed['id']}", headers={"If-Match": '"1"'})
    page = feed(ann_api, since)
    assert [(item["note"]["id"], item["note"]["trashed"]) for item in page["items"]] == [
        (trashed["id"], True)
    ]
    assert kept["id"] not in {item["note"]["id"] for item in page["items"]}


def test_pages_of_the_feed_follow_each_other(ann_api):
    for number in range(5):
        ann_api.new_note(title=f"n{number}")
    seen, since = [], 0
    while page := feed(ann_api, since, limit=2)["items"]:
        seen += [item["note"]["title"] for item in page]
        since = page[-1]["seq"]
    assert seen == ["n0", "n1", "n2", "n3", "n4"]


def test_emptying_the_trash_leaves_a_tombstone_in_the_feed(ann_api, user):
    note = ann_api.new_note()
    ann_api.delete(f"/notes/{note['id']}", headers={"If-Match": '"1"'})
    since = feed(ann_api)["next_since"]
    assert user.post("/trash/empty").status_code == 302
    (item,) = feed(ann_api, since)["items"]
    assert item["deleted"]["id"] == note["id"] and "note" not in item
    assert item["seq"] == since + 1 and item["deleted"]["deleted_at"].endswith("+00:00")
    assert feed(ann_api)["items"] == [item]  # from 0 too: the note is gone, its tombstone stays


def purge_after_a_month(app):
    """Date every trashed note 31 days back, then run the daily purge."""
    with app.app_context():
        with set_up_directly():
            db.session.execute(
                update(changes.Note).values(deleted_at=utcnow() - timedelta(days=31))
            )
        db.session.commit()
        purge_trash_and_history(0)


def test_the_daily_purge_leaves_a_tombstone_for_each_expired_note(app, ann_api):
    note = ann_api.new_note()
    ann_api.delete(f"/notes/{note['id']}", headers={"If-Match": '"1"'})
    purge_after_a_month(app)
    assert [item["deleted"]["id"] for item in feed(ann_api)["items"]] == [note["id"]]


def test_a_since_older_than_the_kept_tombstones_is_410(app, ann_api):
    note = ann_api.new_note()
    ann_api.delete(f"/notes/{note['id']}", headers={"If-Match": '"1"'})
    ann_api.post(f"/notes/{note['id']}/restore")
    ann_api.delete(f"/notes/{note['id']}", headers={"If-Match": '"3"'})
    purge_after_a_month(app)
    with app.app_context():
        db.session.execute(update(NoteTombstone).values(deleted_at=utcnow() - timedelta(days=91)))
        db.session.commit()
        purge_trash_and_history(0)
    gone = ann_api.get("/changes?since=2")
    assert is_problem(gone, 410, "changes-forgotten")
    assert feed(ann_api, since=5) == {"items": [], "next_since": 5}
    assert feed(ann_api) == {"items": [], "next_since": 0}  # from 0: read everything again


def test_a_tombstone_younger_than_90_days_stays(app, ann_api, user):
    note = ann_api.new_note()
    ann_api.delete(f"/notes/{note['id']}", headers={"If-Match": '"1"'})
    user.post("/trash/empty")
    with app.app_context():
        db.session.execute(update(NoteTombstone).values(deleted_at=utcnow() - timedelta(days=89)))
        db.session.commit()
        purge_trash_and_history(0)
    assert feed(ann_api, since=1)["items"][0]["deleted"]["id"] == note["id"]


@pytest.mark.parametrize("query", ["since=-1", "limit=0", "limit=501", "since=x", "other=1"])
def test_a_feed_query_out_of_bounds_is_422(ann_api, query):
    assert is_problem(ann_api.get(f"/changes?{query}"), 422, "invalid-fields")


def test_another_accounts_changes_never_show(ann_api, bob_api):
    ann_api.new_note()
    assert feed(bob_api) == {"items": [], "next_since": 0}


def test_a_read_token_may_read_the_feed(app, ann_api):
    ann_api.new_note()
    reader = ApiClient(app, token_for(app, scope="read"))
    assert len(feed(reader)["items"]) == 1


def test_deleting_the_account_deletes_its_tombstones_counter_and_events(app, ann_api, user):
    note = ann_api.new_note()
    ann_api.delete(f"/notes/{note['id']}", headers={"If-Match": '"1"'})
    user.post("/trash/empty")
    assert last_seq(app) == 3 and len(events_of(app)) == 3
    assert user.post("/mypage/delete", {"password": PASSWORD}).status_code == 302
    with app.app_context():
        for model in (NoteTombstone, ChangeCounter, NoteEvent):
            assert db.session.scalar(select(func.count()).select_from(model)) == 0


def test_the_retag_job_numbers_and_renders_what_the_previous_release_wrote(app, ann_api):
    note = ann_api.new_note()
    since = feed(ann_api)["next_since"]
    with app.app_context(), set_up_directly():  # the previous release's insert: no number, HTML
        db.session.execute(
            update(changes.Note).values(seq=None, rendered=None, rendered_version=None)
        )
        db.session.commit()
        retag_notes(0)
    (item,) = feed(ann_api, since)["items"]
    assert item["note"]["id"] == note["id"] and item["seq"] == since + 1
    assert stored_html(app, note["id"])[1] == 1
