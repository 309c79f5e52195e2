"""A real Chromium attaches files to a note, straight to the object store, and gets them back.

Memo is served by gunicorn as the Procfile runs it, a real worker runs the delete jobs, and
the store is the suite's S3 server, with a CORS rule for the server's origin only.
"""

import os
import re
from pathlib import Path

import pytest

from devenv import pictures
from devenv.services import stored_keys
from tests.browsers import (
    flash,
    screenshot_on_failure,
    sign_up,
    submit,
)
from tests.workers import wait_for

FIVE_MB = 5 * 1024 * 1024
# The progress bar's value each time the page's script moves it, and the name it shows.
WATCH_PROGRESS = """() => {
  const bar = document.querySelector("form.upload progress");
  const name = document.querySelector("form.upload .upload-name");
  new MutationObserver(() => window.progressSeen(bar.value, name.textContent))
    .observe(bar, {attributes: true});
}"""


@pytest.fixture
def page(chromium, object_store, settled):  # noqa: F811
    """A fresh tab on Memo served by gunicorn, with a worker running its jobs."""
    server = settled
    object_store.allow_uploads_from(server.url)
    context = chromium.new_context(base_url=server.url, accept_downloads=True)
    tab = context.new_page()
    tab.set_default_timeout(30_000)
    tab.on("dialog", lambda dialog: dialog.accept())  # "Delete this attachment?"
    yield tab
    context.close()


@pytest.fixture
def progress(page):
    """The (value, file name) the page's progress bar showed, each time it moved."""
    seen = []
    page.expose_function("progressSeen", lambda value, name: seen.append((value, name)))
    return seen


def attach(page, path):
    """Choose a file in the note's form and attach it, as a person would, once its script runs.

    A saved note's page is written in place of the form (app/static/drafts.js) and shows
    before its deferred scripts have run: a click then posts the plain form.
    """
    page.wait_for_selector("form.upload[data-sent-by=script]", state="attached")
    page.evaluate(WATCH_PROGRESS)
    page.set_input_files("form.upload input[type=file]", path)
    with page.expect_navigation(url=re.compile(r"/notes/\d+#attachments$")):
        page.get_by_role("button", name="Attach", exact=True).click()


def download(page, name):
    """Click an attachment's link and return the downloaded file's name and bytes."""
    with page.expect_download() as started:
        page.get_by_role("link", name=name).click()
    return started.value.suggested_filename, Path(started.value.path()).read_bytes()


def listed(page):
    """Return the names of the attachments the note's page lists."""
    return page.locator("ul.attachments li a").all_inner_texts()


def test_attach_a_5_mb_file_and_a_photo_download_them_and_delete_them(
    page, progress, object_store, tmp_path
):
    report = tmp_path / "Quarterly report – Q3.pdf"
    report.write_bytes(b"%PDF-1.7\n" + os.urandom(FIVE_MB))
    photo = tmp_path / "holiday.jpg"
    photo.write_bytes(pictures.jpeg((1200, 800)))
    with screenshot_on_failure(page, "attachments-note"):
        sign_up(page)
        page.get_by_role("link", name="New note").first.click()
        submit(page, {"title": "Trip", "content": "files"}, "Save")
    with screenshot_on_failure(page, "attachments-upload"):
        attach(page, report)
        assert "Quarterly report – Q3.pdf is attached." in flash(page)
        assert progress[-1] == (100, "Quarterly report – Q3.pdf")
        attach(page, photo)
        assert listed(page) == ["Quarterly report – Q3.pdf", "holiday.jpg"]
        assert "PDF document · 5 MB" in page.locator("ul.attachments").inner_text()
        # The page opens at the attachments, its message in view there, not at the top.
        message = page.locator("#attachments .flash")
        assert message.inner_text() == "holiday.jpg is attached." and message.is_visible()
        top = page.evaluate("document.getElementById('attachments').getBoundingClientRect().top")
        assert 0 <= top < page.viewport_size["height"]
    with screenshot_on_failure(page, "attachments-download"):
        assert download(page, "Quarterly report – Q3.pdf") == (
            "Quarterly report – Q3.pdf",
            report.read_bytes(),
        )
        assert download(page, "holiday.jpg") == ("holiday.jpg", photo.read_bytes())
    with screenshot_on_failure(page, "attachments-delete"):
        page.get_by_role("button", name="Delete holiday.jpg").click()
        page.wait_for_load_state()
        assert "holiday.jpg is deleted." in flash(page)
        assert listed(page) == ["Quarterly report – Q3.pdf"]
        page.get_by_role("button", name="Delete", exact=True).click()
        page.wait_for_load_state()
        assert "Note moved to the trash." in flash(page)
        page.goto("/trash")  # its files stay until the trash is emptied
        page.get_by_role("button", name="Empty trash").click()
        page.wait_for_url("**/trash")
        assert "1 note deleted for good." in flash(page)
    # The worker deletes the files once the rows are gone: nothing is left in the store.
    wait_for(lambda: not stored_keys(object_store), message="an empty store")


def test_without_javascript_the_plain_form_posts_to_the_store_and_comes_back(
    chromium,  # noqa: F811
    live_server,
    object_store,
    tmp_path,
):
    server = live_server()
    context = chromium.new_context(base_url=server.url, java_script_enabled=False)
    page = context.new_page()
    report = tmp_path / "report.pdf"
    report.write_bytes(b"%PDF-1.7\n" + b"plain form " * 1000)
    with screenshot_on_failure(page, "attachments-no-js"):
        sign_up(page)
        page.get_by_role("link", name="New note").first.click()
        submit(page, {"title": "Trip", "content": "files"}, "Save")
        page.set_input_files("form.upload input[type=file]", report)
        with page.expect_navigation(url=re.compile(r"/notes/\d+#attachments$")):
            page.get_by_role("button", name="Attach", exact=True).click()
        # moto does not fill in ${filename} as S3 does: the file is named by its type.
        assert "attachment.pdf is attached." in flash(page)
        assert listed(page) == ["attachment.pdf"]
    context.close()
