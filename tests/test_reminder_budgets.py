"""What reminders may spend (docs/security.md, budgets), each with the worst input: the
reminders of an account and of a note, the shortest repeat, the mails an hour; and the
mail cannon: only the account's own verified address is ever mailed."""

from tests.mailbox import ANN
from tests.reminding import (
    add_reminders,
    come_due,
    count_reminders,
    deliver,
    note_with_reminder,
    occurrences,
    reminder_mails,
    sweep,
    tomorrow_at,
)


def test_an_account_has_at_most_its_reminders_and_the_next_is_refused(app, verified):
    most = app.config["REMINDERS_PER_USER"]
    add_reminders(app, 1, most)
    created = verified.create_note("One more", "")
    note_id = int(created.headers["Location"].rsplit("/", 1)[1])
    answer = verified.post(f"/notes/{note_id}/reminder", {"at": tomorrow_at(9), "repeat": "none"})
    assert answer.status_code == 400
    assert f"You have {most} reminders, the most an account may have" in answer.get_data(
        as_text=True
    )
    assert count_reminders(app) == most


def test_a_note_has_one_reminder_which_a_second_setting_changes(app, verified):
    note_id = note_with_reminder(verified)
    for hour in (10, 11, 12):
        verified.post(f"/notes/{note_id}/reminder", {"at": tomorrow_at(hour), "repeat": "daily"})
    assert count_reminders(app) == 1


def test_nothing_repeats_more_often_than_daily(app, verified):
    created = verified.create_note("Often", "")
    note_id = int(created.headers["Location"].rsplit("/", 1)[1])
    for repeat in ("hourly", "minutely", "FREQ=MINUTELY", "secondly"):
        answer = verified.post(
            f"/notes/{note_id}/reminder", {"at": tomorrow_at(9), "repeat": repeat}
        )
        assert answer.status_code == 400
    assert count_reminders(app) == 0


def test_every_reminder_of_an_account_at_one_minute_mails_at_most_the_hourly_budget(
    app, verified, mail_server
):
    """The mail cannon: the most reminders an account may have, all at the same minute.
    The hourly budget goes out; the rest wait in the due view, never mailed."""
    most, budget = app.config["REMINDERS_PER_USER"], app.config["REMINDER_MAILS_PER_HOUR"]
    add_reminders(app, 1, most)
    come_due(app)
    assert sweep(app) == most
    deliver(app)
    assert len(reminder_mails(mail_server)) == budget
    outcomes = [outcome for _, outcome, _ in occurrences(app)]
    assert outcomes.count("sent") == budget and outcomes.count("held") == most - budget
    due = verified.get("/reminders").get_data(as_text=True)
    assert "not mailed: the hourly limit of reminder mails was reached" in due
    come_due(app)  # all of them due again within the hour: still not one mail more
    sweep(app)
    deliver(app)
    assert len(reminder_mails(mail_server)) == budget


def test_a_reminder_mails_only_the_accounts_own_address(app, verified, mail_server):
    """No field names a recipient: one slipped into the form or the API body is refused or
    ignored, and the mail goes to the account's verified address alone."""
    created = verified.create_note("Target", "")
    note_id = int(created.headers["Location"].rsplit("/", 1)[1])
    form = {"at": tomorrow_at(9), "repeat": "none", "email": "victim@example.com"}
    answer = verified.post(f"/notes/{note_id}/reminder", {**form, "to": "v@example.com"})
    assert answer.status_code == 302
    come_due(app)
    sweep(app)
    deliver(app)
    recipients = {
        m["To"].addresses[0].addr_spec
        for m in mail_server.messages()
        if m["Subject"].startswith("Reminder")
    }
    assert recipients == {ANN}
