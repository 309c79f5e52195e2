"""One model of grants (issue 87): a share link, a feed, a webhook and a token are made through
one ceremony (the password confirmed lately, a recent second step where one is on, a notice
mailed with an undo link), record the session or token that made them with its proofs then,
and pause with what made them, saying why. Played at the HTTP level where each attack was
found: a copied browser, a stale session, a write token, the owner's own pages."""

import pytest

from app.models import AccessToken, AtomFeed, NoteShare, Webhook, WebhookDelivery
from devenv.visitors import PASSWORD
from tests import signing_in
from tests.apiclients import ApiClient, token_for
from tests.granting import (
    copy_of_the_remember_me_cookie,
    count,
    grant_notices,
    make_feed,
    password_not_recent,
    rows,
)
from tests.mailbox import (
    NEW_PASSWORD,
    ask_reset,
    deliver,
    link_in,
    path_of,
    reset_link,
    text_of,
)
from tests.noting import SHARE_LINK, make_link, note_id_of, second_session
from tests.phones import SECRET, Phone, enter_code, setup_field, turn_on
from tests.receivers import ALL_EVENTS, Receiver, ann_id, make_hook, send, verify_address

pytestmark = pytest.mark.usefixtures("no_jobs")


def test_a_copied_session_makes_grants_that_the_owners_reset_pauses(app, verified, mail_server):
    """Issue 87's first HIGH: the owner, whose authenticator app is a month old, signs in with
    "remember me"; a thief copies the remember-me cookie alone, then her whole browser within
    10 minutes of her code. She resets her password from her mailbox."""
    phone, _ = turn_on(verified)
    signing_in.settle_second_steps(app)
    owner, _ = signing_in.password_step(app, remember=True)
    assert enter_code(owner, phone.code()).status_code == 302
    note = note_id_of(owner.create_note("Plan", "before"))

    restored = copy_of_the_remember_me_cookie(app, owner)
    assert restored.get(f"/notes/{note}").status_code == 200, "the cookie restores a session"
    for path, form in (
        (f"/notes/{note}/share", {"expires_days": ""}),
        ("/mypage/webhooks/feeds", {"tag": ""}),
        ("/mypage/webhooks", {"url": "https://hooks.example.com/memo", "events": ALL_EVENTS}),
    ):
        asked = restored.post(path, form)
        assert asked.status_code == 302 and asked.headers["Location"].startswith("/auth/two-step")
    assert count(app, NoteShare) == count(app, AtomFeed) == count(app, Webhook) == 0

    thief = signing_in.copy_of(app, owner)  # the whole browser, within 10 minutes of her code
    link = make_link(thief, note, days="")
    feed = make_feed(thief)
    with Receiver() as receiver:
        response = thief.post("/mypage/webhooks", {"url": receiver.url(), "events": ALL_EVENTS})
        assert response.status_code == 200
        deliver(app)
        notices = grant_notices(mail_server)
        assert len(notices) == 3, "each grant is told, with an undo link"
        assert all(link_in(notice, "secure") for notice in notices)
        (share,) = rows(app, NoteShare)
        assert share.made_by_session is not None and share.second_step_proven_at is not None

        signing_in.owner_resets(app, mail_server)
        assert thief.get("/mypage").status_code == 302, "the thief's session ended"
        fresh = signing_in.new_browser(app)
        assert fresh.get(link).status_code == 404, "the share link is paused"
        assert fresh.get(feed).status_code in (404, 410), "the feed is paused"
        (hook,) = rows(app, Webhook)
        assert hook.paused_at is not None and hook.paused_reason == "recovery"
        again, _ = signing_in.password_step(app, password=NEW_PASSWORD)
        assert enter_code(again, phone.code()).status_code == 302
        again.create_note("After", "the recovery")  # she writes on
        assert fresh.get(link).status_code == 404 and fresh.get(feed).status_code in (404, 410)
        send(app, ann_id(app))
        assert receiver.deliveries == [] and count(app, WebhookDelivery) == 0


def test_a_stale_session_without_a_second_step_is_asked_for_the_password(
    app, verified, mail_server
):
    """Issue 87: without a second step, a stolen session made a feed and a webhook with no
    password and no mail. Now a session whose password is not recent is asked for it (400,
    nothing made), and what is made is mailed with an undo link."""
    note = note_id_of(verified.create_note("Plan", "for Bo"))
    password_not_recent(verified)
    verified.get(f"/notes/{note}")
    refused = verified.post(f"/notes/{note}/share", {"expires_days": "7"})
    assert refused.status_code == 400
    assert "enter your password" in refused.get_data(as_text=True)
    verified.get("/mypage/webhooks")
    for path, form in (
        ("/mypage/webhooks/feeds", {"tag": ""}),
        ("/mypage/webhooks", {"url": "https://hooks.example.com/memo", "events": ALL_EVENTS}),
    ):
        refused = verified.post(path, form)
        assert refused.status_code == 400
        assert "enter your password" in refused.get_data(as_text=True)
    assert count(app, NoteShare) == count(app, AtomFeed) == count(app, Webhook) == 0
    wrong = verified.post("/mypage/webhooks/feeds", {"tag": "", "password": "not it at all"})
    assert wrong.status_code == 400 and count(app, AtomFeed) == 0

    made = verified.post(f"/notes/{note}/share", {"expires_days": "7", "password": PASSWORD})
    assert made.status_code == 302
    assert SHARE_LINK.search(verified.get(f"/notes/{note}").get_data(as_text=True))
    deliver(app)
    (notice,) = grant_notices(mail_server)
    assert "A share link to your note “Plan” was made" in text_of(notice)
    assert link_in(notice, "secure"), "with a link that secures the account"
    (share,) = rows(app, NoteShare)
    assert share.password_proven_at is not None and share.second_step_proven_at is None
    assert share.made_with_second_step is False


