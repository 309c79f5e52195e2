"""Reminders in Chromium: set one on a note with a quick choice and a repeat, see the bell in
the list and the fired one in the due view, remove it; the note page offers notifications
on this device (Web Push set up); every page passes axe with no sideways scroll, at 390 and
320 px in Korean (dark and light) and at 1280 px light in English; the phone's pages are kept in
docs/screenshots."""

import re

import pytest

from tests.browsers import new_tab, sign_up_and_in, write_note
from tests.mailbox import verify_email
from tests.pagechecks import SCREENSHOTS, Findings, check_here
from tests.pushes import push_to_page, vapid_settings
from tests.reminding import come_due, sweep
from tests.workers import web_and_worker

# The service worker shows a pushed reminder: the headless shell shows no notification.
WHOLE_BROWSER = True

WORDS = {
    "ko": {
        "morning": "내일 아침",
        "weekdays": "매주 평일",
        "set": "리마인더 설정",
        "remove": "리마인더 지우기",
        "notify": "이 기기에서 기기 알림 받기",
    },
    "en": {
        "morning": "Tomorrow morning",
        "weekdays": "Every weekday",
        "set": "Set reminder",
        "remove": "Remove reminder",
        "notify": "Notify me on this device",
    },
}


def shot(page, name):
    """Keep the whole page as it looks now in docs/screenshots (the phone's, at 390 px)."""
    if page.viewport_size["width"] == 390:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)


@pytest.fixture(scope="module")
def served(app, postgres, object_store, tmp_path_factory):
    """Memo as the Procfile runs it, web and a worker, with Web Push set up (VAPID keys)."""
    settings, _ = vapid_settings()
    keys = {
        "VAPID_PUBLIC_KEY": settings["public_key"],
        "VAPID_PRIVATE_KEY": settings["private_key"],
    }
    folder = tmp_path_factory.mktemp("served")
    with web_and_worker(postgres, object_store, folder, **keys) as web:
        yield web


@pytest.mark.parametrize(
    ("language", "width", "scheme"),
    [("en", 1280, "light"), ("ko", 390, "dark"), ("ko", 390, "light")],
)
def test_a_reminder_is_set_shown_fired_and_removed(app, chromium, settled, language, width, scheme):
    words = WORDS[language]
    found = Findings(widths=(390, 320)) if width == 390 else {}  # a phone's page at 320 px too
    context, page = new_tab(chromium, settled.url, language, width, scheme)
    email = f"remind-{language}@example.com"
    sign_up_and_in(page, email, f"remind-{language}")
    verify_email(app, email)
    note = write_note(page, "Standup", "Daily notes")
    check_here(page, f"{note} without a reminder", found)
    page.get_by_label(re.compile(words["morning"])).check()
    page.locator("select[name=repeat]").select_option("weekdays")
    page.get_by_role("button", name=words["set"]).click()
    page.wait_for_url(re.compile(r"/notes/\d+$"))
    assert words["weekdays"] in page.locator("section.reminding").inner_text()
    # Chromium has a service worker and PushManager: the button shows, the iOS note does not.
    page.get_by_role("button", name=words["notify"]).wait_for()
    assert page.locator("#push-unsupported").is_hidden()
    check_here(page, f"{note} with a reminder", found)
    shot(page, f"reminder-panel-{width}-{language}-{scheme}")
    # The service worker shows a pushed reminder, and opens only Memo's own pages from it.
    pushed = f'{{"title": "Standup", "body": "-", "lang": "{language}", "url": "{note}"}}'
    [shown] = push_to_page(context, page, pushed)
    assert shown == {"title": "Standup", "body": "-", "lang": language, "url": page.url}
    page.goto("/")
    assert page.locator("li .bell").count() == 1
    check_here(page, "/ with a bell", found)
    come_due(app)
    sweep(app)
    page.goto("/reminders")
    assert "Standup" in page.locator("main").inner_text()
    check_here(page, "/reminders", found)
    shot(page, f"reminders-due-{width}-{language}-{scheme}")
    page.goto(note)
    page.get_by_role("button", name=words["remove"]).click()
    page.wait_for_url(re.compile(r"/notes/\d+$"))
    assert page.locator("section.reminding button.danger").count() == 0
    context.close()
    assert found == {}


def test_notifications_on_this_device_are_one_button_that_gives_up_on_a_silent_browser(
    app, chromium, settled
):
    context, page = new_tab(chromium, settled.url, "ko", 390, "dark")
    context.grant_permissions(["notifications"], origin=settled.url)
    # A push service that never answers: the browser's subscribe waits for ever.
    context.add_init_script("PushManager.prototype.subscribe = () => new Promise(() => {});")
    found = Findings(widths=(390, 320))
    sign_up_and_in(page, "silent@example.com", "silent")
    verify_email(app, "silent@example.com")
    write_note(page, "회의", "매주")
    page.get_by_label(re.compile("내일 아침")).check()
    page.get_by_role("button", name="리마인더 설정").click()
    page.wait_for_url(re.compile(r"/notes/\d+$"))
    panel = page.locator("section.reminding")
    assert "서울, 대한민국 시간을 따라요." in panel.inner_text()  # the clock it keeps
    push = page.locator("#push")
    toggle = push.get_by_role("button", name="이 기기에서 기기 알림 받기")
    toggle.wait_for()
    assert push.get_by_role("button").count() == 1  # one button, for the browser's state
    toggle.click()
    busy = push.get_by_role("button", name="기기 알림 켜는 중…")
    busy.wait_for()
    assert busy.get_attribute("aria-disabled") == "true"
    check_here(page, "push busy, ko 390 dark", found)
    shot(page, "push-busy-390-ko-dark")
    said = page.locator("#push-said")
    said.get_by_text("15초 안에 답하지 않아서").wait_for(timeout=20_000)
    assert "리마인더는 계속 메일로 와요" in said.inner_text()
    push.get_by_role("button", name="이 기기에서 기기 알림 받기").wait_for()
    assert push.get_by_role("button").count() == 1
    check_here(page, "push given up, ko 390 dark", found)
    shot(page, "push-late-390-ko-dark")
    context.close()
    assert found == {}
