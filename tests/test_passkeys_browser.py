"""Passkeys in Chromium with a virtual authenticator (the DevTools protocol's WebAuthn
domain, as a phone's or a laptop's own authenticator that verifies its user): add one from
the security page, sign in with it alone, use it as the second step after the password,
remove it; every page on the way passes axe in both languages, light and dark.

Memo is served as the Procfile serves it at http://localhost:PORT: a passkey's relying party
is a domain name, never an IP address (PUBLIC_URL names the site)."""

import re

import pytest

from devenv.visitors import PASSWORD
from tests.browsers import flash, new_tab, sign_up_and_in
from tests.mailbox import verify_email
from tests.pagechecks import check_here
from tests.workers import settle_queue, web_and_worker

AUTHENTICATOR = {
    "protocol": "ctap2",
    "transport": "internal",
    "hasResidentKey": True,
    "hasUserVerification": True,
    "isUserVerified": True,
    "automaticPresenceSimulation": True,
}
WORDS = {
    "en": {"add": "Add a passkey", "alone": "Sign in with a passkey", "use": "Use a passkey"},
    "ko": {"add": "패스키 추가", "alone": "패스키로 로그인", "use": "패스키 사용"},
}


@pytest.fixture(scope="module")
def named_site(postgres, object_store, tmp_path_factory):
    """Memo served at http://localhost:PORT (web and a worker), kept for the module."""
    folder = tmp_path_factory.mktemp("named-site")
    with web_and_worker(postgres, object_store, folder, host="localhost") as web:
        yield web
    settle_queue(postgres.main_url)


@pytest.fixture
def device(chromium, named_site):
    """Return a function that opens a tab on the named site with an authenticator of its own."""
    contexts = []

    def open_tab(language="en", width=1280, scheme="light"):
        context, page = new_tab(chromium, named_site.url, language, width, scheme)
        contexts.append(context)
        page.on("dialog", lambda dialog: dialog.accept())  # "Remove the passkey?"
        devtools = context.new_cdp_session(page)
        devtools.send("WebAuthn.enable")
        found = devtools.send("WebAuthn.addVirtualAuthenticator", {"options": AUTHENTICATOR})
        return page, devtools, found["authenticatorId"]

    yield open_tab
    for context in contexts:
        context.close()


def credentials(devtools, authenticator):
    return devtools.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})[
        "credentials"
    ]


def sign_out(page):
    page.locator("form.sign-out button").click()
    page.wait_for_url(re.compile(r"/auth/login"))


@pytest.mark.parametrize(
    ("language", "width", "scheme"), [("en", 1280, "light"), ("ko", 390, "dark")]
)
def test_a_passkey_is_added_signs_in_alone_and_as_the_second_step_then_removed(
    app, device, language, width, scheme
):
    words, found = WORDS[language], {}
    page, devtools, authenticator = device(language, width, scheme)
    email = f"passkey-{language}@example.com"
    sign_up_and_in(page, email, f"passkey-{language}")
    verify_email(app, email)

    page.goto("/mypage/security")
    check_here(page, "/mypage/security", found)
    form = page.locator("form[data-passkey=register]")
    form.locator("input[name=name]").fill("My laptop")
    form.locator("input[name=password]").fill(PASSWORD)
    form.get_by_role("button", name=words["add"]).click()
    page.locator(".recovery-codes").wait_for()
    check_here(page, "the recovery codes after the first passkey", found)
    assert len(credentials(devtools, authenticator)) == 1
    assert credentials(devtools, authenticator)[0]["isResidentCredential"]

    sign_out(page)
    check_here(page, "/auth/login with passkeys", found)
    page.get_by_role("button", name=words["alone"]).click()
    page.wait_for_url(re.compile(r"/$"))
    assert page.locator("form.sign-out").count() == 1  # signed in by the passkey alone

    sign_out(page)
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_url(re.compile(r"/auth/two-step$"))
    check_here(page, "/auth/two-step with a passkey", found)
    page.get_by_role("button", name=words["use"]).click()
    page.wait_for_url(re.compile(r"/$"))

    page.goto("/mypage/security")
    assert page.locator("ul.passkeys input[name=name]").input_value() == "My laptop"
    check_here(page, "/mypage/security with a passkey", found)
    page.locator("ul.passkeys form:has(button.danger) button").click()
    page.wait_for_url(re.compile(r"/mypage/security$"))
    assert "My laptop" in flash(page)
    assert page.locator("ul.passkeys").count() == 0
    sign_out(page)
    page.get_by_role("button", name=words["alone"]).click()  # the device still has it
    page.wait_for_url(re.compile(r"/auth/login"))
    assert page.locator("form.sign-out").count() == 0  # but Memo no longer takes it
    assert found == {}
