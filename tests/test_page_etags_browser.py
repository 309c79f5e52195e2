"""In a real Chromium with its back-forward cache on, as a person's browser has it (Playwright
turns it off): the list and a note are no longer no-store (the browser keeps them to ask about
them, app/revalidation.py), so going back and forth costs Memo a 304, and Back after signing
out still shows the sign-in page, never the notes."""

import re

import pytest

from tests.browsers import CHROMIUM, CHROMIUM_FLAGS, found, sign_up_and_in, write_note

# Counts, in the tab's sessionStorage, the pages the back-forward cache gave back.
COUNT_RESTORES = """addEventListener("pageshow", (event) => {
  if (event.persisted) {
    sessionStorage.restored = String(Number(sessionStorage.restored || 0) + 1);
  }
});"""


@pytest.fixture(scope="module")
def chromiums():
    """Debian's Chromium, headless, twice: with the back-forward cache that Playwright turns
    off turned on, as a person's browser has it, and without it, where Back shows a page from
    the HTTP cache (a skip that says it is missing, a failure in CI, as tests/browsers.py's)."""
    executable = found(CHROMIUM)  # the whole browser: the shell has no back-forward cache
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        remembering = playwright.chromium.launch(
            executable_path=executable,
            args=CHROMIUM_FLAGS,
            ignore_default_args=["--disable-back-forward-cache"],
        )
        plain = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        yield {"remembering": remembering, "plain": plain}
        remembering.close()
        plain.close()


@pytest.fixture
def remembering(chromiums):
    return chromiums["remembering"]


def not_modified(server, path):
    """Return how many times the server answered `path` with a 304 (its request log)."""
    log = server.log_path.read_text(errors="replace")
    return len(re.findall(rf"path={re.escape(path)} status=304", log))


def back_after_signing_out(page):
    """Sign out, go Back, and return what the tab shows once it has settled on sign-in."""
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r"/auth/login"))
    page.go_back(wait_until="commit")
    page.wait_for_url(re.compile(r"/auth/login"), wait_until="commit", timeout=5_000)
    page.wait_for_load_state()
    return page.content()


def test_back_and_forth_costs_a_304_and_back_after_signing_out_shows_no_notes(remembering, settled):
    context = remembering.new_context(base_url=settled.url)
    context.add_init_script(COUNT_RESTORES)
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        sign_up_and_in(page, "ann@example.com", "ann")
        note = write_note(page, "Ann's secret", "the surprise party is on Friday")
        page.goto("/")
        before = not_modified(settled, "/")
        page.goto(note)
        page.go_back(wait_until="commit")  # a page the cache gives back fires no "load"
        page.wait_for_url(re.compile(r"/$"), wait_until="commit")
        page.locator("text=Ann's secret").wait_for()
        # Restored from memory, then asked again (app/static/pocket.js): a 304 each time.
        assert page.evaluate("Number(sessionStorage.restored || 0)") >= 1
        assert not_modified(settled, "/") > before

        # The list, given back from memory, asks again at once and is sent to sign in.
        assert "Ann's secret" not in back_after_signing_out(page)
    finally:
        context.close()


def test_back_after_signing_out_shows_no_notes_from_the_http_cache(chromiums, settled):
    # Without the back-forward cache (Playwright's default), Back goes through the browser's
    # HTTP cache, where the list is kept private, no-cache: signing out must leave nothing there
    # that Back could show.
    context = chromiums["plain"].new_context(base_url=settled.url)
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        sign_up_and_in(page, "bob@example.com", "bob")
        write_note(page, "Bob's secret", "the ring is in the drawer")
        page.goto("/")
        page.locator("text=Bob's secret").wait_for()
        assert "Bob's secret" not in back_after_signing_out(page)
    finally:
        context.close()
