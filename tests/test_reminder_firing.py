"""Each occurrence of a reminder is mailed once: however many sweeps run, at once or after a
sweeper died mid-batch; nothing for one changed, removed or trashed before it went."""

import threading

import pytest
from sqlalchemy import text

from app.extensions import db
from app.features.notes import reminders as service
from tests.mailbox import PUBLIC_URL, html_of, text_of
from tests.note_writers import set_up_directly
from tests.reminding import (
    add_reminders,
    come_due,
    deliver,
    note_with_reminder,
    occurrences,
    reminder_jobs,
    reminder_mails,
    reminder_row,
    sweep,
    tomorrow_at,
)


def test_a_due_reminder_mails_the_title_and_the_notes_link_once(app, verified, mail_server):
    note_id = note_with_reminder(verified, "Dentist")
    come_due(app)
    assert sweep(app) == 1
    assert sweep(app) == 0  # the second run of the minute finds nothing new
    deliver(app)
    (message,) = reminder_mails(mail_server)
    assert message["Subject"] == "Reminder: Dentist"
    assert f"{PUBLIC_URL}/notes/{note_id}" in text_of(message)
    assert f"{PUBLIC_URL}/notes/{note_id}" in html_of(message)
    assert message["Message-ID"].startswith("<reminder-1@")
    sweep(app)
    deliver(app)
    assert len(reminder_mails(mail_server)) == 1
    assert reminder_row(app, note_id).due_at is None  # a one-time reminder fires no more


def test_a_repeating_reminder_moves_to_its_next_time(app, verified, mail_server):
    note_id = note_with_reminder(verified, repeat="daily")
    come_due(app)
    sweep(app)
    reminder = reminder_row(app, note_id)
    assert reminder.next_at == reminder.due_at
    assert reminder.due_at.strftime("%H:%M") == "09:00"  # the account's zone is UTC here
    deliver(app)
    assert len(reminder_mails(mail_server)) == 1


def test_two_sweepers_at_once_fire_each_occurrence_once(app, verified, mail_server):
    add_reminders(app, 1, 40)
    come_due(app)
    start, fired = threading.Barrier(2), []

    def sweeper():
        with app.app_context():
            start.wait()
            fired.append(sweep(app))

    threads = [threading.Thread(target=sweeper) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(fired) == 40
    assert len(occurrences(app)) == 40
    assert reminder_jobs(app) == 40


def test_a_sweeper_killed_mid_batch_leaves_nothing_and_the_next_fires_once(
    app, verified, mail_server, monkeypatch
):
    add_reminders(app, 1, 5)
    come_due(app)
    advance, calls = service.advance, []

    def dies_on_the_third(note, reminder, moment):
        calls.append(reminder.id)
        if len(calls) == 3:
            raise SystemExit("worker killed")  # the transaction never commits
        advance(note, reminder, moment)

    monkeypatch.setattr(service, "advance", dies_on_the_third)
    with pytest.raises(SystemExit), app.app_context():
        sweep(app)
    monkeypatch.setattr(service, "advance", advance)
    assert occurrences(app) == [] and reminder_jobs(app) == 0
    assert sweep(app) == 5
    deliver(app)
    mails = reminder_mails(mail_server)
    assert sorted(m["Subject"] for m in mails) == [f"Reminder: Note {n}" for n in range(5)]


def test_a_reminder_changed_after_it_fired_and_before_its_mail_sends_nothing(
    app, verified, mail_server
):
    note_id = note_with_reminder(verified)
    come_due(app)
    sweep(app)
    changed = verified.post(f"/notes/{note_id}/reminder", {"at": tomorrow_at(10), "repeat": "none"})
    assert changed.status_code == 302
    deliver(app)
    assert reminder_mails(mail_server) == []
    assert occurrences(app) == [(note_id, "void", False)]


def test_a_reminder_removed_before_its_mail_sends_nothing(app, verified, mail_server):
    note_id = note_with_reminder(verified)
    come_due(app)
    sweep(app)
    assert verified.post(f"/notes/{note_id}/reminder/delete").status_code == 302
    deliver(app)
    assert reminder_mails(mail_server) == []
    assert occurrences(app) == []


def test_a_reminder_changed_before_its_time_fires_at_the_new_time_only(app, verified, mail_server):
    note_id = note_with_reminder(verified)
    verified.post(f"/notes/{note_id}/reminder", {"at": tomorrow_at(11), "repeat": "none"})
    assert sweep(app) == 0  # the old 09:00 is gone, the new time has not come
    assert reminder_row(app, note_id).due_at.strftime("%H:%M") == "11:00"


def test_a_trashed_note_pauses_its_reminder_and_restoring_says_so(app, verified, mail_server):
    note_id = note_with_reminder(verified, repeat="daily")
    verified.post(f"/notes/{note_id}/delete")
    come_due(app, note_id)
    with app.app_context(), set_up_directly():  # what a previous release's trash left due
        db.session.execute(text("UPDATE reminder SET due_at = next_at"))
        db.session.commit()
    assert sweep(app) == 0
    restored = verified.post(f"/trash/{note_id}/restore")
    page = verified.get(restored.headers["Location"]).get_data(as_text=True)
    assert "Its reminder is on again: next" in page
    assert reminder_row(app, note_id).due_at.strftime("%H:%M") == "09:00"
    assert sweep(app) == 0  # the time that passed in the trash is skipped


def test_an_unverified_account_gets_no_reminder_mail(app, user, mail_server):
    note_with_reminder(user)
    come_due(app)
    sweep(app)
    deliver(app)
    assert reminder_mails(mail_server) == []
    assert [outcome for _, outcome, _ in occurrences(app)] == ["held"]


def test_a_firing_moves_the_notes_revision_and_the_feed_brings_its_next_time(
    app, verified, mail_server, ann_api
):
    note_id = note_with_reminder(verified, repeat="daily")
    come_due(app, note_id)  # its time came: the JSON shows it due now
    before = ann_api.get(f"/notes/{note_id}")
    since = ann_api.get("/changes?since=0").get_json()["next_since"]
    assert sweep(app) == 1
    asked_again = ann_api.get(
        f"/notes/{note_id}", headers={"If-None-Match": before.headers["ETag"]}
    )
    assert asked_again.status_code == 200  # not a 304: the note's JSON changed
    after = ann_api.get(f"/notes/{note_id}").get_json()
    assert after["revision"] == before.get_json()["revision"] + 1
    assert after["reminder"]["next_at"] != before.get_json()["reminder"]["next_at"]
    (item,) = ann_api.get(f"/changes?since={since}").get_json()["items"]
    assert item["note"] == after


def test_a_sweep_while_a_person_saves_in_the_account_waits_for_the_next_round(
    app, verified, mail_server
):
    note_id = note_with_reminder(verified)
    come_due(app, note_id)
    fired = []

    def sweeper():
        with app.app_context():
            fired.append(sweep(app))

    hers = text("""SELECT id FROM "user" WHERE email = 'ann@example.com' FOR UPDATE""")
    # A save of hers holds the account's row, as the note's writer does.
    with app.app_context(), db.engine.connect() as holder:
        holder.execute(hers)
        thread = threading.Thread(target=sweeper)
        thread.start()
        thread.join(timeout=20)
        assert fired == [0]  # it neither waited for the save nor fired around it
        holder.rollback()
    assert sweep(app) == 1
    assert reminder_row(app, note_id).due_at is None
