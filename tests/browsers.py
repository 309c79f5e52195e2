"""Debian's Chromium for the browser tests, through Playwright (no browser download), and what
every browser test does: a fresh tab, sign up and in, fill a form, read its messages."""

import os
import re
from contextlib import contextmanager
from pathlib import Path

import pytest

from devenv.debian import LOG, wait_for_install
from devenv.liveserver import ROOT, LiveServer
from devenv.visitors import PASSWORD

# Debian's chromium-headless-shell: Chromium's old headless mode, the one Playwright runs
# headless by default, with no browser around the page: 28 % less CPU than the whole browser
# for the same walk (test_writing_browser.py: 50 s against 70 s).
HEADLESS_SHELL = Path("/usr/bin/chromium-headless-shell")
# The whole browser (`--headless`), for a module that needs what the shell lacks and says so
# with WHOLE_BROWSER = True: the back-forward cache, a service worker's notifications.
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def found(browser):
    """Return Debian's Chromium at `browser`, or skip saying it is missing (fail in CI).
    ./scripts/test may be installing it while the first tests run: this waits for that."""
    installed = wait_for_install()
    if not browser.exists():
        missing = pytest.fail if os.environ.get("CI") else pytest.skip
        why = "" if installed else f" (still being installed: {LOG})"
        missing(f"browser tests skipped: chromium not found at {browser}{why}")
    return str(browser)


@pytest.fixture(scope="module")
def chromium(request):
    """Debian's Chromium headless shell, or the whole browser for a module that sets
    WHOLE_BROWSER."""
    whole = getattr(request.module, "WHOLE_BROWSER", False)
    executable = found(CHROMIUM if whole else HEADLESS_SHELL)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def served_context(chromium, settled):
    """A browser context on Memo served as the Procfile serves it, waiting 15 s at most."""
    context = chromium.new_context(base_url=settled.url)
    context.set_default_timeout(15_000)
    yield context
    context.close()


ARTIFACTS = ROOT / "tmp" / "artifacts"
VIEWPORT_HEIGHT = 844  # a phone's


NEW_PASSWORD = "a much longer passphrase"


@pytest.fixture
def page(chromium, settled):
    """A fresh browser tab (no cookies) on the app served by gunicorn, with a worker running."""
    server = settled
    context = chromium.new_context(base_url=server.url, accept_downloads=True)
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    yield tab
    context.close()


@contextmanager
def screenshot_on_failure(page, name):
    """Save what the browser showed when a step failed, and name the file in the failure."""
    try:
        yield
    except BaseException as error:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=path, full_page=True)
        print(f"screenshot of the failed step: {path}")
        error.add_note(f"screenshot of the failed step: {path} (page {page.url})")
        raise


def flash(page):
    """Return the text of the page's status messages."""
    return " ".join(page.locator("p.flash").all_inner_texts())


def submit(page, fields, button):
    """Fill a form's fields (name -> value), press its button and wait for the next page.

    The note form is sent by its script (app/static/drafts.js), which puts the answer in
    place of the page: a new document either way, so the old one is marked and waited out.
    """
    for name, value in fields.items():
        page.fill(f"input[name={name}], textarea[name={name}]", value)
    page.evaluate("document.documentElement.dataset.left = 'not yet'")
    page.get_by_role("button", name=button).click()
    page.wait_for_function("() => document.documentElement.dataset.left !== 'not yet'")
    page.wait_for_load_state()


def sign_up(page):
    page.goto("/auth/signup")
    fields = {"email": "ann@example.com", "nickname": "ann", "password": PASSWORD}
    submit(page, {**fields, "password_confirm": PASSWORD}, "Sign up")
    assert page.url.endswith("/auth/login")
    assert "Check your email" in flash(page)
    submit(page, {"email": "ann@example.com", "password": PASSWORD}, "Sign in")
    assert page.url.endswith("/")


def sign_in(page, password):
    page.goto("/auth/login")
    submit(page, {"email": "ann@example.com", "password": password}, "Sign in")


