"""Memo's face in a real browser: every page for everyone, on a phone and a desktop, light and dark.

Debian's Chromium through Playwright, on Memo served as the Procfile serves it. axe-core (the
pinned copy in tests/vendor/axe-core, MPL-2.0) checks WCAG 2.2 AA on every page a person
reaches, in Korean and in English, at 390 and 1280 px; the CSP refuses an added <script>, so
its source runs through page.evaluate, and each check first proves axe is there.
"""

import re
from urllib.parse import urlsplit

import pytest

from devenv.visitors import PASSWORD
from tests.browsers import keep_the_saved_one_then_save_twice, sign_up_and_in, write_note
from tests.mailbox import verify_email
from tests.pagechecks import SCREENSHOTS, SIDEWAYS, Findings, check_here
from tests.phones import Phone

LONG_URL = "https://example.com/" + "a-very-long-path-segment-" * 11 + "end"  # 300 characters
HOOK_URL = "https://hooks.example.com/memo"  # no hyphen to break at: it scrolled at 320 px


CHECKLIST = (
    "## 오늘 — today\n\n- [ ] 우유 — milk\n- [ ] 빵 — bread\n- [x] **전화** — call"
    " [Bob](https://example.invalid/)\n\n"
    "| 항목 — item | 수량 — count | 메모 — note |\n|---|--:|---|\n"
    "| 사과 — apples | 3 | "
    + LONG_URL
    + " |\n\n> 인용 — a quote\n\n`code` ~~old~~ ![a picture](https://example.invalid/p.png)"
    "\n\n[[링크 하나 — one link]] [[없는 메모 — a missing note]]"
)


def make_a_token(page, found=None):
    """Make an access token with a long name on its page; the page that shows its secret
    (once) is checked here."""
    page.goto("/mypage/tokens")
    page.fill("input[name=name]", "백업 스크립트 — the nightly-backup-script-on-my-laptop")
    page.select_option("select[name=scope]", "write")
    page.fill("input[name=password]", PASSWORD)
    page.locator("#new-token button[type=submit]").click()
    page.locator("#token-secret").wait_for()
    if found is not None:
        check_here(page, "/mypage/tokens with a new token", found)


def make_a_webhook_and_a_feed(page, found=None):
    """Make a webhook (a long address, every event, a tag) and send it a test event, and make
    a feed; the pages that show the webhook's secret and the feed's address (once) are
    checked here."""
    page.goto("/mypage/webhooks")
    page.fill("input[name=url]", HOOK_URL)
    page.fill("#new-webhook input[name=tag]", "회의록")
    page.locator("#new-webhook button[type=submit]").click()
    page.locator("#webhook-secret").wait_for()
    if found is not None:
        check_here(page, "/mypage/webhooks with a new webhook", found)
    page.goto("/mypage/webhooks")
    page.get_by_role("button", name=re.compile("Send a test event|테스트 이벤트 보내기")).click()
    page.wait_for_url(re.compile(r"/mypage/webhooks"))
    page.locator("#feeds button[type=submit]").last.click()
    page.locator("#feed-url").wait_for()
    if found is not None:
        check_here(page, "/mypage/webhooks with a new feed", found)


def make_ways_out(page, found=None):
    """Make an access token, a webhook and a feed (their pages checked: see each)."""
    make_a_token(page, found)
    make_a_webhook_and_a_feed(page, found)


