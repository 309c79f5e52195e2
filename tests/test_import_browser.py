"""In a real Chromium: an import larger than the limit is refused in the page, before it uploads."""

from tests.browsers import sign_up


def test_an_import_over_the_limit_is_refused_before_the_upload_starts(served_context):
    page = served_context.new_page()
    sign_up(page)
    page.goto("/mypage")
    sent = []
    page.on("request", lambda request: sent.append(request.url) if request.method == "POST" else 0)
    too_large = {"name": "export.zip", "mimeType": "application/zip", "buffer": b"\0" * (10 << 20)}
    page.set_input_files("input[name=archive]", {**too_large, "buffer": too_large["buffer"] + b"!"})
    alert = page.get_by_role("alert")
    assert "the most an import can take" in alert.inner_text()
    page.get_by_role("button", name="Import", exact=True).click()
    page.wait_for_timeout(500)
    assert sent == [], "nothing was uploaded"
    assert page.locator("input[name=archive]").get_attribute("aria-invalid") == "true"
