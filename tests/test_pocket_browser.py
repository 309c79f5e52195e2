"""In a real Chromium: Memo in the pocket. The service worker controls the page; with the
server stopped (Playwright's set_offline does not cut a worker's own requests), a note read
before reads with the "offline" banner and one never opened shows Memo's offline page; notes
and edits written offline wait in the outbox and arrive once; an edit based on an old version
reaches the conflict page with both texts; one person signing out leaves nothing for the next.

One server for the module (Memo as the Procfile serves it, no worker: nothing here queues a
job), stopped and started again for each offline stretch.
"""

import json
import re

import pytest

from devenv import pictures
from devenv.services import stored_keys
from tests.browsers import new_tab, offline, sign_up_and_in, write_note
from tests.pagechecks import SCREENSHOTS, check_here

CONTROLLED = "() => navigator.serviceWorker.controller !== null"
WAITING = """() => Object.entries(localStorage)
  .filter(([key, value]) => key.startsWith("memo-draft:") && JSON.parse(value).send)"""
TRACES = """async () => {
  const pages = [];
  for (const name of await caches.keys()) {
    const cache = await caches.open(name);
    for (const request of await cache.keys()) {
      pages.push([name, request.url, await (await cache.match(request)).text()]);
    }
  }
  const databases = indexedDB.databases ? await indexedDB.databases() : [];
  return {pages, databases: databases.map((d) => d.name), stored: Object.entries(localStorage)};
}"""
# Another app shares into Memo: the share sheet's POST, as the browser sends it, which the
# worker takes; each file is [name, type, its bytes or a size to fill with zeros].
SHARE = """async ([title, text, files]) => {
  const form = new FormData();
  form.append("title", title);
  form.append("text", text);
  for (const [name, type, bytes] of files) {
    form.append("files", new File([new Uint8Array(bytes)], name, {type}));
  }
  const answer = await fetch("/notes/shared", {method: "POST", body: form});
  const url = new URL(answer.url);
  return url.pathname + url.search;
}"""
SHARES_KEPT = "async () => (await (await caches.open('memo-shared')).keys()).length"
PNG = pictures.png((40, 30))
# Fill localStorage until the browser refuses more (Chromium: 10 MB for a site).
FILL_STORAGE = """() => {
  let size = 1 << 20;
  for (let n = 0; size >= 1; n++) {
    try {
      localStorage.setItem(`filler-${n}`, "x".repeat(size));
    } catch {
      size >>= 1;
    }
  }
}"""


@pytest.fixture(scope="module")
def memo(stoppable_memo):
    return stoppable_memo


@pytest.fixture
def tab(chromium, memo):
    """Open tabs on the module's server (language, width, colour scheme); closed after."""
    contexts = []

    def open_tab(language="en", width=1280, scheme="light"):
        context, page = new_tab(chromium, memo.url, language, width, scheme)
        contexts.append(context)
        return page

    yield open_tab
    for context in contexts:
        context.close()


def controlled(page):
    """Wait until the service worker controls the page (it claims it once installed)."""
    page.wait_for_function(CONTROLLED)
    return page


def read(page, *paths):
    """Open each page while online, so that the worker keeps it."""
    for path in paths:
        page.goto(path)
        page.wait_for_load_state()


def offline_words(page):
    return page.locator("#offline-banner").inner_text()


def read_kept(page, note, text, banner, label, found):
    """Open a note read before, offline: its text, under the banner that says when it was kept."""
    page.goto(note)
    assert text in page.locator(".content").inner_text()
    assert re.fullmatch(banner, offline_words(page))
    check_here(page, f"kept note, {label}", found)


def save_offline(page, form, title, content):
    """Save a new note with Memo stopped: the draft notice says the text waits."""
    page.goto(form)
    page.fill("input[name=title]", title)
    page.fill("textarea[name=content]", content)
    page.get_by_role("button", name="Save").click()
    page.locator("#draft-notice").wait_for(state="visible")


def press_offline(button, words, found):
    """Press a button that needs Memo, with Memo stopped: Memo's own page says `words` (nothing
    changed, and why), and passes axe."""
    page = button.page
    page.once("dialog", lambda dialog: dialog.accept())
    button.click()
    page.get_by_text(words).wait_for()
    assert page.locator("h1").count() == 1
    check_here(page, f"a button pressed offline, {page.url}", found)