def fill_form(page, action, fields, button):
    """Fill the fields of the form posting to `action` and press its button."""
    form = page.locator(f"form[action='{action}']")
    for name, value in fields.items():
        form.locator(f"input[name={name}]").fill(value)
    form.get_by_role("button", name=button).click()
    page.wait_for_load_state()


LANGUAGES = {"ko": "ko-KR", "en": "en-US"}


def new_tab(chromium, base_url, language="en", width=1280, scheme="light"):
    """Return a new browser context on `base_url` as a reader in Seoul would have it, in the
    language, width and colour scheme given, and its one tab."""
    context = chromium.new_context(
        base_url=base_url,
        locale=LANGUAGES[language],
        timezone_id="Asia/Seoul",
        viewport={"width": width, "height": VIEWPORT_HEIGHT},
        color_scheme=scheme,
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    return context, page


@pytest.fixture
def tabs(chromium, settled):
    """Memo served as the Procfile serves it (a worker beside it), and a way to open tabs on it."""
    server = settled
    contexts = []

    def tab(language="en", width=1280, scheme="light"):
        context, page = new_tab(chromium, server.url, language, width, scheme)
        contexts.append(context)
        return page

    yield tab
    for context in contexts:
        context.close()


def every_view(page, widths=(320, 390, 1280), schemes=("light", "dark")):
    """Show `page` at each width in each colour scheme in turn, yielding (width, scheme).

    The same tab, signed in as it is: its viewport and `prefers-color-scheme` change as a new
    context's would be set, without a sign-in for each; the caller loads the page to check.
    """
    for width in widths:
        for scheme in schemes:
            page.set_viewport_size({"width": width, "height": VIEWPORT_HEIGHT})
            page.emulate_media(color_scheme=scheme)
            yield width, scheme


def keep_the_saved_one_then_save_twice(page, note):
    """On a conflict page of `note`, keep the saved text, then save twice in a row: the history
    then holds a set-aside entry and one that says a save in between was not kept."""
    page.locator("form:has(input[name=choice][value=theirs]) button").click()
    page.wait_for_url(re.compile(r"/notes/\d+$"))
    for text in ("second", "third"):
        page.goto(f"{note}/edit")
        page.fill("textarea[name=content]", text)
        page.get_by_role("button", name=re.compile("Save|저장")).click()
        page.wait_for_url(re.compile(r"/notes/\d+$"))


def sign_in_as(page, email):
    """Sign an account in from the sign-in page, in the page's language."""
    page.goto("/auth/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("main form:not(.unverified) button[type=submit]").first.click()
    page.wait_for_load_state()


def sign_up_and_in(page, email, nickname):
    """Sign up in the page's language (which the account keeps), then sign in."""
    page.goto("/auth/signup")
    page.fill("input[name=email]", email)
    page.fill("input[name=nickname]", nickname)
    page.fill("input[name=password]", PASSWORD)
    page.fill("input[name=password_confirm]", PASSWORD)
    page.locator("main form:not(.unverified) button[type=submit]").first.click()
    page.wait_for_load_state()
    sign_in_as(page, email)


def write_note(page, title, content):
    """Write a note through the form; return its page's path."""
    page.goto("/notes/new")
    page.fill("input[name=title]", title)
    page.fill("textarea[name=content]", content)
    page.locator("main form:not(.unverified) button[type=submit]").first.click()
    page.wait_for_url(re.compile(r"/notes/\d+$"))  # the form's script sends it
    return re.search(r"/notes/\d+$", page.url)[0]


@pytest.fixture(scope="module")
def stoppable_memo(app, postgres, object_store, tmp_path_factory):
    """Memo's web process for the module, which a test may stop to take the browser offline.

    One gunicorn worker: each offline stretch starts the server again, and a start waits for
    every worker to boot."""
    log = tmp_path_factory.mktemp("stoppable") / "gunicorn.log"
    server = LiveServer(postgres.main_url, object_store.environment(), log, workers=1).start()
    yield server
    server.stop()


@contextmanager
def offline(server):
    """Stop the server for the block (the browser then reaches nothing), start it after."""
    server.stop()
    try:
        yield
    finally:
        server.terminated = False
        server.start()
