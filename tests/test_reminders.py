"""Reminders on the note page, the list and the API: set on the reader's clock, shown in the
reader's zone, removed; the mail's done and snooze links POST from a page and work once."""

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from tests.mailbox import path_of, text_of
from tests.reminding import (
    SEOUL,
    come_due,
    count_reminders,
    deliver,
    note_with_reminder,
    occurrences,
    reminder_mails,
    reminder_row,
    sweep,
    tomorrow_at,
)

ACTION_LINK = re.compile(r"https?://[^\s<>\"]+/reminders/act/[A-Za-z0-9_.\-]+")


def in_seoul(browser, language="ko"):
    browser.post("/mypage/settings", {"language": language, "timezone": SEOUL})


def test_tomorrow_morning_in_korean_is_nine_in_seoul_every_weekday(app, verified):
    in_seoul(verified)
    created = verified.create_note("회의", "")
    note_id = int(created.headers["Location"].rsplit("/", 1)[1])
    page = verified.get(f"/notes/{note_id}").get_data(as_text=True)
    assert "내일 아침" in page and "다음 주" in page
    verified.post(f"/notes/{note_id}/reminder", {"when": "morning", "repeat": "weekdays"})
    reminder = reminder_row(app, note_id)
    assert reminder.rule == "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"
    assert reminder.time_zone == SEOUL and reminder.starts_at.strftime("%H:%M") == "09:00"
    seoul_time = reminder.due_at.astimezone(ZoneInfo(SEOUL))
    assert seoul_time.hour == 9 and seoul_time.weekday() < 5
    page = verified.get(f"/notes/{note_id}").get_data(as_text=True)
    assert "오전 9:00" in page and "매주 평일" in page
    listing = verified.get("/").get_data(as_text=True)
    assert "🔔" in listing and "오전 9:00" in listing


def test_the_list_shows_the_next_time_in_the_readers_zone(app, verified):
    note_with_reminder(verified, "Dentist")  # 09:00 on the account's clock (UTC)
    in_seoul(verified, "en")  # the reader moves to Seoul: the same instant, 6:00 PM there
    listing = verified.get("/").get_data(as_text=True)
    assert "Reminder:" in listing and "6:00 PM" in listing


def test_removing_a_reminder_leaves_the_note_without_one(app, verified):
    note_id = note_with_reminder(verified)
    assert verified.post(f"/notes/{note_id}/reminder/delete").status_code == 302
    assert reminder_row(app, note_id) is None
    assert "🔔" not in verified.get("/").get_data(as_text=True)


def test_a_time_that_passed_or_is_no_time_is_refused_with_a_message(app, verified):
    created = verified.create_note("Plans", "")
    note_id = int(created.headers["Location"].rsplit("/", 1)[1])
    for at, message in (
        ("2020-01-01T09:00", "Choose a time that has not passed yet."),
        ("2026-02-30T09:00", "Choose a date and time that exist."),
        ("tomorrow", "Write the date and time as 2026-12-31T09:00."),
        ("", "Choose a date and time."),
    ):
        answer = verified.post(f"/notes/{note_id}/reminder", {"at": at, "repeat": "none"})
        assert answer.status_code == 400
        assert message in answer.get_data(as_text=True)
    answer = verified.post(f"/notes/{note_id}/reminder", {"at": tomorrow_at(9), "repeat": "hourly"})
    assert answer.status_code == 400  # nothing repeats more often than daily
    assert count_reminders(app) == 0


def test_another_persons_note_is_404(app, verified, other_user):
    note_id = note_with_reminder(verified)
    other_user.get("/")
    assert other_user.post(f"/notes/{note_id}/reminder/delete").status_code == 404
    answer = other_user.post(f"/notes/{note_id}/reminder", {"at": tomorrow_at(9), "repeat": "none"})
    assert answer.status_code == 404
    assert reminder_row(app, note_id) is not None


def fired_mail(app, browser, mail_server, **form):
    """Set a reminder, let it fire and be mailed; return the note id and the mail."""
    note_id = note_with_reminder(browser, **form)
    come_due(app)
    sweep(app)
    deliver(app)
    (message,) = reminder_mails(mail_server)
    return note_id, message


