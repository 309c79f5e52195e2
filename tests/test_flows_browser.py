"""What a Korean phone user met, third pass (issue 61), in a real Chromium: a tick keeps the
place and the focus and is announced; done items read as done; Markdown's quotes, code and
tables on a phone; an import's outcome appears without a reload; an attachment refused in
words in its panel; "Saving…" while a note is sent. Each page at 390 px dark in Korean and
1280 px light in English, with axe-core's WCAG 2.2 AA rules (0 violations) and no sideways
scroll; screenshots at 390 px in Korean for docs/screenshots/.
"""

import re

import pytest

from tests.browsers import sign_in_as, sign_up_and_in, write_note
from tests.pagechecks import SCREENSHOTS, check_here

VIEWS = [("ko", 390, "dark"), ("en", 1280, "light")]
DONE = {"ko": "“{}”: 완료", "en": "“{}”: done"}
NOT_DONE = {"ko": "“{}”: 미완료", "en": "“{}”: not done"}
REREAD = {"ko": "최신 내용을 다시 읽고 체크했어요", "en": "your tick went on its newest text"}
CHECKLIST = (
    "## 장보기\n\n" + "오늘 살 것들 — today's list\n\n" * 12 + "- [ ] 우유\n- [ ] 빵\n- [ ] 달걀"
)
MARKDOWN = (
    "> 인용문 — a quote\n\n"
    "```\n"
    + "const 아주_긴_이름의_변수 = '한 줄이 화면보다 긴 코드 — a long line of code';"
    * 2
    + "\n```\n\n"
    "| 날짜 | 마케팅 | 담당자 | 예산 | 진행 상황 | 비고 |\n|---|---|---|---|---|---|\n"
    "| 11월 25일 | 온라인광고 | 김민지 | 1,500,000원 | 진행중 | 검토필요 |\n"
)


