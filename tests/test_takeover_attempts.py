"""Attacks on the one rule (docs/mail.md), played as the intruder who knows the password, in
orders no earlier test tried (docs/security/accounts.md, "The ways in: threat list"). Each
attempt is kept here, as it failed against the result."""

from datetime import timedelta

import pytest

from tests import signing_in
from tests.mailbox import ANN, ask_reset, deliver, reset_link, set_new_password, text_of
from tests.noting import make_link, note_id_of
from tests.passkeying import SoftPasskey, add_passkey, passkeys_of, sign_in_with
from tests.phones import turn_on

pytestmark = pytest.mark.usefixtures("no_jobs")


def test_a_second_step_added_through_the_intruders_first_goes_with_it(app, verified, mail_server):
    intruder, _ = signing_in.password_step(app)
    passkey = SoftPasskey()
    add_passkey(intruder, passkey)  # the first second step, with the password alone
    turn_on(intruder)  # the second, through the first (a second step just passed)
    signing_in.owner_resets(app, mail_server)
    assert passkeys_of(app) == 0
    assert signing_in.signed_in(signing_in.sign_in_as_owner(app)), (
        "no second step of the intruder's is left"
    )
    thief = signing_in.new_browser(app)
    sign_in_with(thief, passkey)
    assert not signing_in.signed_in(thief)


def test_a_kept_reset_link_cannot_remove_the_owners_new_passkey(app, verified, mail_server):
    ask_reset(app)
    kept = reset_link(app, mail_server)  # a copy on a shared computer
    add_passkey(verified, SoftPasskey())  # the owner's first passkey, after the link was sent
    answer = set_new_password(signing_in.new_browser(app), kept)
    assert answer.status_code == 400, "the link was sent before the sign-in changed: void"
    assert passkeys_of(app) == 1


def test_a_share_link_made_with_the_password_alone_is_paused_by_the_first_second_step(
    app, verified, mail_server
):
    note = note_id_of(verified.create_note("Plan", "secret plans"))
    intruder, _ = signing_in.password_step(app)
    intruder.get(f"/notes/{note}")
    link = make_link(intruder, note)
    assert signing_in.new_browser(app).get(link).status_code == 200
    turn_on(verified)  # whoever else had the password may have made it: paused, to keep
    assert signing_in.new_browser(app).get(link).status_code == 404
    deliver(app)
    on = [m for m in mail_server.to(ANN) if m["Subject"].startswith("Two-step sign-in is on")]
    assert "1 share link is paused" in text_of(on[-1]), "the notice says so"
    signing_in.owner_resets(app, mail_server)
    assert signing_in.new_browser(app).get(link).status_code == 404, "a recovery keeps it so"


def test_a_share_link_made_through_a_surviving_second_step_is_paused_with_its_session(
    app, verified, mail_server
):
    """Changed by issue 87 (one model of grants): this link was kept, as the account's second
    step survived; a copy of the session that made it could make it as well, so a recovery
    now pauses every grant a session it ends made, for the owner to keep on My page."""
    phone, _ = turn_on(verified)
    note = note_id_of(verified.create_note("Plan", "for Bo"))
    verified.get(f"/notes/{note}")
    link = make_link(verified, note)
    app.config["SECURE_LINK_LIFETIME"], lifetime = timedelta(0), app.config["SECURE_LINK_LIFETIME"]
    try:  # a week later: the app is older than the window, the owner's own
        signing_in.owner_resets(app, mail_server)
    finally:
        app.config["SECURE_LINK_LIFETIME"] = lifetime
    assert signing_in.new_browser(app).get(link).status_code == 404
    assert phone is not None


def test_the_intruders_finish_after_the_owners_reset_starts_a_new_wait(
    app, verified, mail_server, monkeypatch
):
    turn_on(verified)
    monkeypatch.setitem(app.config, "SECURE_LINK_LIFETIME", timedelta(0))  # the app is old
    intruder, _ = signing_in.password_step(app)
    intruder.get("/auth/two-step")
    intruder.post("/auth/two-step/lost")
    signing_in.owner_resets(app, mail_server)  # keeps her app, cancels the request, and says so
    deliver(app)
    changed = [m for m in mail_server.to(ANN) if m["Subject"] == "Your Memo password was changed"]
    assert "The request to turn two-step sign-in off is cancelled" in text_of(changed[-1])
    monkeypatch.setitem(app.config, "SECOND_STEP_RECOVERY_WAIT", timedelta(0))  # a week on
    again = signing_in.new_browser(app)  # the intruder, who phished the new password too
    again.submit("/auth/login", {"email": ANN, "password": "a brand new passphrase"})
    again.get("/auth/two-step")
    again.post("/auth/two-step/lost")
    assert not signing_in.signed_in(again), "a cancelled request is not finished by pressing again"