def test_the_mails_link_shows_buttons_and_a_get_changes_nothing(app, verified, mail_server):
    _, message = fired_mail(app, verified, mail_server)
    (link,) = set(ACTION_LINK.findall(text_of(message)))
    assert link.startswith("http://localhost/")
    page = verified.get(path_of(link))
    assert page.status_code == 200
    assert "Mark done" in page.get_data(as_text=True)
    assert [done for _, _, done in occurrences(app)] == [False]
    assert verified.post(path_of(link), {"action": "done"}).status_code == 200
    assert [done for _, _, done in occurrences(app)] == [True]
    replayed = verified.post(path_of(link), {"action": "done"})
    assert "already marked done" in replayed.get_data(as_text=True)


def test_a_snooze_link_snoozes_once_however_often_it_is_replayed(app, verified, mail_server):
    note_id, message = fired_mail(app, verified, mail_server)
    (link,) = set(ACTION_LINK.findall(text_of(message)))
    visitor = verified.__class__(app.test_client())  # the mail opened on another device
    visitor.get(path_of(link))
    snoozed = visitor.post(path_of(link), {"action": "snooze"})
    assert "Snoozed" in snoozed.get_data(as_text=True)
    due_at = reminder_row(app, note_id).due_at
    assert timedelta(minutes=58) < due_at - datetime.now(UTC) <= timedelta(hours=1)
    for _ in range(3):
        again = visitor.post(path_of(link), {"action": "snooze"})
        assert "nothing changed" in again.get_data(as_text=True)
    assert reminder_row(app, note_id).due_at == due_at
    come_due(app)
    sweep(app)
    deliver(app)
    assert len(reminder_mails(mail_server)) == 2  # the snooze fired once


def test_a_forged_or_altered_link_is_400(app, verified, mail_server):
    _, message = fired_mail(app, verified, mail_server)
    (link,) = set(ACTION_LINK.findall(text_of(message)))
    token = link.rsplit("/", 1)[1]
    assert verified.get(f"/reminders/act/{token[:-2]}xx").status_code == 400
    assert verified.get("/reminders/act/MQ.abc.def").status_code == 400


def test_the_due_view_lists_what_fired_until_it_is_done(app, verified, mail_server):
    fired_mail(app, verified, mail_server, title="Dentist")
    page = verified.get("/reminders").get_data(as_text=True)
    assert "Dentist" in page
    assert verified.post("/reminders/1/done").status_code == 302
    assert "Dentist" not in verified.get("/reminders").get_data(as_text=True)


def test_a_private_reminder_mails_no_title(app, verified, mail_server):
    _, message = fired_mail(app, verified, mail_server, title="Divorce lawyer", private="y")
    assert message["Subject"] == "Reminder: a note of yours"
    assert "Divorce lawyer" not in message.as_string()


def test_the_api_shows_sets_and_removes_a_reminder(app, verified, ann_api):
    in_seoul(verified, "en")
    note_id = note_with_reminder(verified)
    note = ann_api.get(f"/notes/{note_id}")
    reminder = note.get_json()["reminder"]
    assert reminder["repeat"] == "none" and reminder["at"].endswith("T09:00:00+09:00")
    assert reminder["next_at"] == reminder["at"]
    at = f"{tomorrow_at(8)}:00+01:00"  # an instant given in Berlin's offset: 16:00 in Seoul
    changed = ann_api.patch(
        f"/notes/{note_id}",
        json={"reminder": {"at": at, "repeat": "daily"}},
        headers={"If-Match": note.headers["ETag"]},
    )
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["reminder"]["at"].endswith("T16:00:00+09:00")
    # The list reads each note's reminder with the note: the same JSON as the note's own.
    assert ann_api.get("/notes").get_json()["items"] == [changed.get_json()]
    removed = ann_api.patch(
        f"/notes/{note_id}",
        json={"reminder": None},
        headers={"If-Match": changed.headers["ETag"]},
    )
    assert removed.get_json()["reminder"] is None
    past = ann_api.patch(
        f"/notes/{note_id}",
        json={"reminder": {"at": "2020-01-01T09:00", "repeat": "none"}},
        headers={"If-Match": removed.headers["ETag"]},
    )
    assert past.status_code == 422
    assert past.get_json()["invalid_params"][0]["name"] == "reminder"
    listed = ann_api.get("/notes").get_json()["items"]
    assert listed[0]["reminder"] is None


def test_the_openapi_document_describes_the_reminder(app, client):
    document = client.get("/api/v1/openapi.json").get_json()
    schemas = document["components"]["schemas"]
    assert "reminder" in schemas["NoteOut"]["properties"]
    assert set(schemas["ReminderIn"]["properties"]) == {"at", "repeat", "private"}
