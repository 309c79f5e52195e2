"""app/features/notes/service.py is the only writer of notes, and app/features/notes/reminders.py
of reminders: in the tests, any other write of either fails (tests/note_writers.py), tried
here in each form code has used or a review found; and each change runs its rules once, in
one order (a stale save spends nothing, every write spends one)."""

from datetime import timedelta

import pytest
from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as upsert

from app import throttle
from app.extensions import db
from app.features.notes import events, reminders, service
from app.models import Note, NoteEvent, Reminder, User, utcnow
from app.writers import writing
from tests.note_writers import NotTheWriter
from tests.noting import conflicted, edit_form, note_id_of, page, second_session
from tests.reminding import note_with_reminder
from tests.writes import events_of, last_seq, writes_spent


def execute(statement, **params):
    db.session.execute(statement, params)


def flushed(change):
    def write(note, reminder):
        change(note, reminder)
        db.session.flush()

    return write


def set_pinned(row, reminder):
    row.pinned = True  # a note by any name


def add_to_content(note, reminder):
    notes = [note]
    notes[0].content += "x"


def clear_notes(note, reminder):
    owner = db.session.get(User, note.user_id)  # held: a collection of a collected owner fails
    owner.notes.clear()


def append_note(note, reminder):
    owner = db.session.get(User, note.user_id)
    owner.notes.append(Note(title="x", content=""))


def update_by_alias(note, reminder):
    N = Note  # noqa: N806  (the form a review found)
    execute(update(N).values(title="x"))


def on_the_engine(note, reminder):
    with db.engine.begin() as connection:
        connection.execute(update(Note.__table__).values(title="x"))


def driver_sql(note, reminder):
    db.session.connection().exec_driver_sql("UPDATE note SET title = 'x'")


def set_outside_then_flushed_by_a_writer(note, reminder):
    note.pinned = True  # outside any writer: the flush below is a writer's
    with writing(Note):
        db.session.flush()


def written_by_a_cte(note, reminder):
    moved = update(Note).values(title="x").returning(Note.id).cte("moved")
    execute(select(moved.c.id))


def inserted_from_a_cte_that_writes(note, reminder):
    moved = update(Note).values(pinned=True).returning(Note.id).cte("moved")
    execute(insert(NoteEvent).from_select(["note_id"], select(moved.c.id)))


