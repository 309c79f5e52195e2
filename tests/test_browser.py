"""A real Chromium drives Memo served by gunicorn, PostgreSQL and the object store, end to end.

Debian's chromium is driven by Playwright through `executable_path`; no browser is downloaded.
`./scripts/test` installs chromium when it is missing and it may; elsewhere these tests are
skipped, saying why (they fail in CI).
A failing step saves a screenshot under tmp/artifacts/ and names it in the failure.
"""

import json
import re
import zipfile
from datetime import UTC, datetime, timedelta

import pytest

from devenv import pictures
from devenv.services import stored_keys
from devenv.visitors import PASSWORD
from tests.browsers import (
    NEW_PASSWORD,
    fill_form,
    flash,
    screenshot_on_failure,
    sign_in,
    sign_up,
    submit,
)
from tests.workers import wait_for

PROFILE_IMAGE_LOADED = """() => {
  const image = document.getElementById("profile-image");
  return image.complete && image.naturalWidth > 0
    ? [image.naturalWidth, image.naturalHeight] : null;
}"""


def write_edit_and_tick_a_note(page):
    page.get_by_role("link", name="New note").first.click()
    submit(page, {"title": "Groceries", "content": "milk, eggs"}, "Save")
    assert re.search(r"/notes/\d+$", page.url)
    assert "Note saved." in flash(page)
    page.get_by_role("link", name="Edit").click()
    submit(page, {"title": "Groceries for Sunday", "content": "milk, eggs, bread"}, "Save")
    assert "Note updated." in flash(page)
    assert page.locator("h1").inner_text().strip().endswith("Groceries for Sunday")
    assert page.locator(".content").inner_text() == "milk, eggs, bread"
    page.get_by_title("Mark as done").click()
    page.wait_for_load_state()
    assert page.locator("h1.completed button.tick").get_attribute("aria-pressed") == "true"
    page.get_by_role("link", name="Notes", exact=True).click()
    assert page.locator("ul.notes li.completed").inner_text().count("Groceries for Sunday") == 1


MY_PAGE = re.compile(r"/mypage$")


def upload_a_photo_and_see_it(page, store, tmp_path):
    page.goto("/mypage")
    photo = tmp_path / "holiday.jpg"
    photo.write_bytes(pictures.jpeg((1200, 800)))
    page.set_input_files("#photo", photo)
    page.get_by_role("button", name="Upload photo").click()
    # To the store, which sends the browser back; the page it comes to confirms at once.
    page.wait_for_url(MY_PAGE)
    assert "it appears here once it is processed" in flash(page)
    # My page refreshes itself (a meta refresh: the CSP allows no inline script) until the
    # worker has made the photo.
    with page.expect_response(lambda r: r.url.startswith(store.public_url)) as image_load:
        page.wait_for_selector(f'#profile-image[src^="{store.public_url}/avatars/"]')
    source = page.locator("#profile-image").get_attribute("src")
    assert source.startswith(f"{store.public_url}/avatars/")
    assert image_load.value.status == 200
    size = page.wait_for_function(PROFILE_IMAGE_LOADED).json_value()
    assert size == [512, 341]  # fitted into 512x512 by the pipeline, served by the store
    return source


def change_nickname_and_password(page):
    submit(page, {"nickname": "annie"}, "Change nickname")
    assert "Your nickname is changed." in flash(page)
    assert page.locator(".profile h1").inner_text() == "annie"
    assert page.locator("nav .who").inner_text() == "annie"
    fields = {
        "current_password": PASSWORD,
        "new_password": NEW_PASSWORD,
        "new_password_confirm": NEW_PASSWORD,
    }
    submit(page, fields, "Change password")
    assert "Your password is changed." in flash(page)


def sign_out(page):
    page.get_by_role("button", name="Sign out").click()  # sent by the page's script
    page.wait_for_url(re.compile(r"/auth/login"))
    page.wait_for_load_state()
    assert "You have been signed out." in flash(page)


