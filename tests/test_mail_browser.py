"""A new user's mail, end to end in a real Chromium: Memo served as `./scripts/run` serves it,
mail kept by a local SMTP server and read in the local inbox (/dev/inbox).

A module of its own: its worker must be the only one taking the jobs of its database (the
other browser modules share one worker per module, which sends mail elsewhere).
"""

import re

import pytest

from devenv.mailserver import MailServer
from devenv.visitors import PASSWORD
from tests.browsers import NEW_PASSWORD, fill_form, flash, screenshot_on_failure, submit


@pytest.fixture
def local_site(chromium, live_server, workers, tmp_path):
    """A tab on Memo served as `./scripts/run` serves it: development settings, a worker, and
    mail kept by a local SMTP server and shown in the local inbox."""
    mail = MailServer(tmp_path / "mail").start()
    server = live_server(
        APP_SETTINGS="config.DevelopmentConfig",
        SMTP_URL=mail.url,
        LOCAL_MAIL_DIR=str(mail.folder),
    )
    workers.start(SMTP_URL=mail.url, PUBLIC_URL=server.url)
    context = chromium.new_context(base_url=server.url)
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    yield tab
    context.close()
    mail.stop()


def open_mail(page, subject):
    """Open the local inbox until a mail with `subject` is there, then its link."""
    for _ in range(100):
        page.goto("/dev/inbox")
        if page.get_by_role("link", name=subject).count():
            break
        page.wait_for_timeout(200)
    page.get_by_role("link", name=subject).first.click()
    page.locator("pre.mail-body a").first.click()
    page.wait_for_load_state()


def test_a_new_user_verifies_resets_the_password_and_changes_email_by_mail(local_site):
    page = local_site
    with screenshot_on_failure(page, "mail-signup"):
        page.goto("/auth/signup")
        fields = {"email": "ann@example.com", "nickname": "ann", "password": PASSWORD}
        submit(page, {**fields, "password_confirm": PASSWORD}, "Sign up")
        assert "Check your email" in flash(page)
        open_mail(page, "Confirm your email address for Memo")
        page.get_by_role("button", name="Confirm my address").click()
        page.wait_for_load_state()
        assert "Your email address is confirmed" in flash(page)
        page.get_by_role("button", name="Sign out").click()  # sent by the page's script
        page.wait_for_url(re.compile(r"/auth/login"))
    with screenshot_on_failure(page, "mail-reset"):
        page.get_by_role("link", name="Forgot your password?").click()
        submit(page, {"email": "ann@example.com"}, "Send me a link")
        assert "Check your email" in flash(page)
        open_mail(page, "Reset your Memo password")
        submit(
            page,
            {"new_password": NEW_PASSWORD, "new_password_confirm": NEW_PASSWORD},
            "Set the new password",
        )
        assert "Your password is changed" in flash(page)
        submit(page, {"email": "ann@example.com", "password": NEW_PASSWORD}, "Sign in")
        assert page.url.endswith("/")
    with screenshot_on_failure(page, "mail-change-email"):
        page.goto("/mypage")
        fill_form(
            page,
            "/mypage/email",
            {"email": "ann.new@example.com", "password": NEW_PASSWORD},
            "Change email",
        )
        assert "Check the new address" in flash(page)
        open_mail(page, "Confirm your new email address for Memo")
        page.get_by_role("button", name="Confirm my address").click()
        page.wait_for_load_state()
        page.goto("/mypage")
        assert "Your address is ann.new@example.com" in page.content()