def test_share_links_made_together_are_told_once(app, verified, mail_server):
    note = note_id_of(verified.create_note("Plan", "for Bo"))
    verified.get(f"/notes/{note}")
    for _ in range(3):
        make_link(verified, note)
    deliver(app)
    assert len(grant_notices(mail_server)) == 1


def test_a_webhook_made_with_a_write_token_is_paused_when_the_token_is_revoked(
    app, user, mail_server
):
    """Issue 87: a webhook made with a write token stayed on after the token was revoked, and
    the next note was queued to the thief's address; nothing was mailed when it was made."""
    verify_address(app)
    api = ApiClient(app, token_for(app))
    with Receiver() as receiver:
        made = make_hook(api, receiver)
        deliver(app)
        assert len(grant_notices(mail_server)) == 1, "a webhook made by a token is told too"
        (token,) = rows(app, AccessToken)
        (hook,) = rows(app, Webhook)
        assert hook.made_by_token == token.id and hook.made_by_session is None
        user.get("/mypage/tokens")
        assert user.post(f"/mypage/tokens/{token.id}/revoke").status_code == 302
        user.create_note("After", "the token was revoked")
        send(app, ann_id(app))
        assert receiver.deliveries == [], "nothing is sent to the thief's address"
        assert count(app, WebhookDelivery) == 0, "no delivery is queued to it"
    (hook,) = rows(app, Webhook)
    assert hook.id == made["id"] and hook.paused_reason == "token_revoked"


def test_the_pause_reason_shows_on_the_cards_in_english_and_korean(app, user):
    api = ApiClient(app, token_for(app))
    with Receiver() as receiver:
        make_hook(api, receiver)
    (token,) = rows(app, AccessToken)
    user.get("/mypage/tokens")
    user.post(f"/mypage/tokens/{token.id}/revoke")
    page = user.get("/mypage/webhooks").get_data(as_text=True)
    assert "Paused when the access token that made it was revoked" in page
    assert "recovery of your account" not in page
    user.get("/mypage")
    user.post("/mypage/settings", {"language": "ko", "timezone": "Asia/Seoul"})
    page = user.get("/mypage/webhooks").get_data(as_text=True)
    assert "만든 액세스 토큰을 폐기하면서 멈췄어요" in page
    assert "계정을 되찾으면서" not in page


def test_a_password_change_pauses_what_the_other_sessions_made_not_a_sign_out(app, user):
    note = note_id_of(user.create_note("Plan", "for Bo"))
    other = second_session(app)
    other.get(f"/notes/{note}")
    kept = make_link(other, note)
    other.submit("/auth/logout", {})
    assert signing_in.new_browser(app).get(kept).status_code == 200, "a sign-out pauses nothing"
    third = second_session(app)
    third.get(f"/notes/{note}")
    paused = make_link(third, note)
    user.get("/mypage")
    changed = user.submit(
        "/mypage/password",
        {
            "current_password": PASSWORD,
            "new_password": "another long passphrase",
            "new_password_confirm": "another long passphrase",
        },
    )
    assert changed.status_code == 302
    assert signing_in.new_browser(app).get(paused).status_code == 404
    assert signing_in.new_browser(app).get(kept).status_code == 200
    page = user.get("/mypage").get_data(as_text=True)
    assert "Paused when your password was changed, with the session that made it" in page


def test_turning_on_the_first_second_step_says_what_it_ended_and_paused(app, verified):
    note = note_id_of(verified.create_note("Plan", "for Bo"))
    verified.get(f"/notes/{note}")
    link = make_link(verified, note)
    make_feed(verified)
    verified.get("/mypage/tokens")
    verified.post(
        "/mypage/tokens",
        {"name": "backup", "scope": "read", "expires_days": "30", "password": PASSWORD},
    )
    second_session(app)
    page = verified.get("/mypage/totp").get_data(as_text=True)
    phone = Phone(SECRET.search(page)[1])
    form = {"code": phone.code(), "password": PASSWORD, "setup": setup_field(page)}
    answer = verified.post("/mypage/totp", form)
    assert answer.status_code == 200
    shown = answer.get_data(as_text=True)
    assert "1 other session was signed out." in shown
    assert "The access token “backup” is revoked." in shown
    assert "The share link to “Plan” is paused." in shown
    assert "The feed “All your notes” is paused." in shown
    (share,) = rows(app, NoteShare)
    assert f'action="/shares/{share.id}/resume"' in shown, "with the way to keep it"
    assert share.paused_reason == "first_second_step"
    assert signing_in.new_browser(app).get(link).status_code == 404
    assert verified.post(f"/shares/{share.id}/resume").status_code == 302
    assert signing_in.new_browser(app).get(link).status_code == 200


def test_the_reset_page_says_what_the_reset_does_to_the_second_steps(app, verified, mail_server):
    turn_on(verified)  # just now: within the 7 days, with the password alone
    ask_reset(app)
    page = signing_in.new_browser(app).get(path_of(reset_link(app, mail_server)))
    page = page.get_data(as_text=True)
    assert "This reset removes what was added with the password alone" in page
    assert "the authenticator app" in page and "Two-step sign-in is then off" in page
    signing_in.settle_second_steps(app)  # a month old: the owner's own
    ask_reset(app)
    page = signing_in.new_browser(app).get(path_of(reset_link(app, mail_server)))
    page = page.get_data(as_text=True)
    assert "This reset removes" not in page
    assert "Two-step sign-in stays on with your other second steps" in page