def shoot(page, name):
    """Keep the page as it looks now for the docs (390 px, Korean)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)


@pytest.mark.parametrize(("language", "width", "scheme"), VIEWS)
def test_a_tick_keeps_the_place_and_focus_says_so_and_done_items_read_done(
    tabs, language, width, scheme
):
    page = tabs(language, width, scheme)
    email = f"tick-{language}@example.com"
    sign_up_and_in(page, email, f"tick{language}")
    note = write_note(page, "장보기 — shopping", CHECKLIST)
    page.goto(note)
    bread = page.get_by_role("button", name=NOT_DONE[language].format("빵"))
    bread.scroll_into_view_if_needed()
    scrolled = page.evaluate("window.scrollY")
    assert scrolled > 0, "the list is below the fold"
    bread.focus()
    page.keyboard.press("Enter")
    status = page.locator("#tick-status")
    page.wait_for_function("() => document.getElementById('tick-status').textContent !== ''")
    assert DONE[language].format("빵") in status.inner_text()
    # The same page, at the same place, the focus on the same box, now done.
    assert page.url.endswith(note) and abs(page.evaluate("window.scrollY") - scrolled) < 50
    assert page.evaluate("document.activeElement.id") == "task-1"
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == DONE[
        language
    ].format("빵")
    item = page.locator("li.task-list-item", has=page.locator("#task-1"))
    assert item.evaluate("e => getComputedStyle(e).textDecorationLine") == "line-through"

    # Another tab changes the note's heading; this page, not reloaded, ticks the milk.
    other = tabs(language, width, scheme)
    sign_in_as(other, email)
    other.goto(f"{note}/edit")
    other.fill(
        "textarea[name=content]",
        CHECKLIST.replace("## 장보기", "## 주말 장보기").replace("- [ ] 빵", "- [x] 빵"),
    )
    other.locator("main form:not(.unverified) button[type=submit]").first.click()
    other.wait_for_url(re.compile(r"/notes/\d+$"))
    page.get_by_role("button", name=NOT_DONE[language].format("우유")).click()
    page.wait_for_function(
        "(words) => document.getElementById('tick-status').textContent.includes(words)",
        arg=REREAD[language],
    )
    assert page.locator("#tick-flashes .flash").count() == 1
    page.get_by_role("button", name=NOT_DONE[language].format("달걀")).click()
    offer = page.locator("form.all-done")
    offer.wait_for()
    found = {}
    check_here(page, f"{note} all ticked, {language} {width} {scheme}", found)
    if language == "ko":
        shoot(page, f"checklist-done-390-ko-{scheme}")
    offer.locator("button").click()
    page.wait_for_load_state()
    assert page.locator("h1.completed").count() == 1
    assert found == {}


def test_without_javascript_a_tick_comes_back_to_its_item(chromium, settled):
    context = chromium.new_context(base_url=settled.url, java_script_enabled=False)
    page = context.new_page()
    try:
        sign_up_and_in(page, "plain@example.com", "plain")
        page.goto("/notes/new")
        page.fill("input[name=title]", "Plain")
        page.fill("textarea[name=content]", CHECKLIST)
        page.locator("main form:not(.unverified) button[type=submit]").first.click()
        page.wait_for_url(re.compile(r"/notes/\d+$"))
        page.locator("#task-2").click()
        page.wait_for_url(re.compile(r"/notes/\d+#task-2$"))
        assert page.evaluate("document.querySelector(':target').id") == "task-2"
    finally:
        context.close()


@pytest.mark.parametrize(("language", "width", "scheme"), VIEWS)
def test_quotes_code_and_tables_are_styled_and_keep_korean_words_whole(
    tabs, language, width, scheme
):
    page = tabs(language, width, scheme)
    sign_up_and_in(page, f"md-{language}@example.com", f"md{language}")
    page.goto(write_note(page, "마크다운 — markdown", MARKDOWN))
    quote = page.locator(".markdown blockquote")
    assert quote.evaluate("e => getComputedStyle(e).borderLeftWidth") == "4px"
    code = page.locator(".markdown pre")
    assert code.evaluate("e => getComputedStyle(e).whiteSpace") == "pre"
    assert code.evaluate("e => getComputedStyle(e).backgroundColor") != "rgba(0, 0, 0, 0)"
    assert code.evaluate("e => e.scrollWidth > e.clientWidth"), "a long line scrolls, unwrapped"
    for word in ("날짜", "마케팅", "담당자", "온라인광고"):
        cell = page.locator(".markdown th, .markdown td").filter(has_text=re.compile(f"^{word}$"))
        lines = cell.evaluate(
            "e => { const r = document.createRange(); r.selectNodeContents(e);"
            " return new Set([...r.getClientRects()].map((b) => Math.round(b.top))).size; }"
        )
        assert lines == 1, f"{word} is broken over {lines} lines"
    if width == 390:
        table = page.locator(".markdown table")
        assert table.evaluate("e => e.scrollWidth > e.clientWidth"), "the table scrolls sideways"
    found = {}
    check_here(page, f"markdown {language} {width} {scheme}", found)
    assert found == {}
    if language == "ko":
        shoot(page, f"markdown-390-ko-{scheme}")
    page.goto("/notes/new")
    assert page.get_by_role("button", name="소제목" if language == "ko" else "Heading").count() == 1


@pytest.mark.parametrize(("language", "width", "scheme"), VIEWS)
def test_saving_a_note_says_so_on_its_button(tabs, language, width, scheme):
    page = tabs(language, width, scheme)
    sign_up_and_in(page, f"save-{language}@example.com", f"save{language}")
    page.goto("/notes/new")
    page.fill("input[name=title]", "저장 — saving")
    # An answer that never comes (a function, so that Playwright does not call the new fetch).
    page.evaluate("() => { window.fetch = () => new Promise(() => {}); }")
    button = page.locator("main form:not(.unverified) button[type=submit]").first
    button.click(no_wait_after=True)
    assert button.inner_text() == ("저장 중…" if language == "ko" else "Saving…")
    assert button.get_attribute("aria-disabled") == "true"


@pytest.mark.parametrize(("language", "width", "scheme"), VIEWS)
def test_the_skip_link_is_the_first_stop_and_goes_to_the_content(tabs, language, width, scheme):
    page = tabs(language, width, scheme)
    page.goto("/auth/login")
    first = "document.querySelector('a[href], button, input:not([type=hidden]), select')"
    assert page.evaluate(f"{first}.className") == "skip", "the first stop of Tab"
    skip = page.locator("a.skip")
    assert skip.bounding_box()["y"] < 0, "out of sight until the keyboard reaches it"
    skip.focus()
    assert skip.bounding_box()["y"] >= 0 and skip.is_visible()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


@pytest.fixture
def store_tab(chromium, object_store, settled):
    """A tab factory whose pages may send files to the suite's store (its CORS rule)."""
    object_store.allow_uploads_from(settled.url)
    return settled