NOTE_WRITES = {
    "new Note added": flushed(lambda n, r: db.session.add(Note(title="x", user_id=n.user_id))),
    "note.pinned = True": flushed(lambda n, r: setattr(n, "pinned", True)),
    "row.pinned = True": flushed(set_pinned),
    "through a relationship": flushed(lambda n, r: setattr(r.note, "deleted_at", utcnow())),
    "notes[0].content += ...": flushed(add_to_content),
    "session.delete(note)": flushed(lambda n, r: db.session.delete(n)),
    "user.notes.clear()": flushed(clear_notes),
    "user.notes.append(Note())": flushed(append_note),
    "session.merge(Note(id=...))": flushed(lambda n, r: db.session.merge(Note(id=n.id, title="x"))),
    "update(Note)": lambda n, r: execute(update(Note).values(title="x")),
    "update(N), N = Note": update_by_alias,
    "update(Note.__table__)": lambda n, r: execute(update(Note.__table__).values(title="x")),
    "delete(Note.__table__)": lambda n, r: execute(delete(Note.__table__)),
    "insert(Note)": lambda n, r: execute(insert(Note).values(title="x", user_id=n.user_id)),
    "an upsert": lambda n, r: execute(
        upsert(Note).values(id=n.id, title="x", user_id=n.user_id).on_conflict_do_nothing()
    ),
    "query(Note).update()": lambda n, r: db.session.query(Note).update({"title": "x"}),
    "query(Note).delete()": lambda n, r: db.session.query(Note).delete(),
    "bulk_update_mappings": lambda n, r: db.session.bulk_update_mappings(
        Note, [{"id": n.id, "title": "x"}]
    ),
    "bulk_insert_mappings": lambda n, r: db.session.bulk_insert_mappings(
        Note, [{"title": "x", "user_id": n.user_id}]
    ),
    "Core on the engine": on_the_engine,
    "exec_driver_sql": driver_sql,
    "text('UPDATE note')": lambda n, r: execute(text("UPDATE note SET title = :t"), t="x"),
    "text('delete from \"note\"')": lambda n, r: execute(text('delete from "note" where id = 1')),
    "text('UPDATE public.note')": lambda n, r: execute(text("UPDATE public.note SET title = 'x'")),
    "text('UPDATE ONLY note')": lambda n, r: execute(text("UPDATE ONLY note SET pinned = true")),
    "text(WITH ... UPDATE note)": lambda n, r: execute(
        text("WITH moved AS (UPDATE note SET pinned = true RETURNING id) SELECT id FROM moved")
    ),
    "text(INSERT INTO note)": lambda n, r: execute(
        text("INSERT INTO note (title, user_id) VALUES ('x', :u)"), u=n.user_id
    ),
    "text(TRUNCATE ..., note)": lambda n, r: execute(text('TRUNCATE "note_event", "note"')),
    "set outside, flushed by a writer": set_outside_then_flushed_by_a_writer,
    "select(update(Note).cte())": written_by_a_cte,
    "insert().from_select(<DML CTE>)": inserted_from_a_cte_that_writes,
    "text(UPDATE note).columns()": lambda n, r: execute(
        text("UPDATE note SET title = 'x' RETURNING id").columns(Note.id)
    ),
    "text('UPDATE /* x */ note')": lambda n, r: execute(
        text("UPDATE /* x */ note SET title = 'x'")
    ),
    "text('UPDATE U&\"...\"'), an escaped name": lambda n, r: execute(
        text("UPDATE U&\"\\006eote\" SET title = 'x'")
    ),
}

REMINDER_WRITES = {
    "reminder.next_at = ...": flushed(lambda n, r: setattr(r, "next_at", utcnow())),
    "session.delete(reminder)": flushed(lambda n, r: db.session.delete(r)),
    "new Reminder added": flushed(
        lambda n, r: db.session.add(Reminder(note_id=n.id, user_id=n.user_id, repeat="none"))
    ),
    "update(Reminder)": lambda n, r: execute(update(Reminder).values(private=True)),
    "delete(Reminder)": lambda n, r: execute(delete(Reminder)),
    "bulk_update_mappings": lambda n, r: db.session.bulk_update_mappings(
        Reminder, [{"id": r.id, "private": True}]
    ),
    "text('UPDATE reminder')": lambda n, r: execute(text("UPDATE reminder SET private = true")),
    "text('DELETE FROM public.\"reminder\"')": lambda n, r: execute(
        text('DELETE FROM public."reminder"')
    ),
}


@pytest.fixture
def written(app, user):
    """The ids of ann's note with a reminder, both made by their writers."""
    note_id = note_with_reminder(user)
    with app.app_context():
        return note_id, db.session.scalar(select(Reminder.id).where(Reminder.note_id == note_id))


def row_of(app, model, row_id):
    with app.app_context():
        row = db.session.get(model, row_id)
        return {column.key: getattr(row, column.key) for column in model.__table__.columns}


def refused(app, written, write):
    """Run `write` on the note and its reminder outside any writer; return what was raised."""
    note_id, reminder_id = written
    before = row_of(app, Note, note_id), row_of(app, Reminder, reminder_id)
    with app.app_context():
        note, reminder = db.session.get(Note, note_id), db.session.get(Reminder, reminder_id)
        with pytest.raises(NotTheWriter) as raised:
            write(note, reminder)
        db.session.rollback()
    assert (row_of(app, Note, note_id), row_of(app, Reminder, reminder_id)) == before
    return str(raised.value)


@pytest.mark.parametrize("write", NOTE_WRITES.values(), ids=NOTE_WRITES.keys())
def test_each_way_of_writing_a_note_outside_its_writer_is_refused(app, written, write):
    assert "Note written outside its writer (" in refused(app, written, write)


