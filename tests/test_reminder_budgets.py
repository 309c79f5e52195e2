"""What reminders may spend (docs/security.md, budgets), each with the worst input: the
reminders of an account and of a note, the shortest repeat, the mails an hour; and the
mail cannon: only the account's own verified address is ever mailed."""

from tests import reminding
from tests.mailbox import ANN
from tests.noting import note_id_of


def test_an_account_has_at_most_its_reminders_and_the_next_is_refused(app, verified):
    most = app.config["REMINDERS_PER_USER"]
    reminding.add_reminders(app, 1, most)
    note_id = note_id_of(verified.create_note("One more", ""))
    answer = verified.post(
        f"/notes/{note_id}/reminder", {"at": reminding.tomorrow_at(9), "repeat": "none"}
    )
    assert answer.status_code == 400
    assert f"You have {most} reminders, the most an account may have" in answer.get_data(
        as_text=True
    )
    assert reminding.count_reminders(app) == most


def test_a_note_has_one_reminder_which_a_second_setting_changes(app, verified):
    note_id = reminding.note_with_reminder(verified)
    for hour in (10, 11, 12):
        verified.post(
            f"/notes/{note_id}/reminder", {"at": reminding.tomorrow_at(hour), "repeat": "daily"}
        )
    assert reminding.count_reminders(app) == 1


def test_nothing_repeats_more_often_than_daily(app, verified):
    note_id = note_id_of(verified.create_note("Often", ""))
    for repeat in ("hourly", "minutely", "FREQ=MINUTELY", "secondly"):
        answer = verified.post(
            f"/notes/{note_id}/reminder", {"at": reminding.tomorrow_at(9), "repeat": repeat}
        )
        assert answer.status_code == 400
    assert reminding.count_reminders(app) == 0


def test_every_reminder_of_an_account_at_one_minute_mails_at_most_the_hourly_budget(
    app, verified, mail_server
):
    """The mail cannon: the most reminders an account may have, all at the same minute.
    The hourly budget goes out; the rest wait in the due view, never mailed."""
    most, budget = app.config["REMINDERS_PER_USER"], app.config["REMINDER_MAILS_PER_HOUR"]
    reminding.add_reminders(app, 1, most)
    reminding.come_due(app)
    assert reminding.sweep(app) == most
    reminding.deliver(app)
    assert len(reminding.reminder_mails(mail_server)) == budget
    outcomes = [outcome for _, outcome, _ in reminding.occurrences(app)]
    assert outcomes.count("sent") == budget and outcomes.count("held") == most - budget
    due = verified.get("/reminders").get_data(as_text=True)
    assert "not mailed: the hourly limit of reminder mails was reached" in due
    reminding.come_due(app)  # all of them due again within the hour: still not one mail more
    reminding.sweep(app)
    reminding.deliver(app)
    assert len(reminding.reminder_mails(mail_server)) == budget


def test_a_reminder_mails_only_the_accounts_own_address(app, verified, mail_server):
    """No field names a recipient: one slipped into the form or the API body is refused or
    ignored, and the mail goes to the account's verified address alone."""
    note_id = note_id_of(verified.create_note("Target", ""))
    form = {"at": reminding.tomorrow_at(9), "repeat": "none", "email": "victim@example.com"}
    answer = verified.post(f"/notes/{note_id}/reminder", {**form, "to": "v@example.com"})
    assert answer.status_code == 302
    reminding.come_due(app)
    reminding.sweep(app)
    reminding.deliver(app)
    recipients = {
        m["To"].addresses[0].addr_spec
        for m in mail_server.messages()
        if m["Subject"].startswith("Reminder")
    }
    assert recipients == {ANN}