def export(page):
    """Ask for an export, wait while the worker writes it, download it; return its JSON."""
    page.goto("/mypage")
    page.get_by_role("button", name="Export my data").click()  # one step from my page
    # The page follows the job and shows the archive once it is written.
    page.locator('#export-status[data-status="done"]').wait_for(timeout=30_000)
    page.goto("/mypage")  # my page says it is ready too, with the same link
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the archive").click()
    today = datetime.now(UTC).date()
    assert download.value.suggested_filename in {
        f"memo-export-{today}.zip",
        f"memo-export-{today + timedelta(days=1)}.zip",  # past midnight in the user's zone
    }
    with zipfile.ZipFile(download.value.path()) as archive:
        assert all(item.date_time[0] == today.year for item in archive.infolist())
        return json.loads(archive.read("account.json"))


def delete_account(page):
    page.goto("/mypage")
    # My page has two password fields named `password`: this form's, and the email form's.
    page.once("dialog", lambda dialog: dialog.accept())  # "Delete your account ... for good?"
    fill_form(page, "/mypage/delete", {"password": NEW_PASSWORD}, "Delete my account")
    assert page.url.endswith("/auth/signup")
    assert "Your account and everything in it are deleted." in flash(page)


def test_an_account_from_signup_to_deletion_in_a_real_browser(
    page, object_store, count_rows, tmp_path
):
    with screenshot_on_failure(page, "signup"):
        sign_up(page)
    with screenshot_on_failure(page, "notes"):
        write_edit_and_tick_a_note(page)
    with screenshot_on_failure(page, "photo"):
        photo_url = upload_a_photo_and_see_it(page, object_store, tmp_path)
    with screenshot_on_failure(page, "profile"):
        change_nickname_and_password(page)
        sign_out(page)
        sign_in(page, PASSWORD)
        assert "Email or password is incorrect." in page.content()
        sign_in(page, NEW_PASSWORD)
        assert page.locator("nav .who").inner_text() == "annie"
    with screenshot_on_failure(page, "export"):
        exported = export(page)
        assert exported["profile"]["nickname"] == "annie"
        assert exported["profile"]["image_url"] == photo_url
        [note] = exported["notes"]
        assert (note["title"], note["content"], note["completed"]) == (
            "Groceries for Sunday",
            "milk, eggs, bread",
            True,
        )
    with screenshot_on_failure(page, "delete"):
        delete_account(page)
        assert count_rows("user") == count_rows("note") == 0
        # The objects go in the worker's job, deferred with the deletion.
        wait_for(lambda: stored_keys(object_store) == set(), message="every object deleted")
        sign_in(page, NEW_PASSWORD)
        assert "Email or password is incorrect." in page.content()


def write_note(page, title, content):
    page.get_by_role("link", name="New note").first.click()
    submit(page, {"title": title, "content": content}, "Save")


def search_from_the_box(page, words):
    """Type into the search box of the page's navigation bar and press Enter."""
    page.get_by_role("searchbox", name="Search your notes").first.fill(words)
    with page.expect_navigation():
        page.keyboard.press("Enter")


def test_a_new_user_finds_english_and_korean_notes_highlighted(page):
    with screenshot_on_failure(page, "search"):
        sign_up(page)
        write_note(page, "Morning <b>run</b>", "I went running by the river")
        write_note(page, "회의록", "오늘 회의 메모를 정리했다")
        search_from_the_box(page, "run")
        assert page.url.endswith("/search?q=run")
        hits = page.locator("ol.hits li")
        assert hits.count() == 1
        assert hits.locator("a").inner_text() == "Morning <b>run</b>"
        assert hits.locator("mark").all_inner_texts() == ["run", "running"]
        search_from_the_box(page, "메모")
        assert page.locator("ol.hits li a").inner_text() == "회의록"
        assert page.locator("ol.hits mark").all_inner_texts() == ["메모를"]
        with page.expect_navigation():
            page.locator("ol.hits li a").click()
        assert page.locator("h1").inner_text().strip().endswith("회의록")


