"""In a real Chromium: an import goes from my page straight to the store and comes back as
notes; one larger than the limit is refused in the page, before it uploads.

Memo is served by gunicorn as the Procfile runs it, with a worker, and the store is the
suite's S3 server with a CORS rule for the server's origin only.
"""

import pytest

from tests.browsers import flash, screenshot_on_failure, sign_up
from tests.workers import wait_for


@pytest.fixture
def page(chromium, object_store, settled):
    server = settled
    object_store.allow_uploads_from(server.url)
    context = chromium.new_context(base_url=server.url)
    tab = context.new_page()
    tab.set_default_timeout(30_000)
    yield tab
    context.close()


def test_a_text_file_is_imported_through_the_store_and_my_page_says_so(page, tmp_path):
    notes = tmp_path / "회의록.md"
    notes.write_text("# 회의록\n\n다음 주 일정", encoding="utf-8")
    with screenshot_on_failure(page, "import-upload"):
        sign_up(page)
        page.goto("/mypage")
        page.set_input_files("form.import-upload input[type=file]", notes)
        with page.expect_navigation(url="**/mypage"):  # the store, back, the confirm, my page
            page.get_by_role("button", name="Import", exact=True).click()
        assert "Your import has started" in flash(page)

        def imported():
            page.goto("/mypage")
            return "회의록.md imported: 1 notes and 0 attachments added." in page.content()

        wait_for(imported, message="the import done")
        page.goto("/")
        assert "회의록" in page.locator("main").inner_text()


def test_an_import_over_the_limit_is_refused_before_the_upload_starts(page, tmp_path):
    sign_up(page)
    page.goto("/mypage")
    limit = int(page.locator("form.import-upload").get_attribute("data-max-bytes"))
    too_large = tmp_path / "export.zip"
    with too_large.open("wb") as sparse:  # no disk taken: a hole of `limit` bytes
        sparse.truncate(limit + 1)
    sent = []
    page.on("request", lambda request: sent.append(request.url) if request.method == "POST" else 0)
    page.set_input_files("form.import-upload input[type=file]", too_large)
    alert = page.get_by_role("alert")
    assert "the most an import can take" in alert.inner_text()
    page.get_by_role("button", name="Import", exact=True).click()
    page.wait_for_timeout(500)
    assert sent == [], "nothing was uploaded"
    assert page.locator("form.import-upload input[type=file]").get_attribute("aria-invalid")