def pages_of_a_user(page, found=None):
    """Give the signed-in user a note (one 300-character URL), a word count, tags, a pin, an
    archived note, a share link, a checklist note (one item ticked), a token, a webhook and a
    feed; return their pages (each page that shows a new link, secret or address is checked)."""
    note = write_note(page, "링크 하나 — one link", LONG_URL)
    page.goto("/wordcount")
    page.fill("input[name=url]", "https://example.invalid/")
    page.locator("main form:not(.unverified) button[type=submit]").first.click()
    page.wait_for_load_state()
    count = re.search(r"/wordcount/\d+$", page.url)[0]
    page.goto(f"{note}/edit")
    page.fill("textarea[name=content]", LONG_URL + "\n두 번째 줄 — a second line #회의록 #work")
    page.get_by_role("button", name=re.compile("Save|저장")).click()
    page.wait_for_url(re.compile(r"/notes/\d+$"))  # its history now has a version
    trashed = write_note(page, "버린 메모 — a trashed note", "gone")
    page.goto(trashed)
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator(f"form[action='{trashed}/delete'] button").click()
    page.wait_for_url(re.compile(r"/$"))
    page.goto(note)
    page.locator(f"form[action='{note}/pin'] button").click()
    page.wait_for_url(re.compile(r"/notes/\d+$"))
    page.get_by_role("button", name=re.compile("Make a share link|공유 링크 만들기")).click()
    page.wait_for_url(re.compile(r"/notes/\d+$"))
    if found is not None:
        check_here(page, f"{note} with a new share link", found)
    shared = urlsplit(page.input_value("#share-link")).path
    archived = write_note(page, "보관한 메모 — an archived note", "#회의록")
    page.goto(archived)
    page.locator(f"form[action='{archived}/archive'] button").click()
    page.wait_for_url(re.compile(r"/notes/\d+$"))
    checklist = write_note(page, "할 일 — a checklist", CHECKLIST)
    page.get_by_role("button", name=re.compile("우유 — milk")).click()  # ticked on its page
    page.wait_for_url(re.compile(r"/notes/\d+$"))
    make_ways_out(page, found)
    return [
        checklist,
        f"{note}/history",
        "/trash",
        "/tags",
        "/archive",
        archived,
        "/?tag=회의록",
        shared,
        "/",
        "/notes/new",
        note,
        f"{note}/edit",
        f"{note}/wordcount",
        "/search?q=link",
        "/wordcount",
        count,
        "/mypage",
        "/mypage/export",
        "/mypage/tokens",
        "/mypage/webhooks",
        "/mypage/security",
        "/reminders",
        "/notes/999999",  # the error page
    ]


SIGNED_OUT = ["/auth/login", "/auth/signup", "/auth/reset", "/auth/verify/not-a-token", "/api/docs"]


ERROR_PAGES = {"/notes/999999": 404, "/auth/verify/not-a-token": 400}


def check_page(page, path, found):
    """Open `path`; add to `found` a failed answer, what axe finds and any sideways scroll."""
    status = page.goto(path).status
    if status != ERROR_PAGES.get(path, 200):
        found[f"{path} answered"] = status
    check_here(page, path, found)


@pytest.mark.parametrize("language", ["ko", "en"])
def test_every_page_passes_axe_at_390_and_1280_px_with_no_sideways_scroll(tabs, language):
    # One account a language, made on the phone; every page it reaches is checked on the phone,
    # then with the window widened to 1280 px (the tab resized in place: the same document).
    found = Findings(widths=(390, 1280))
    page = tabs(language, 390)
    for path in SIGNED_OUT:
        check_page(page, path, found)
    sign_up_and_in(page, f"{language}@example.com", f"sweep{language}")
    for path in pages_of_a_user(page, found):
        check_page(page, path, found)
    check_conflict_page(page, found)
    assert found == {}


def sign_in_again(page, email):
    """Sign out, then give the password: an account with the app on is asked for a code."""
    page.locator("form.sign-out button").click()
    page.wait_for_url(re.compile(r"/auth/login"))
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_url(re.compile(r"/auth/two-step$"))


@pytest.mark.parametrize("language", ["ko", "en"])
def test_the_two_step_pages_pass_axe_light_and_dark_and_take_a_code_from_the_keyboard(
    app, tabs, language
):
    found = {}
    for width, scheme in ((320, "dark"), (1280, "light")):
        page = tabs(language, width, scheme=scheme)
        email = f"two-{language}{width}@example.com"
        sign_up_and_in(page, email, f"two-{language}{width}")
        verify_email(app, email)
        check_page(page, "/mypage/security", found)
        check_page(page, "/mypage/totp", found)
        code_field = page.locator("input[name=code]")
        assert code_field.get_attribute("autocomplete") == "one-time-code"
        assert code_field.get_attribute("inputmode") == "numeric"
        phone = Phone(page.inner_text("#totp-secret"))
        page.fill("input[name=code]", phone.code())
        page.fill("input[name=password]", PASSWORD)
        page.keyboard.press("Enter")
        page.locator(".recovery-codes").wait_for()
        check_here(page, "the recovery codes", found)
        check_page(page, "/mypage/security", found)
        sign_in_again(page, email)
        check_here(page, "/auth/two-step", found)
        check_page(page, "/auth/two-step?with=recovery", found)
        page.goto("/auth/two-step")
        # The field takes the focus by itself (autofocus, which Chromium applies at the frame
        # after the load): then the keyboard alone.
        page.wait_for_function("document.activeElement?.name === 'code'")
        page.keyboard.type(phone.code())
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r"/$"))
    assert found == {}


