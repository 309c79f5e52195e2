"""Debian's Chromium for the browser tests, through Playwright (no browser download)."""

from pathlib import Path

import pytest

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


@pytest.fixture(scope="module")
def chromium():
    """Debian's Chromium, headless, or a skip that says it is missing."""
    if not CHROMIUM.exists():
        pytest.skip(f"browser tests skipped: chromium not found at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def served_context(chromium, settled):
    """A browser context on Memo served as the Procfile serves it, waiting 15 s at most."""
    context = chromium.new_context(base_url=settled.url)
    context.set_default_timeout(15_000)
    yield context
    context.close()


LANGUAGES = {"ko": "ko-KR", "en": "en-US"}


@pytest.fixture
def site(chromium, settled):
    """Memo served as the Procfile serves it (a worker beside it), and a way to open tabs on it."""
    server = settled
    contexts = []

    def tab(language="en", width=1280, scheme="light"):
        context = chromium.new_context(
            base_url=server.url,
            locale=LANGUAGES[language],
            timezone_id="Asia/Seoul",
            viewport={"width": width, "height": 844},
            color_scheme=scheme,
        )
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        return page

    yield tab
    for context in contexts:
        context.close()
