"""Notes that link, walked in Chromium in Korean on a phone (320 px): write `[[장보기]]`,
follow it to write the missing note, see "linked from", rename 장보기 and update the links,
rename #회의 to #모임; each page passes axe with no sideways scroll."""

import re

from tests.browsers import sign_up_and_in, write_note
from tests.pagechecks import Findings, check_here


def save_edit(page, path, title=None, content=None):
    """Change a note through its edit form; wait for its page."""
    page.goto(f"{path}/edit")
    if title is not None:
        page.fill("input[name=title]", title)
    if content is not None:
        page.fill("textarea[name=content]", content)
    page.locator("main form:not(.unverified) button[type=submit]").first.click()
    page.wait_for_url(re.compile(r"/notes/\d+(\?.*)?$"))


def test_write_follow_rename_and_retag_in_korean_at_320_px(tabs):
    found = Findings(widths=(320, 390))
    page = tabs("ko", 320)
    sign_up_and_in(page, "links@example.com", "links")
    today = write_note(page, "오늘 할 일", "[[장보기]] 다녀오기 #회의에서 정한 것")
    check_here(page, "a note with a missing link", found)
    page.get_by_role("link", name="장보기").click()
    page.wait_for_url(re.compile(r"/notes/new\?title="))
    assert page.input_value("input[name=title]") == "장보기"
    page.fill("textarea[name=content]", "우유, 달걀 #회의")
    page.locator("main form:not(.unverified) button[type=submit]").first.click()
    page.wait_for_url(re.compile(r"/notes/\d+$"))
    shopping = re.search(r"/notes/\d+$", page.url)[0]
    linked_from = page.get_by_role("region", name="이 메모를 링크한 메모")
    assert linked_from.get_by_role("link", name="오늘 할 일").is_visible()
    check_here(page, "a note linked from another", found)
    save_edit(page, shopping, title="시장 보기")
    offer = page.locator("form.relink")
    assert "장보기" in offer.inner_text()
    check_here(page, "the offer to update the links", found)
    offer.get_by_role("button").click()
    page.wait_for_url(re.compile(rf"{shopping}$"))
    page.goto(f"{today}/edit")
    assert page.input_value("textarea[name=content]").startswith("[[시장 보기]]")
    page.goto(today)
    assert page.get_by_role("link", name="시장 보기").get_attribute("href") == shopping
    page.goto("/tags")
    check_here(page, "/tags with the rename form", found)
    page.fill("#rename-from", "회의")
    page.fill("#rename-to", "모임")
    page.get_by_role("button", name="이름 바꾸기").click()
    page.wait_for_url(re.compile(r"/tags$"))
    assert "#모임" in page.locator("ul.tags").inner_text()
    assert "#회의" not in page.locator("ul.tags").inner_text()
    page.goto(f"{today}/edit")
    assert "#모임에서 정한 것" in page.input_value("textarea[name=content]")
    assert found == {}