def test_notes_read_before_read_offline_and_others_show_the_offline_page(tab, memo):
    english = tab("en", 1280, "light")
    sign_up_and_in(english, "ann@example.com", "ann")
    controlled(english)
    kept = write_note(english, "Read before", "kept for the flight")
    never = write_note(english, "Never opened", "not kept")  # shown by the form's script only
    read(english, kept, "/")
    korean = tab("ko", 390, "dark")
    sign_up_and_in(korean, "min@example.com", "minsu")
    controlled(korean)
    korean_note = write_note(korean, "회의 메모", "비행기에서 읽기")
    read(korean, korean_note, "/")

    found = {}
    with offline(memo):
        banner = (
            r"Offline: this copy was kept on [A-Z][a-z]{2} \d{1,2}, \d{4}, \d{1,2}:\d\d [AP]M "
            r"and may not be up to date\."
        )
        read_kept(english, kept, "kept for the flight", banner, "en 1280 light", found)
        press_offline(english.get_by_role("button", name="Pin"), "Nothing was changed", found)
        english.get_by_role("link", name="Back to the page").click()
        english.wait_for_url(re.compile(re.escape(kept) + "$"))
        english.goto("/")
        assert "Read before" in english.locator("main").inner_text()
        english.goto(never)
        assert english.get_by_role("heading", name="You are offline").is_visible()
        assert "Never opened" not in english.content()
        check_here(english, "offline page, en 1280 light", found)
        english.goto("/mypage")  # never kept
        assert english.get_by_role("heading", name="You are offline").is_visible()
        # A page shared from another app in flight mode: the form cannot be filled in, so
        # the text waits in the browser for the share's page.
        english.goto("/notes/new?title=From+the+plane&text=shared+at+10%2C000+m")
        assert english.get_by_role("heading", name="You are offline").is_visible()

        banner = (
            r"오프라인: \d{4}년 \d{1,2}월 \d{1,2}일 오[전후] \d{1,2}:\d\d에 보관한 사본이라 "
            r"최신 내용이 아닐 수 있어요\."
        )
        read_kept(korean, korean_note, "비행기에서 읽기", banner, "ko 390 dark", found)
        korean.screenshot(path=SCREENSHOTS / "offline-banner-390-ko-dark.png")
        korean.goto(never)
        assert korean.locator("html").get_attribute("lang") == "ko"
        check_here(korean, "offline page, ko 390 dark", found)
        korean.screenshot(path=SCREENSHOTS / "offline-page-390-ko-dark.png")
        korean.goto(korean_note)
        press_offline(korean.locator("form[action$='/delete'] button"), "아무것도 바뀌지", found)
    assert found == {}
    english.goto("/")  # online again: the page leads to the share that waits
    english.locator("#shares-waiting").get_by_role("link", name="Open the share").click()
    english.locator("#share-form").wait_for()
    assert english.input_value("textarea[name=content]") == "shared at 10,000 m"


def test_notes_and_edits_written_offline_arrive_once_or_reach_the_conflict_page(tab, memo):
    phone = tab("en", 390)
    sign_up_and_in(phone, "ann@example.com", "ann")
    controlled(phone)
    plan = write_note(phone, "Plan", "v1")
    read(phone, "/notes/new", f"{plan}/edit", "/")
    laptop = tab("en", 1280)
    sign_up_and_in(laptop, "ann@example.com", "ann")  # the address is taken: it signs in

    with offline(memo):
        save_offline(phone, "/notes/new", "From the plane", "written at 10,000 m")
        assert "waits in this browser" in phone.locator("#draft-notice").inner_text()
        phone.goto(f"{plan}/edit")
        phone.fill("textarea[name=content]", "the plane's plan")
        phone.get_by_role("button", name="Save").click()
        phone.locator("#draft-notice").wait_for(state="visible")
        phone.goto("/")
        outbox = phone.locator("#outbox")
        assert "Waiting to send: 2" in outbox.inner_text()
        assert "From the plane" in outbox.inner_text()
        entries = phone.evaluate(WAITING)
    assert len(entries) == 2

    laptop.goto(f"{plan}/edit")  # meanwhile, on the ground, the plan moves on
    laptop.fill("textarea[name=content]", "the laptop's plan")
    laptop.get_by_role("button", name="Save").click()
    laptop.wait_for_url(re.compile(r"/notes/\d+$"))

    phone.goto("/")  # back online: the page sends what waits, and the edit conflicts
    phone.get_by_role("heading", name="This note was changed meanwhile").wait_for()
    texts = phone.locator(".texts").inner_text()
    assert "the plane's plan" in texts and "the laptop's plan" in texts

    # The answer to the new note was lost (say): the outbox still holds it, and sends it again.
    new_note = next(value for key, value in entries if "out-" in key)
    phone.goto("/trash")
    phone.wait_for_function(f"() => ({WAITING})().length === 0")
    phone.evaluate(
        "([key, value]) => localStorage.setItem(key, value)",
        [next(key for key, _ in entries if "out-" in key), new_note],
    )
    phone.reload()
    phone.wait_for_function(f"() => ({WAITING})().length === 0")
    phone.goto("/")
    titles = phone.locator("main").inner_text()
    assert titles.count("From the plane") == 1
    assert json.loads(new_note)["content"] == "written at 10,000 m"


