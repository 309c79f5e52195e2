"""A real Chromium signs up from its own time zone, switches language and zone, and sees both.

Memo is served by gunicorn as the Procfile runs it. The browser's zone comes from the page's
script (static/timezone.js); the language from the switcher in the navigation, then my page.
Each step saves a screenshot under tmp/artifacts/ (docs/screenshots/ are made from them).
"""

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from devenv.visitors import PASSWORD
from tests.browsers import (
    ARTIFACTS,
    flash,
    screenshot_on_failure,
    submit,
)


@pytest.fixture
def page(chromium, live_server, object_store):  # noqa: F811
    """A fresh English-speaking tab in New York on Memo served by gunicorn."""
    server = live_server()
    context = chromium.new_context(
        base_url=server.url,
        locale="en-US",
        timezone_id="America/New_York",
        viewport={"width": 1000, "height": 700},
    )
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    yield tab
    context.close()


def shown_time(page):
    """Return the first <time> on the page: its UTC instant and its full reading (the title
    of a time said in words, "today 6:57 AM")."""
    element = page.locator("time").first
    full = element.get_attribute("title") or element.inner_text()
    return element.get_attribute("datetime"), full.strip()


def local_reading(instant, zone, pattern):
    """Return the UTC instant `instant` ("...Z") read in `zone` with strftime `pattern`."""
    moment = datetime.fromisoformat(instant.replace("Z", "+00:00")).astimezone(ZoneInfo(zone))
    return moment.strftime(pattern)


def snapshot(page, name):
    """Keep what the page looks like now (for docs/screenshots)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"{name}.png", full_page=True)


def korean_reading(instant, zone):
    """Return how a Korean page shows `instant` in `zone` (오전/오후 for AM and PM)."""
    noon = "오전" if int(local_reading(instant, zone, "%H")) < 12 else "오후"
    return local_reading(instant, zone, f"%Y년 %-m월 %-d일 {noon} %-I:%M")


def test_a_browser_switches_language_and_time_zone_and_sees_the_change(page):
    with screenshot_on_failure(page, "i18n-sign-up"):
        page.goto("/auth/signup")
        assert page.locator("html").get_attribute("lang") == "en"
        assert page.locator("input[name=timezone]").input_value() == "America/New_York"
        fields = {"email": "min@example.com", "nickname": "김민지", "password": PASSWORD}
        submit(page, {**fields, "password_confirm": PASSWORD}, "Sign up")
        submit(page, {"email": "min@example.com", "password": PASSWORD}, "Sign in")
        page.get_by_role("link", name="New note").first.click()
        submit(page, {"title": "주간 회의록", "content": "다음 주 장보기 목록: 우유, 달걀"}, "Save")
        assert "Note saved." in flash(page)

    with screenshot_on_failure(page, "i18n-english-in-new-york"):
        page.get_by_role("link", name="Notes", exact=True).click()
        instant, text = shown_time(page)
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", instant)
        assert text == local_reading(instant, "America/New_York", "%b %-d, %Y, %-I:%M %p")
        words = page.locator("time").first.inner_text()  # written just now, in New York
        assert words == local_reading(instant, "America/New_York", "today %-I:%M %p")

    with screenshot_on_failure(page, "i18n-switch-to-korean"):
        page.select_option("nav form.language select", "ko")
        page.get_by_role("button", name="Change language").click()
        page.wait_for_load_state()
        assert page.locator("html").get_attribute("lang") == "ko"
        assert page.locator("h1").inner_text() == "내 메모"
        assert page.get_by_role("link", name="새 메모").first.is_visible()
        assert shown_time(page) == (instant, korean_reading(instant, "America/New_York"))
        snapshot(page, "notes-ko")

    with screenshot_on_failure(page, "i18n-time-zone-to-seoul"):
        page.get_by_role("link", name="마이페이지").click()
        assert page.locator("select[name=timezone]").input_value() == "America/New_York"
        page.select_option("select[name=timezone]", "Asia/Seoul")
        page.get_by_role("button", name="저장").click()
        page.wait_for_load_state()
        assert "언어와 시간대를 저장했어요." in flash(page)
        assert page.locator("select[name=timezone]").input_value() == "Asia/Seoul"
        snapshot(page, "mypage-ko")
        page.goto("/")
        assert shown_time(page) == (instant, korean_reading(instant, "Asia/Seoul"))

    with screenshot_on_failure(page, "i18n-note-in-korean"):
        page.get_by_role("link", name="주간 회의록").click()
        assert page.get_by_role("button", name="삭제").is_visible()
        snapshot(page, "note-ko")
        page.get_by_role("link", name="단어 수 세기").last.click()
        page.wait_for_load_state()
        assert page.locator("h1").inner_text() == "단어 수 세기"
        snapshot(page, "wordcount-ko")

    with screenshot_on_failure(page, "i18n-back-to-english"):
        page.select_option("nav form.language select", "en")
        page.get_by_role("button", name="언어 바꾸기").click()
        page.wait_for_load_state()
        assert page.locator("html").get_attribute("lang") == "en"
        assert page.locator("h1").inner_text() == "Word count"
