"""Writing in a note, in a real browser: ticking a task from the notes list, and the note
form's tag suggestions; each state checked by axe at 320, 390 and 1280 px, light and dark,
in both languages (the walk of tests/test_interface_browser.py), with the keyboard alone."""

import re

import pytest

from tests.browsers import (
    every_view,
    keep_the_saved_one_then_save_twice,
    sign_up_and_in,
    write_note,
)
from tests.pagechecks import SCREENSHOTS, Findings, check_here

NOT_DONE = {"ko": "“{}”: 미완료", "en": "“{}”: not done"}


@pytest.mark.parametrize("language", ["ko", "en"])
def test_a_task_is_ticked_from_the_list_with_the_keyboard_and_the_list_passes_axe(tabs, language):
    page = tabs(language, 390)
    email = f"ticks-{language}@example.com"
    sign_up_and_in(page, email, f"ticks{language}")
    note = write_note(page, "장보기 — shopping", "- [ ] 우유 — milk\n- [ ] 빵 — bread\n- [x] 잼")
    for number in range(12):  # enough notes that the checklist's row is below the fold
        write_note(page, f"메모 {number} — note {number}", "글 — words " * 20)
    page.goto("/?page=1")
    box = page.get_by_role("button", name=NOT_DONE[language].format("빵 — bread"))
    box.focus()
    scrolled = page.evaluate("window.scrollY")
    page.keyboard.press("Enter")
    # The same list, where it was (tasks.js): the row has its new state, the focus is on the
    # box now in the ticked one's place, and the status region said what happened.
    page.wait_for_function("() => document.getElementById('tick-status').textContent !== ''")
    assert page.url.endswith("/?page=1") and abs(page.evaluate("window.scrollY") - scrolled) < 50
    row = f"note-{note.split('/')[-1]}"
    assert page.evaluate("document.activeElement.closest('li').id") == row
    assert page.get_by_role("button", name=NOT_DONE[language].format("우유 — milk")).is_visible()
    assert page.get_by_role("button", name=NOT_DONE[language].format("빵 — bread")).count() == 0
    assert "2/3" in page.inner_text(f"#note-{note.split('/')[-1]} .tasks")
    found = {}
    for width, scheme in every_view(page):
        page.goto("/")
        check_here(page, f"/ at {width} px, {scheme}", found)
        if width == 390 and language == "ko":
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=SCREENSHOTS / f"list-ticks-390-ko-{scheme}.png")
    assert found == {}


@pytest.mark.parametrize("language", ["ko", "en"])
def test_the_form_offers_the_accounts_tags_as_one_types_a_hash(tabs, language):
    page = tabs(language, 390)
    email = f"tags-{language}@example.com"
    sign_up_and_in(page, email, f"tags{language}")
    write_note(page, "회의 — a meeting", "#회의록 #work")
    found = {}
    for width, scheme in every_view(page):
        page.evaluate("localStorage.clear()")  # the draft the last view typed: a new form
        page.goto("/notes/new")
        page.fill("input[name=title]", "새 회의 — another")
        text = page.locator("textarea[name=content]")
        text.click()
        page.keyboard.type("오늘 #회")
        suggestion = page.get_by_role("button", name="#회의록")
        suggestion.wait_for()
        assert page.get_by_role("button", name="#work").count() == 0  # it does not fit
        check_here(page, f"/notes/new with suggestions at {width} px, {scheme}", found)
        if width == 390 and language == "ko":
            page.screenshot(path=SCREENSHOTS / f"tag-suggestions-390-ko-{scheme}.png")
    page.keyboard.press("Tab")  # from the text to the first suggestion
    assert page.evaluate("document.activeElement.textContent") == "#회의록"
    page.keyboard.press("Enter")
    assert page.input_value("textarea[name=content]") == "오늘 #회의록 "
    assert page.evaluate("document.activeElement.name") == "content"
    assert not page.is_visible(".tag-suggestions")
    assert found == {}


@pytest.mark.parametrize("language", ["ko", "en"])
def test_an_upload_returns_to_the_attachments_with_its_message(
    tabs, object_store, settled, tmp_path, language
):
    object_store.allow_uploads_from(settled.url)
    page = tabs(language, 390)
    email = f"files-{language}@example.com"
    sign_up_and_in(page, email, f"files{language}")
    note = write_note(page, "첨부 — files", "글 — words\n" * 30)  # a long note: the panel is low
    report = tmp_path / "보고서 report.pdf"
    report.write_bytes(b"%PDF-1.7\n" + b"x" * 3000)
    found = {}
    for width, scheme in every_view(page):
        page.goto(note)
        page.set_input_files("form.upload input[type=file]", report)
        with page.expect_navigation(url=re.compile(r"/notes/\d+#attachments$")):
            page.locator("form.upload button[type=submit]").click()
        message = page.locator("#attachments .flash")
        assert "보고서 report.pdf" in message.inner_text()
        box = page.evaluate("document.getElementById('attachments').getBoundingClientRect().top")
        assert 0 <= box < page.viewport_size["height"], "the panel is in view"
        kinds = page.locator("ul.attachments").inner_text()
        assert ("PDF 문서 · " if language == "ko" else "PDF document · ") in kinds
        check_here(page, f"{note} after an upload at {width} px, {scheme}", found)
        if width == 390 and language == "ko":
            page.screenshot(path=SCREENSHOTS / f"attachments-390-ko-{scheme}.png")
    assert found == {}


@pytest.mark.parametrize("language", ["ko", "en"])
def test_the_history_with_a_set_aside_text_and_dropped_saves_passes_axe(tabs, language):
    page = tabs(language, 390)
    email = f"history-{language}@example.com"
    sign_up_and_in(page, email, f"history{language}")
    note = write_note(page, "두 곳에서 — two places", "first")
    page.goto(f"{note}/edit")
    page.evaluate("document.querySelector('input[name=version]').value = '0'")
    page.fill("textarea[name=content]", "mine")
    page.get_by_role("button", name=re.compile("Save|저장")).click()
    keep_the_saved_one_then_save_twice(page, note)
    page.goto(f"{note}/history")
    aside = page.locator("a[href*='/history/']").last.get_attribute("href")
    found = {}
    for width, scheme in every_view(page):
        for path in (f"{note}/history", aside):
            page.goto(path)
            check_here(page, f"{path} at {width} px, {scheme}", found)
        if width == 390 and language == "ko":
            page.goto(f"{note}/history")
            page.screenshot(path=SCREENSHOTS / f"history-390-ko-{scheme}.png", full_page=True)
    assert found == {}


def test_the_page_checks_find_what_a_page_gets_wrong(chromium):
    # The checks every browser test runs, on a page made to fail them: an image with no text,
    # grey on white, and a row wider than the phone.
    page = chromium.new_page(viewport={"width": 390, "height": 844})
    try:
        page.set_content(
            '<html lang="en"><head><title>t</title></head><body><main><h1>t</h1>'
            '<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">'
            '<p style="color: #bbb; background: #fff">faint</p>'
            '<div style="width: 600px">wide</div></main></body></html>'
        )
        found = Findings(widths=(390, 1280))
        check_here(page, "/made", found)
    finally:
        page.close()
    rules = {violation["id"] for violation in found["/made at 390 px"]}
    assert {"image-alt", "color-contrast"} <= rules
    assert found["/made at 390 px scrolls sideways"] > 0
    assert "/made at 1280 px scrolls sideways" not in found