def test_one_person_signing_out_leaves_nothing_for_the_next(tab, memo):
    page = tab("en", 390)
    sign_up_and_in(page, "ann@example.com", "ann")
    controlled(page)
    secret = write_note(page, "Ann's secret", "the surprise party is on Friday")
    read(page, secret, "/", "/notes/new")
    page.evaluate(SHARE, ["Ann's photo", "", [["party.png", "image/png", list(PNG)]]])

    with offline(memo):
        save_offline(page, "/notes/new", "Unsent", "still in the outbox")
    outbox = page.locator("#outbox")
    page.get_by_role("button", name="Sign out").click()  # back online: it says what is lost
    outbox.get_by_text("Signing out now deletes them").wait_for()
    anns = page.evaluate("[document.body.dataset.account, document.body.dataset.session]")
    page.get_by_role("button", name="Send them, then sign out").click()
    page.wait_for_url(re.compile(r"/auth/login"))

    traces = page.evaluate(TRACES)
    assert traces["databases"] == [] and traces["stored"] == []
    assert not [p for p in traces["pages"] if "memo-pages-" in p[0] or "memo-shared" in p[0]]

    # An outbox entry of ann's left behind (a copy made before she signed out, say): bob's
    # pages never send it.
    page.evaluate(
        """([account, session]) => localStorage.setItem(`memo-draft:${account}:${session}:out-x`,
          JSON.stringify({title: "Replayed", content: "ann's", at: 0,
                          send: {action: "/notes/new", key: "left-behind", version: ""}}))""",
        anns,
    )
    sign_up_and_in(page, "bob@example.com", "bob")
    controlled(page)
    assert "Replayed" not in page.locator("main").inner_text()
    read(page, "/")
    traces = page.evaluate(TRACES)
    assert "surprise party" not in json.dumps(traces) and "Unsent" not in json.dumps(traces)
    assert {name for name, _, _ in traces["pages"] if "memo-pages-" in name} == {
        f"memo-pages-{page.evaluate('document.body.dataset.session')}"
    }

    sign_in_again = tab("en", 1280)
    sign_up_and_in(sign_in_again, "ann@example.com", "ann")
    sign_in_again.goto("/")
    assert "Unsent" in sign_in_again.locator("main").inner_text()  # sent before signing out


def test_signing_out_offline_keeps_the_waiting_text_and_the_session(tab, memo):
    page = tab("en", 390)
    sign_up_and_in(page, "ann@example.com", "ann")
    controlled(page)
    read(page, "/notes/new")
    found = {}
    with offline(memo):
        save_offline(page, "/notes/new", "Unsent", "still in the outbox")
        page.get_by_role("button", name="Sign out").click()
        outbox = page.locator("#outbox")
        outbox.get_by_text("you are still signed in").wait_for()
        assert "nothing was deleted from this browser" in outbox.inner_text()
        check_here(page, "sign-out refused offline, en 390 light", found)
        assert len(page.evaluate(WAITING)) == 1
    assert found == {}
    page.goto("/")  # back online: still signed in, and the text is sent on the way
    page.wait_for_function(f"() => ({WAITING})().length === 0")
    page.reload()
    assert "Unsent" in page.locator("main").inner_text()
    page.get_by_role("button", name="Sign out").click()  # nothing waits: signed out at once
    page.wait_for_url(re.compile(r"/auth/login"))
    assert page.evaluate(TRACES)["stored"] == []


