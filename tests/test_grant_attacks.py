"""Issue 87's grant fixes attacked as an outsider would (docs/security.md): a thief holding a
copy of the owner's remember-me cookie, a stale session, a guesser of the password on the
grant forms, and GETs or forms without CSRF on the routes that open a grant again."""

import pytest

from app.models import AccessToken, AtomFeed, NoteShare, Webhook
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
from tests.mailbox import deliver
from tests.noting import make_link, note_id_of
from tests.phones import SECRET, Phone, setup_field
from tests.receivers import ALL_EVENTS, Receiver, make_hook, verify_address

pytestmark = pytest.mark.usefixtures("no_jobs")
NEEDS_PASSWORD = "enter your password"


def test_a_copied_remember_me_cookie_cannot_keep_what_a_token_revocation_paused(
    app, user, mail_server
):
    """A token's revocation leaves the sessions alive: a thief restoring the owner's session
    from its remember-me cookie pressed "keep" and the webhook the revoked token made sent
    again, with no password and nothing mailed (302 and unpaused before the fix)."""
    verify_address(app)
    owner, _ = signing_in.password_step(app, remember=True)
    api = ApiClient(app, token_for(app))
    with Receiver() as receiver:
        made = make_hook(api, receiver)
    (token,) = rows(app, AccessToken)
    owner.get("/mypage/tokens")
    assert owner.post(f"/mypage/tokens/{token.id}/revoke").status_code == 302
    thief = copy_of_the_remember_me_cookie(app, owner)
    assert thief.get("/mypage/webhooks").status_code == 200, "the cookie restores a session"
    refused = thief.post(f"/mypage/webhooks/{made['id']}/keep")
    assert refused.status_code == 400
    assert NEEDS_PASSWORD in refused.get_data(as_text=True)
    (hook,) = rows(app, Webhook)
    assert hook.paused_reason == "token_revoked", "still paused"
    wrong = thief.post(f"/mypage/webhooks/{made['id']}/keep", {"password": "a guess"})
    assert wrong.status_code == 400 and rows(app, Webhook)[0].paused_at is not None

    deliver(app)
    told = len(grant_notices(mail_server))
    owner.get("/mypage/webhooks")  # her own sign-in's password is recent: kept at once
    assert owner.post(f"/mypage/webhooks/{made['id']}/keep").status_code == 302
    assert rows(app, Webhook)[0].paused_at is None
    deliver(app)
    assert len(grant_notices(mail_server)) == told + 1, "keeping one is told, as making one"


def test_a_stale_session_keeps_a_paused_link_or_feed_only_with_the_password(app, verified):
    """Keeping a paused share link or feed opens it again: the ceremony's password, as for a
    new one (before the fix a session of any age kept either with one press)."""
    note = note_id_of(verified.create_note("Plan", "for Bo"))
    verified.get(f"/notes/{note}")
    link = make_link(verified, note)
    feed = make_feed(verified)
    phone_page = verified.get("/mypage/totp")  # pause both as the first second step does
    assert phone_page.status_code == 200
    page = phone_page.get_data(as_text=True)
    form = {"code": Phone(SECRET.search(page)[1]).code(), "password": PASSWORD}
    assert verified.post("/mypage/totp", {**form, "setup": setup_field(page)}).status_code == 200
    (share,) = rows(app, NoteShare)
    (kept_feed,) = rows(app, AtomFeed)
    password_not_recent(verified)
    verified.get("/mypage")
    for path in (f"/shares/{share.id}/resume", f"/mypage/webhooks/feeds/{kept_feed.id}/keep"):
        asked = verified.post(path)
        # A second step is on now, and recent (just passed): the password is what is asked.
        assert asked.status_code == 400, path
        assert NEEDS_PASSWORD in asked.get_data(as_text=True)
    fresh = signing_in.new_browser(app)
    assert fresh.get(link).status_code == 404 and fresh.get(feed).status_code in (404, 410)
    for path in (f"/shares/{share.id}/resume", f"/mypage/webhooks/feeds/{kept_feed.id}/keep"):
        assert verified.post(path, {"password": PASSWORD}).status_code == 302
    assert fresh.get(link).status_code == 200 and fresh.get(feed).status_code == 200


def test_a_copied_remember_me_cookie_makes_nothing_without_the_password(app, verified):
    """Without a second step, the restored session has no password confirmed: every form
    that makes a grant (share link, feed, webhook, token) answers 400 and makes nothing."""
    owner, _ = signing_in.password_step(app, remember=True)
    note = note_id_of(owner.create_note("Plan", "for Bo"))
    thief = copy_of_the_remember_me_cookie(app, owner)
    thief.get(f"/notes/{note}")
    for path, form in (
        (f"/notes/{note}/share", {"expires_days": ""}),
        ("/mypage/webhooks/feeds", {"tag": ""}),
        ("/mypage/webhooks", {"url": "https://hooks.example.com/memo", "events": ALL_EVENTS}),
        ("/mypage/tokens", {"name": "sync", "scope": "write", "expires_days": "30"}),
    ):
        assert thief.post(path, form).status_code == 400, path
    assert count(app, NoteShare) == count(app, AtomFeed) == count(app, Webhook) == 0
    assert count(app, AccessToken) == 0


def test_wrong_passwords_on_the_grant_forms_are_throttled_as_sign_ins(app, verified):
    """A stolen session is no password oracle: wrong passwords on the feed, webhook and share
    forms count as failed sign-ins of the address, then 429 with Retry-After, and the right
    password is refused too until the window ends (as on the sign-in form)."""
    note = note_id_of(verified.create_note("Plan", "for Bo"))
    password_not_recent(verified)
    verified.get(f"/notes/{note}")
    forms = (
        (f"/notes/{note}/share", {"expires_days": ""}),
        ("/mypage/webhooks/feeds", {"tag": ""}),
        ("/mypage/webhooks", {"url": "https://hooks.example.com/memo", "events": ALL_EVENTS}),
    )
    statuses = []
    for attempt in range(app.config["LOGIN_FAILURES_PER_EMAIL"] + 1):
        path, form = forms[attempt % 3]
        answer = verified.post(path, {**form, "password": f"guess {attempt}"})
        statuses.append(answer.status_code)
    assert statuses[:-1] == [400] * app.config["LOGIN_FAILURES_PER_EMAIL"]
    assert statuses[-1] == 429 and int(answer.headers["Retry-After"]) > 0
    right = verified.post("/mypage/webhooks/feeds", {"tag": "", "password": PASSWORD})
    assert right.status_code == 429, "the right password waits too: no oracle"
    _, login = signing_in.password_step(app)
    assert login.status_code == 429, "counted as the sign-in form counts"
    assert count(app, NoteShare) == count(app, AtomFeed) == count(app, Webhook) == 0


@pytest.mark.parametrize(
    "path", ["/shares/1/resume", "/mypage/webhooks/1/keep", "/mypage/webhooks/feeds/1/keep"]
)
def test_the_keep_routes_refuse_gets_and_forms_without_csrf(verified, path):
    verified.get("/mypage")
    assert verified.get(path).status_code == 405, "a GET changes nothing"
    assert verified.post(path, {"password": PASSWORD}, csrf=False).status_code == 400