def check_conflict_page(page, found):
    """Save a note from a form older than its text: the page with both texts, checked by axe."""
    note = write_note(page, "두 곳에서 — two places", "first")
    page.goto(f"{note}/edit")
    page.evaluate("document.querySelector('input[name=version]').value = '0'")
    page.fill("textarea[name=content]", "mine")
    page.get_by_role("button", name=re.compile("Save|저장")).click()
    page.locator(".texts").wait_for()
    check_here(page, "the conflict page", found)
    # Keep the saved one, then two saves in a row: the history's set-aside entry and its
    # entry that says a save in between was not kept on its own.
    keep_the_saved_one_then_save_twice(page, note)
    check_page(page, f"{note}/history", found)


@pytest.mark.parametrize("width", [320, 390])
def test_a_phone_never_scrolls_sideways_and_taps_have_room(tabs, width):
    page = tabs("ko", width)
    sign_up_and_in(page, f"phone{width}@example.com", f"phone{width}")
    for path in [*pages_of_a_user(page), "/", "/api/docs"]:
        page.goto(path)
        assert page.evaluate(SIDEWAYS) <= 0, f"{path} scrolls sideways at {width} px"
    small = page.evaluate(
        """() => [...document.querySelectorAll("button, a.button, nav a, select")]
          .map((e) => e.getBoundingClientRect())
          .filter((r) => r.width > 0 && (r.width < 24 || r.height < 24)).length"""
    )
    assert small == 0, "every tap target is at least 24 x 24 px"


def test_dark_mode_follows_the_system_with_enough_contrast(tabs):
    page = tabs("ko", 390, scheme="dark")
    sign_up_and_in(page, "dark@example.com", "dark")
    found = {}
    for path in [*pages_of_a_user(page)[:4], "/mypage/tokens"]:
        check_page(page, path, found)
        background = page.evaluate("getComputedStyle(document.body).backgroundColor")
        red, green, blue = map(int, re.findall(r"\d+", background)[:3])
        assert red + green + blue < 3 * 64, f"{path} is dark ({background})"
    assert found == {}


def test_no_request_of_a_page_fails_the_icon_and_manifest_included(tabs):
    page = tabs("en", 1280)
    failures = []
    page.on("response", lambda r: r.status >= 400 and failures.append((r.status, r.url)))
    page.goto("/auth/login")
    sign_up_and_in(page, "requests@example.com", "requests")
    for path in pages_of_a_user(page)[:-1]:  # not the error page, whose 404 is its point
        page.goto(path)
    manifest = page.evaluate(
        """async () => (await fetch(document.querySelector("link[rel=manifest]").href)).json()"""
    )
    assert manifest["name"] == "Memo" and manifest["icons"]
    icon = page.evaluate("document.querySelector('link[rel=icon]').href")
    assert page.request.get(icon).status == 200
    assert failures == []


def tab_to(page, is_there, presses=10):
    """Press Tab until the script `is_there` holds of the focused element."""
    for _ in range(presses):
        page.keyboard.press("Tab")
        if page.evaluate(is_there):
            return
    pytest.fail(f"Tab never reached: {is_there}")


def test_the_editor_buttons_type_markdown_and_a_task_is_ticked_with_the_keyboard(tabs):
    page = tabs("en", 390)
    sign_up_and_in(page, "editor@example.com", "editor")
    page.goto("/notes/new")
    page.fill("input[name=title]", "Shop")
    page.fill("textarea[name=content]", "milk")
    page.get_by_role("button", name="Checklist item").click()
    page.keyboard.type(" ")  # the text box has the focus back
    page.get_by_role("button", name="Bold").click()
    page.keyboard.type("oat")
    assert page.input_value("textarea[name=content]") == "- [ ] milk **oat**"
    page.get_by_role("button", name="Heading").click()
    assert page.input_value("textarea[name=content]") == "## - [ ] milk **oat**"
    page.fill("textarea[name=content]", "- [ ] milk **oat**")
    preview = page.get_by_role("button", name="Preview")
    preview.click()
    page.locator("#preview-pane strong").wait_for()
    assert page.inner_text("#preview-pane strong") == "oat"
    assert not page.is_visible("textarea[name=content]")
    preview.click()  # back to the text
    assert page.is_visible("textarea[name=content]") and not page.is_visible("#preview-pane")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(r"/notes/\d+$"))
    assert page.inner_html(".markdown strong") == "oat"
    box = page.get_by_role("button", name="“milk oat”: not done")
    box.focus()
    page.keyboard.press("Enter")  # ticked in place (app/static/tasks.js): no new page
    page.get_by_role("button", name="“milk oat”: done").wait_for()
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == "“milk oat”: done"