def test_a_page_shared_from_another_app_opens_a_prefilled_note(tab):
    page = tab("en", 390)
    sign_up_and_in(page, "ann@example.com", "ann")
    page.goto("/notes/new?title=A%20good%20read&text=Worth%20it&url=https%3A%2F%2Fexample.com%2Fa")
    assert page.input_value("input[name=title]") == "A good read"
    assert page.input_value("textarea[name=content]") == "Worth it\n\nhttps://example.com/a"
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(r"/notes/\d+$"))
    assert "https://example.com/a" in page.locator(".content").inner_text()


def test_files_shared_from_another_app_reach_the_note_straight_through_the_store(
    tab, memo, object_store
):
    object_store.allow_uploads_from(memo.url)
    page = tab("en", 1280, "light")
    sign_up_and_in(page, "ann@example.com", "ann")
    controlled(page)
    link = page.evaluate(SHARE, ["A good read", "https://example.com/a", []])
    assert link == "/notes/new?title=A+good+read&text=https%3A%2F%2Fexample.com%2Fa"
    files = [["beach.png", "image/png", list(PNG)], ["film.mp4", "video/mp4", 25 * 2**20 + 1]]
    share = page.evaluate(SHARE, ["Holiday", "the beach", files])
    assert re.fullmatch(r"/notes/shared/[0-9a-f-]{36}", share)
    page.goto(share)
    page.locator("#share-form").wait_for()
    assert page.input_value("input[name=title]") == "Holiday"
    listed = page.locator(".shared-files").inner_text()
    assert "beach.png" in listed and "film.mp4" in listed
    assert "Not taken: a file may be at most 25 MB." in listed
    found = {}
    check_here(page, "share page, en 1280 light", found)

    korean = tab("ko", 390, "dark")
    sign_up_and_in(korean, "min@example.com", "minsu")
    controlled(korean)
    korean.goto(korean.evaluate(SHARE, ["회의", "", [["회의록.png", "image/png", list(PNG)]]]))
    korean.locator("#share-form").wait_for()
    assert korean.input_value("input[name=title]") == "회의"
    check_here(korean, "share page, ko 390 dark", found)
    korean.screenshot(path=SCREENSHOTS / "share-page-390-ko-dark.png")
    korean.goto("/")  # left unsaved: every page says so, and leads back to it
    waiting = korean.locator("#shares-waiting")
    waiting.wait_for()
    assert "1" in waiting.inner_text()
    check_here(korean, "a share waits, ko 390 dark", found)
    assert found == {}
    korean.context.clear_cookies()  # min's sign-in ends here without a sign-out; bob signs in
    sign_up_and_in(korean, "bob@example.com", "bob")
    korean.wait_for_function(f"async () => ({SHARES_KEPT})() === 0")  # min's share, dropped
    assert korean.locator("#shares-waiting").is_hidden()

    store = f"{object_store.endpoint_url}/**"
    page.route(store, lambda route: route.abort())  # the store out of reach, once
    page.get_by_role("button", name="Save", exact=True).click()
    status = page.locator("#share-status")
    status.get_by_role("button", name="Send them again").wait_for()
    assert "The note is saved, but 1 of its files did not arrive." in status.inner_text()
    check_here(page, "a file did not arrive, en 1280 light", found)
    assert found == {}
    page.unroute(store)
    status.get_by_role("button", name="Send them again").click()
    page.wait_for_url(re.compile(r"/notes/\d+#attachments$"))
    assert "beach.png" in page.locator("#attachments").inner_text()
    assert "Note saved." in page.locator("main").inner_text()
    assert len(stored_keys(object_store, "attachments/")) == 1
    assert page.evaluate(SHARES_KEPT) == 0  # the share is done: nothing of it stays


def test_a_text_too_large_for_the_browser_says_so(tab):
    page = tab("en", 390)
    sign_up_and_in(page, "ann@example.com", "ann")
    page.goto("/notes/new")
    page.evaluate(FILL_STORAGE)  # the browser's room for this site is full
    page.fill("textarea[name=content]", "one more word " * 100)
    outbox = page.locator("#outbox")
    outbox.wait_for(state="visible")
    assert "too long to keep in this browser" in outbox.inner_text()