IN_VIEW = """(selector) => {
  const box = document.querySelector(selector).getBoundingClientRect();
  return box.top >= 0 && box.bottom <= window.innerHeight;
}"""


# What a person reads on these pages, in each language.
WORDS = {
    "en": {"email": "Change email", "password": "Change password", "upload": "Upload photo",
           "in place": "Your new photo is in place."},
    "ko": {"email": "이메일 변경", "password": "비밀번호 변경", "upload": "사진 올리기",
           "in place": "새 사진으로 바꿨어요."},
}  # fmt: skip


def speak(page, language):
    """Save `language` as the signed-in user's, on my page, as a person would."""
    if language != "en":
        page.goto("/mypage")
        form = page.locator("form[action='/mypage/settings']")
        form.locator("select[name=language]").select_option(language)
        form.get_by_role("button").click()
        page.wait_for_load_state()
        assert page.locator("html").get_attribute("lang") == language


@pytest.mark.parametrize("language", ["en", "ko"])
@pytest.mark.parametrize(
    ("action", "fields", "button", "error"),
    [
        (
            "/mypage/email",
            {"email": "ann.new@example.com", "password": "not my password"},
            "email",
            "#email-password ~ p.error",
        ),
        (
            "/mypage/password",
            {"current_password": "not my password", "new_password": NEW_PASSWORD,
             "new_password_confirm": NEW_PASSWORD},
            "password",
            "#current_password ~ p.error",
        ),
    ],
    ids=["email", "password"],
)  # fmt: skip
def test_a_failed_form_on_my_page_shows_its_error_where_the_person_looks(
    page, action, fields, button, error, language
):
    page.set_viewport_size({"width": 390, "height": 844})
    with screenshot_on_failure(page, "error-in-view"):
        sign_up(page)
        sign_in(page, PASSWORD)
        speak(page, language)
        page.goto("/mypage")
        fill_form(page, action, fields, WORDS[language][button])
        assert page.evaluate(IN_VIEW, error), "the error is on screen after the answer"
        focused = page.evaluate("document.activeElement.getAttribute('aria-invalid')")
        assert focused == "true", "the wrong field has the focus"
        assert page.locator(".error-summary").count() == 1


@pytest.mark.parametrize("language", ["en", "ko"])
def test_typing_on_my_page_survives_while_a_photo_is_made(page, object_store, tmp_path, language):
    with screenshot_on_failure(page, "photo-typing"):
        sign_up(page)
        sign_in(page, PASSWORD)
        speak(page, language)
        page.goto("/mypage")
        photo = tmp_path / "holiday.jpg"
        photo.write_bytes(pictures.jpeg((1200, 800)))
        page.set_input_files("#photo", photo)
        page.get_by_role("button", name=WORDS[language]["upload"]).click()
        page.wait_for_url(MY_PAGE)  # back from the store, the photo confirmed
        nickname = page.locator("input[name=nickname]")
        nickname.fill("기다리며 쓴 글 typed while waiting")
        page.wait_for_selector(
            f'#profile-image[src^="{object_store.public_url}/avatars/"]', timeout=20_000
        )
        page.wait_for_timeout(3500)  # longer than the old reload's 3 s
        assert nickname.input_value() == "기다리며 쓴 글 typed while waiting"
        assert page.locator("#photo-status").inner_text() == WORDS[language]["in place"]


def test_a_time_zone_is_found_by_typing_its_city(page):
    sign_up(page)
    sign_in(page, PASSWORD)
    page.goto("/mypage")
    page.get_by_role("searchbox", name="Find a city or country").fill("new york")
    shown = page.eval_on_selector_all(
        "select[name=timezone] option",
        "options => options.filter(o => !o.hidden).map(o => o.value)",
    )
    assert "America/New_York" in shown and len(shown) <= 3
    page.select_option("select[name=timezone]", "America/New_York")
    page.get_by_role("button", name="Save").click()
    page.wait_for_load_state()
    assert "Your language and time zone are saved." in flash(page)