def test_a_note_is_written_and_ticked_with_the_keyboard_alone(tabs):
    page = tabs("ko", 1280)
    sign_up_and_in(page, "keys@example.com", "keys")
    page.goto("/")
    for _ in range(40):  # Tab from the top of the list to "새 메모"
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent.trim()") == "새 메모":
            break
    else:
        pytest.fail("Tab never reached 새 메모")
    page.keyboard.press("Enter")
    page.wait_for_url("**/notes/new")
    page.wait_for_function("document.activeElement?.name === 'title'")  # it takes the focus
    page.keyboard.type("키보드로 쓴 메모")
    tab_to(page, "document.activeElement.name === 'content'")  # past the Markdown buttons
    page.keyboard.type("마우스 없이")
    tab_to(page, "document.activeElement.textContent.trim() === '저장'")
    page.keyboard.press("Enter")  # the Save button: the form's script sends it
    page.wait_for_url(re.compile(r"/notes/\d+$"))
    page.goto("/")
    tick = page.get_by_role("button", name="완료: “키보드로 쓴 메모”")
    tick.focus()
    with page.expect_navigation():
        page.keyboard.press("Space")
    assert tick.get_attribute("aria-pressed") == "true"


def test_screenshots_of_the_phone_in_korean_light_and_dark(app, tabs):
    """docs/screenshots: the list, a note and my page at 390 px, as this version draws them."""
    for scheme in ("light", "dark"):
        page = tabs("ko", 390, scheme=scheme)
        email = f"shot-{scheme}@example.com"
        sign_up_and_in(page, email, {"light": "김민지", "dark": "이서준"}[scheme])
        verify_email(app, email)  # a new account's banner is not what the pictures show
        write_note(page, "장보기", "우유, 달걀, 빵\n#집")
        note = write_note(page, "주간 회의록 — 11월", "다음 주 발표 준비: 자료 정리, 리허설")
        for name, path in (("list", "/"), ("note", note), ("mypage", "/mypage")):
            page.goto(path)
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=SCREENSHOTS / f"{name}-390-ko-{scheme}.png")
            assert (SCREENSHOTS / f"{name}-390-ko-{scheme}.png").stat().st_size > 0


def test_a_token_is_made_and_copied_with_the_keyboard_alone(tabs):
    page = tabs("en", 390)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    sign_up_and_in(page, "keys@example.com", "keys")
    page.goto("/mypage/tokens")
    tab_to(page, "document.activeElement.name === 'name'", presses=40)
    page.keyboard.type("laptop")
    page.keyboard.press("Tab")  # the access: read only, then read and write
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Tab")  # the days: 30 as it is
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.locator("#token-secret").wait_for()
    assert "Access: read and write." in page.inner_text("main")
    secret = page.input_value("#token-secret")
    tab_to(page, "document.activeElement.matches('button.copy')", presses=30)
    page.keyboard.press("Enter")
    assert page.evaluate("navigator.clipboard.readText()") == secret
    assert page.inner_text("button.copy") == "Copied"


def test_the_api_reference_is_dark_with_the_system_and_followed_with_the_keyboard(tabs):
    page = tabs("en", 320, scheme="dark")
    found = {}
    check_page(page, "/api/docs", found)
    assert found == {}
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert sum(map(int, re.findall(r"\d+", background)[:3])) < 3 * 64
    tab_to(page, "document.activeElement.getAttribute('href') === '#GET--api-v1-me'", presses=60)
    page.keyboard.press("Enter")
    assert page.evaluate("location.hash") == "#GET--api-v1-me"
    assert page.evaluate("document.querySelector('#GET--api-v1-me h2').textContent").strip() == (
        "GET /api/v1/me"
    )


@pytest.mark.parametrize("language", ["ko", "en"])
def test_the_webhooks_pages_pass_axe_at_320_and_390_px(tabs, language):
    found = Findings(widths=(320, 390))
    page = tabs(language, 320)
    sign_up_and_in(page, f"hooks-{language}@example.com", f"hooks{language}")
    make_a_webhook_and_a_feed(page, found)
    check_page(page, "/mypage/webhooks", found)
    assert found == {}