@pytest.mark.parametrize("write", REMINDER_WRITES.values(), ids=REMINDER_WRITES.keys())
def test_each_way_of_writing_a_reminder_outside_its_writer_is_refused(app, written, write):
    assert "Reminder written outside its writer (" in refused(app, written, write)


def test_the_refusal_names_the_model_and_the_operation(app, written):
    assert refused(app, written, NOTE_WRITES["session.delete(note)"]).startswith(
        "Note written outside its writer (DELETE at a flush): change notes through "
    )
    assert "(UPDATE statement)" in refused(app, written, NOTE_WRITES["update(Note)"])
    assert "(TRUNCATE in SQL text)" in refused(
        app, written, NOTE_WRITES["text(TRUNCATE ..., note)"]
    )
    bulk = refused(app, written, REMINDER_WRITES["bulk_update_mappings"])
    assert bulk.startswith("Reminder written outside its writer (UPDATE on a connection)")


def test_reading_notes_and_writing_other_tables_pass(app, written):
    with app.app_context():
        note = db.session.get(Note, written[0])
        note.title  # noqa: B018  (a read)
        execute(text("UPDATE note_version SET dropped = 1 WHERE note_id = :id"), id=note.id)
        execute(text("SELECT id FROM note WHERE id = :id FOR UPDATE"), id=note.id)
        note.pinned = note.pinned  # set, but not changed
        db.session.commit()


def test_the_writers_own_writes_pass(app, user, written):
    note_id, _ = written
    with app.test_request_context(), app.app_context():
        note = db.session.get(Note, note_id)
        service.change(note.user_id, note, pinned=True, trashed=True, content="new")
        service.change(note.user_id, note, trashed=False)
        with service.touching(note.user_id, note, "reminder"):
            reminders.change(note, None)
        copy = service.create(note.user_id, "Copy", "text")
        service.delete_for_good([copy])
        service.change(note.user_id, note, trashed=True)
        db.session.commit()
        assert service.purge_expired(utcnow() + timedelta(days=1)) == 1
        db.session.commit()
        assert db.session.scalar(select(Note.id)) is None


def test_a_shown_change_inside_the_writer_must_move_the_revision(app, written):
    with app.app_context():
        note = db.session.get(Note, written[0])
        with writing(Note):
            note.pinned = True
            db.session.flush()
        with pytest.raises(NotTheWriter, match="its revision stayed"):
            db.session.commit()
        db.session.rollback()
        with writing(Note):
            note.pinned, note.revision = True, note.revision + 1
            db.session.flush()
        db.session.commit()


def test_the_writers_count_goes_with_its_write_and_never_commits_its_callers_session(
    app, user, written
):
    note_id, _ = written
    spent = writes_spent(app)
    with app.test_request_context(), app.app_context():
        note = db.session.get(Note, note_id)
        db.session.get(User, note.user_id).nickname = "uncommitted"  # the caller's own write
        db.session.flush()
        service.change(note.user_id, note, pinned=True)
        db.session.rollback()  # the request fails after the change: nothing was written
    assert writes_spent(app) == spent
    with app.app_context():
        assert db.session.get(User, 1).nickname == "ann"
        assert db.session.get(Note, note_id).pinned is False
    with app.test_request_context(), app.app_context():
        note = db.session.get(Note, note_id)
        service.change(note.user_id, note, pinned=True)
        db.session.commit()  # the request ends well: the write and its count
    assert writes_spent(app) == spent + 1


def test_an_attempts_count_refuses_to_commit_what_its_caller_wrote(app, user):
    with app.test_request_context(), app.app_context():
        db.session.get(User, 1).nickname = "uncommitted"
        db.session.flush()
        with pytest.raises(RuntimeError, match="count first"):
            throttle.spend_signup()
        db.session.rollback()
    with app.app_context():
        assert db.session.get(User, 1).nickname == "ann"


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
    left = app.config["TOKEN_WRITES_PER_MINUTE"] - 2  # the token's, apart from the pages'
    assert changed.get_json()["revision"] == 2 and changed.headers["RateLimit-Remaining"] == str(
        left
    )
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