@pytest.mark.parametrize(("language", "width", "scheme"), VIEWS)
def test_an_imports_outcome_appears_at_the_top_without_a_reload(
    tabs, store_tab, tmp_path, language, width, scheme
):
    page = tabs(language, width, scheme)
    sign_up_and_in(page, f"import-{language}@example.com", f"import{language}")
    notes = tmp_path / "회의록.md"
    notes.write_text("# 회의록\n\n다음 주 일정", encoding="utf-8")
    page.goto("/mypage")
    page.set_input_files("form.import-upload input[type=file]", notes)
    with page.expect_navigation(url="**/mypage"):
        page.locator("form.import-upload button[type=submit]").click()
    page.evaluate("document.documentElement.dataset.stayed = 'yes'")
    status = page.locator("#import-status")
    status.wait_for()
    assert status.bounding_box()["y"] < 600, "under the message that it started"
    done = "가져오기 완료" if language == "ko" else "imported: 1 notes"
    page.wait_for_function(
        "(words) => document.getElementById('import-status').textContent.includes(words)",
        arg=done,
        timeout=30_000,
    )
    assert page.evaluate("document.documentElement.dataset.stayed") == "yes", "no reload"
    assert "flash-success" in status.get_attribute("class")
    found = {}
    check_here(page, f"/mypage import {language} {width} {scheme}", found)
    assert found == {}
    if language == "ko":
        page.set_viewport_size({"width": 390, "height": 844})
        page.screenshot(path=SCREENSHOTS / f"import-390-ko-{scheme}.png")


@pytest.mark.parametrize(("language", "width", "scheme"), VIEWS)
def test_a_refused_attachment_is_said_in_words_in_its_panel(
    tabs, store_tab, tmp_path, language, width, scheme
):
    page = tabs(language, width, scheme)
    sign_up_and_in(page, f"attach-{language}@example.com", f"attach{language}")
    note = write_note(page, "첨부 — files", "words")
    song = tmp_path / "노래.mp3"
    song.write_bytes(b"%PDF-1.4\n" + b"0" * 2000)  # a PDF named as sound
    page.goto(note)
    page.set_input_files("form.upload input[type=file]", song)
    with page.expect_navigation():
        page.locator("form.upload button[type=submit]").click()
    refusal = page.locator("#attachments .flash-error")
    refusal.wait_for()
    text = refusal.inner_text()
    assert "노래.mp3" in text and "/" not in text.replace("노래.mp3", ""), text
    assert ("오디오" if language == "ko" else "Audio") in text
    assert page.locator("h1").first.inner_text().strip().endswith("첨부 — files")
    # An empty file is refused by the script before it is sent: the words replace the
    # panel's earlier message, shown as an error beside the form.
    empty = tmp_path / "빈 파일.txt"
    empty.write_bytes(b"")
    page.set_input_files("form.upload input[type=file]", empty)
    page.locator("form.upload button[type=submit]").click()
    status = page.locator("form.upload .upload-status.flash-error")
    status.wait_for()
    assert status.get_attribute("role") == "alert"
    assert page.locator("#attachments > .flash").count() == 0
    found = {}
    check_here(page, f"{note} refused {language} {width} {scheme}", found)
    assert found == {}
    if language == "ko":
        shoot(page, f"attachment-refused-390-ko-{scheme}")
