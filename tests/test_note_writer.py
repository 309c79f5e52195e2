"""app/features/notes/service.py is the only writer of notes: the layout holds it, and each change
runs its rules once, in one order (a stale save spends nothing, every write spends one)."""

import pytest
from sqlalchemy import select

from app.extensions import db
from app.features.notes import events, service
from app.models import Note, NoteEvent
from devenv import ROOT
from tests.note_writers import note_writes
from tests.noting import conflicted, edit_form, note_id_of, page, second_session
from tests.writes import events_of, last_seq, writes_spent

WRITER = ROOT / "app" / "features" / "notes" / "service.py"


def test_no_module_but_the_service_writes_a_note():
    found = [
        f"{path.relative_to(ROOT)}:{line}: {what}"
        for path in sorted((ROOT / "app").rglob("*.py"))
        if path != WRITER
        for line, what in note_writes(path.read_text())
    ]
    assert found == []


@pytest.mark.parametrize(
    "source",
    [
        "note = Note(title='x', user_id=1)",
        "note.pinned = True",
        "copy.note.deleted_at = None",
        "notes[0].content += 'x'",
        "db.session.execute(update(Note).values(title='x'))",
        "db.session.execute(update_rows(Note).values(title='x'))",
        "db.session.execute(delete(Note.__table__))",
        "db.session.execute(insert(Note).values(title='x'))",
        "db.session.delete(note)",
        "setattr(note, 'title', 'x')",
        "text('UPDATE note SET title = :t')",
        "text('delete from \"note\" where id = 1')",
    ],
)
def test_the_layout_check_finds_each_way_of_writing_a_note(source):
    assert list(note_writes(source))


@pytest.mark.parametrize(
    "source",
    [
        "version.title = 'x'",
        "db.session.execute(update(NoteVersion).values(kind='x'))",
        "text('DELETE FROM note_tombstone WHERE seq < 1')",
        "form.title.data = note.title",
        "select(Note).where(Note.id == 1)",
    ],
)
def test_the_layout_check_leaves_other_code_alone(source):
    assert list(note_writes(source)) == []


def test_a_stale_save_from_the_page_spends_no_write(app, user):
    conflicted(app, user)
    assert writes_spent(app) == 2  # the note made, the other device's save: not the stale one


def test_a_stale_tick_spends_no_write(app, user):
    note_id = note_id_of(user.create_note("Plan", "- [ ] milk"))
    version = edit_form(user, note_id)
    user.post(
        f"/notes/{note_id}/edit",
        {"title": "Plan", "content": "- [ ] milk\n- [ ] x", "version": version},
    )
    spent = writes_spent(app)
    refused = user.post(f"/notes/{note_id}/tasks/0", {"done": "1", "version": version})
    assert refused.status_code == 409 and writes_spent(app) == spent


@pytest.mark.parametrize("path", ["pin", "archive", "toggle", "delete"])
def test_each_page_change_spends_one_write_moves_the_sequence_and_emits_one_event(app, user, path):
    note_id = note_id_of(user.create_note())
    before = (writes_spent(app), last_seq(app), len(events_of(app)))
    assert user.post(f"/notes/{note_id}/{path}").status_code == 302
    after = (writes_spent(app), last_seq(app), len(events_of(app)))
    assert after == (before[0] + 1, before[1] + 1, before[2] + 1)


def test_an_api_change_of_text_and_flags_is_one_write_one_revision_one_event(app, user, ann_api):
    note = ann_api.new_note()
    body = {"title": "New", "pinned": True, "completed": True}
    changed = ann_api.patch(f"/notes/{note['id']}", body, headers={"If-Match": '"1"'})
    assert changed.get_json()["revision"] == 2 and changed.headers["RateLimit-Remaining"] == "28"
    assert events_of(app)[-1] == (note["id"], 2, "completed,pinned,title")
    assert writes_spent(app) == 2


def test_a_change_that_changes_nothing_spends_nothing(app, user):
    note_id = note_id_of(user.create_note())
    user.post(f"/notes/{note_id}/pin")
    spent = writes_spent(app)
    assert user.post(f"/notes/{note_id}/unpin").status_code == 302
    assert user.post(f"/notes/{note_id}/unpin").status_code == 302
    assert writes_spent(app) == spent + 1


def test_keep_both_makes_the_copy_through_the_writer(app, user):
    note_id, mine = conflicted(app, user)
    kept = user.post(f"/notes/{note_id}/resolve", {**mine, "choice": "both"})
    copy_id = note_id_of(kept)
    with app.app_context():
        copy = db.session.get(Note, copy_id)
        assert (copy.revision, copy.seq) == (1, last_seq(app))
        assert copy.rendered and copy.rendered_version == 1


def test_a_subscriber_sees_each_event_inside_the_writing_transaction(app, user):
    seen = []

    def subscriber(event):
        # Inside the transaction: the change is visible to its own session, not yet committed.
        note = db.session.get(Note, event.note_id)
        seen.append((event.kind, note.seq == event.seq, note.pinned))

    events.subscribe(subscriber)
    try:
        note_id = note_id_of(user.create_note())
        user.post(f"/notes/{note_id}/pin")
    finally:
        events.SUBSCRIBERS.remove(subscriber)
    assert seen == [("created", True, False), ("pinned", True, True)]


def test_a_refused_change_leaves_no_event(app, user):
    phone = second_session(app)
    note_id = note_id_of(user.create_note("Plan", "first"))
    version = edit_form(user, note_id)
    phone.post(f"/notes/{note_id}/edit", {"title": "Plan", "content": "phone", "version": version})
    count = len(events_of(app))
    user.post(f"/notes/{note_id}/edit", {"title": "Plan", "content": "mine", "version": version})
    assert len(events_of(app)) == count
    with app.app_context():
        kinds = db.session.scalars(select(NoteEvent.kind).order_by(NoteEvent.id)).all()
    assert kinds == ["created", "content"]
    assert "phone" in page(user.get(f"/notes/{note_id}"))


def test_a_change_kept_outside_the_note_moves_its_revision_through_the_writer(app, user, ann_api):
    note = ann_api.new_note()
    with app.test_request_context(), app.app_context():
        found = db.session.get(Note, note["id"])
        with service.touching(found.user_id, found, "reminder", revision=1):
            pass  # a feature's own rows would be written here
        db.session.commit()
    assert ann_api.get(f"/notes/{note['id']}").headers["ETag"] == '"2"'
    assert events_of(app)[-1] == (note["id"], 2, "reminder")
    assert ann_api.get("/changes?since=1").get_json()["items"][0]["note"]["id"] == note["id"]
