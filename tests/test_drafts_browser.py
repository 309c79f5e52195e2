"""In a real Chromium: a note being written survives a closed tab and a dropped connection,
and two tabs editing one note never overwrite each other.

Memo served as the Procfile serves it (`settled`), Debian's Chromium through Playwright.
"""

import re

from devenv.visitors import PASSWORD
from tests.browsers import flash, sign_in, sign_up, submit


def test_a_draft_comes_back_after_the_tab_was_closed(served_context):
    page = served_context.new_page()
    sign_up(page)
    page.goto("/notes/new")
    page.fill("input[name=title]", "Half a thought")
    page.fill("textarea[name=content]", "written before the battery died")
    page.wait_for_timeout(600)  # the script keeps what was typed after a pause
    page.close()

    again = served_context.new_page()
    again.goto("/notes/new")
    notice = again.locator("#draft-notice")
    assert "was not saved" in notice.inner_text()
    again.get_by_role("button", name="Restore the draft").click()
    assert again.input_value("input[name=title]") == "Half a thought"
    assert again.input_value("textarea[name=content]") == "written before the battery died"

    again.get_by_role("button", name="Save").click()
    again.wait_for_url(re.compile(r"/notes/\d+$"))
    assert "Note saved." in flash(again)
    again.goto("/notes/new")
    assert again.locator("#draft-notice").is_hidden()  # saved: no draft left


def test_a_save_cut_by_the_network_keeps_the_text_on_the_page_with_a_message(served_context):
    page = served_context.new_page()
    sign_up(page)
    page.goto("/notes/new")
    page.fill("input[name=title]", "On the subway")
    page.fill("textarea[name=content]", "the tunnel ate my signal")
    page.route(
        "**/notes/new",
        lambda route: route.abort() if route.request.method == "POST" else route.continue_(),
    )
    page.get_by_role("button", name="Save").click()
    notice = page.locator("#draft-notice")
    notice.wait_for(state="visible")
    assert "could not be reached" in notice.inner_text()
    assert page.input_value("textarea[name=content]") == "the tunnel ate my signal"

    page.unroute("**/notes/new")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(r"/notes/\d+$"))
    assert "the tunnel ate my signal" in page.locator(".content").inner_text()


def test_signing_out_clears_the_accounts_drafts(served_context):
    page = served_context.new_page()
    sign_up(page)
    page.goto("/notes/new")
    page.fill("textarea[name=content]", "private")
    page.wait_for_timeout(600)
    assert page.evaluate("Object.keys(localStorage).filter((k) => k.startsWith('memo-draft:'))")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r"/auth/login"))
    assert page.evaluate("Object.keys(localStorage)") == []


def test_a_sign_in_ended_elsewhere_takes_its_drafts_with_it(chromium, served_context, settled):
    page = served_context.new_page()
    sign_up(page)
    page.goto("/notes/new")
    page.fill("textarea[name=content]", "typed at the shared computer")
    page.wait_for_timeout(600)
    assert page.evaluate("Object.keys(localStorage).filter((k) => k.startsWith('memo-draft:'))")
    # Elsewhere, the owner changes the password: every other session ends.
    elsewhere = chromium.new_context(base_url=settled.url)
    owner = elsewhere.new_page()
    sign_in(owner, PASSWORD)
    owner.goto("/mypage")
    new = "a password of her own"
    fields = {"current_password": PASSWORD, "new_password": new, "new_password_confirm": new}
    submit(owner, fields, "Change password")
    elsewhere.close()
    # The next person to sign in to the account at the shared computer finds no draft.
    sign_in(page, new)
    page.goto("/notes/new")
    assert page.locator("#draft-notice").is_hidden()
    assert page.evaluate("Object.keys(localStorage)") == []


def test_two_tabs_saving_one_note_show_both_texts_and_keep_both(chromium, served_context, settled):
    laptop = served_context.new_page()
    sign_up(laptop)
    laptop.goto("/notes/new")
    submit(laptop, {"title": "Plan", "content": "first"}, "Save")
    note_url = laptop.url
    phone_context = chromium.new_context(base_url=settled.url)
    try:
        phone = phone_context.new_page()
        phone.goto("/auth/login")
        submit(phone, {"email": "ann@example.com", "password": PASSWORD}, "Sign in")
        laptop.goto(f"{note_url}/edit")
        phone.goto(f"{note_url}/edit")
        submit(phone, {"content": "from the phone"}, "Save")
        assert "Note updated." in flash(phone)

        laptop.fill("textarea[name=content]", "from the laptop")
        laptop.get_by_role("button", name="Save").click()
        laptop.get_by_role("heading", name="This note was changed meanwhile").wait_for()
        texts = laptop.locator(".texts").inner_text()
        assert "from the laptop" in texts and "from the phone" in texts

        laptop.get_by_role("button", name="Keep both as two notes").click()
        laptop.wait_for_url(re.compile(r"/notes/\d+$"))
        assert laptop.url != note_url
        assert "from the laptop" in laptop.locator(".content").inner_text()
        phone.goto(note_url)
        assert "from the phone" in phone.locator(".content").inner_text()
        laptop.goto(f"{note_url}/edit")  # the text set aside is not offered as a draft again
        assert laptop.locator("#draft-notice").is_hidden()
        assert laptop.input_value("textarea[name=content]") == "from the phone"
    finally:
        phone_context.close()


def test_a_draft_restored_over_a_newer_note_goes_to_the_conflict_page(
    chromium, served_context, settled
):
    laptop = served_context.new_page()
    sign_up(laptop)
    laptop.goto("/notes/new")
    submit(laptop, {"title": "Plan", "content": "first"}, "Save")
    note_url = laptop.url
    laptop.goto(f"{note_url}/edit")
    laptop.fill("textarea[name=content]", "from the laptop, never saved")
    laptop.wait_for_timeout(600)  # kept as a draft of the version the page was loaded with
    laptop.close()
    phone_context = chromium.new_context(base_url=settled.url)
    try:
        phone = phone_context.new_page()
        sign_in(phone, PASSWORD)
        phone.goto(f"{note_url}/edit")
        submit(phone, {"content": "from the phone"}, "Save")
        assert "Note updated." in flash(phone)
    finally:
        phone_context.close()

    again = served_context.new_page()
    again.goto(f"{note_url}/edit")
    assert again.input_value("textarea[name=content]") == "from the phone"
    again.get_by_role("button", name="Restore the draft").click()
    again.get_by_role("button", name="Save").click()
    again.get_by_role("heading", name="This note was changed meanwhile").wait_for()
    texts = again.locator(".texts").inner_text()
    assert "from the laptop, never saved" in texts and "from the phone" in texts
    again.goto(note_url)
    assert "from the phone" in again.locator(".content").inner_text()
