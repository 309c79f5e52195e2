"""In a real Chromium: one press of Save is one note (or one edit), wherever the network cuts
it. Each save carries an idempotency key made before its first send and kept by every send
again (app/static/drafts.js, app/features/notes/idempotency.py); each test cuts one point of the
trip and counts what the server holds.

One server for the module (Memo as the Procfile serves it, no worker: nothing here queues a
job), stopped and started again for the offline stretch (Playwright's set_offline does not
cut a service worker's requests).
"""

import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Note
from tests.browsers import new_tab, offline, sign_up_and_in, write_note

WAITING = """() => Object.entries(localStorage)
  .filter(([key, value]) => key.startsWith("memo-draft:") && JSON.parse(value).send).length"""


@pytest.fixture(scope="module")
def memo(stoppable_memo):
    return stoppable_memo


@pytest.fixture
def phone(chromium, memo):
    """A signed-in tab at 390 px on the module's server."""
    context, page = new_tab(chromium, memo.url, "en", 390)
    sign_up_and_in(page, "ann@example.com", "ann")
    yield page
    context.close()


def notes_on_server(app):
    """Return every note the server holds: (title, content, version, revision), by id."""
    with app.app_context():
        rows = db.session.execute(
            select(Note.title, Note.content, Note.version, Note.revision).order_by(Note.id)
        )
        return [tuple(row) for row in rows]


def sent_out(page):
    """Open the list, which sends what waits, and wait until nothing waits."""
    page.goto("/")
    page.wait_for_function(f"() => ({WAITING})() === 0")


def fill_new(page, title, content):
    page.goto("/notes/new")
    page.fill("input[name=title]", title)
    page.fill("textarea[name=content]", content)


class HeldPosts:
    """A route that lets the first POST reach Memo, then loses its answer: aborted, or held
    until the page is gone. Every other request goes through."""

    def __init__(self, hold=False):
        self.hold = hold
        self.reached = []

    def __call__(self, route):
        if route.request.method != "POST" or self.reached:
            route.continue_()
            return
        self.reached.append(route.fetch(max_redirects=0).status)
        if not self.hold:
            route.abort()


def wait_until_reached(page, held):
    for _ in range(100):
        if held.reached:
            return
        page.wait_for_timeout(100)
    raise AssertionError("the save never reached Memo")


def test_a_save_whose_request_is_lost_is_one_note(phone, app):
    fill_new(phone, "Tunnel", "the request never left")
    phone.route(
        "**/notes/new", lambda r: r.abort() if r.request.method == "POST" else r.continue_()
    )
    phone.get_by_role("button", name="Save").click()
    phone.locator("#draft-notice").wait_for(state="visible")
    assert "waits in this browser" in phone.locator("#draft-notice").inner_text()
    assert notes_on_server(app) == []
    phone.unroute("**/notes/new")
    phone.get_by_role("button", name="Save").click()  # pressed again: the same key
    phone.wait_for_url(re.compile(r"/notes/\d+$"))
    sent_out(phone)
    assert [title for title, *_ in notes_on_server(app)] == ["Tunnel"]


def test_a_save_whose_answer_is_lost_is_one_note(phone, app):
    fill_new(phone, "Elevator", "the answer was cut")
    held = HeldPosts()
    phone.route("**/notes/new", held)
    phone.get_by_role("button", name="Save").click()
    phone.locator("#draft-notice").wait_for(state="visible")
    assert held.reached == [302]  # Memo made it; the browser never heard
    assert phone.evaluate(WAITING) == 1
    phone.unroute("**/notes/new")
    sent_out(phone)  # sent again with its key
    assert "Waiting to send" not in phone.locator("main").inner_text()
    assert [title for title, *_ in notes_on_server(app)] == ["Elevator"]
    assert phone.locator("main").inner_text().count("Elevator") == 1


def test_an_edit_whose_answer_is_lost_is_one_revision_with_no_false_conflict(
    phone, app, chromium, memo
):
    note = write_note(phone, "Plan", "v1")
    phone.goto(f"{note}/edit")
    phone.fill("textarea[name=content]", "from the phone")
    held = HeldPosts()
    phone.route("**/edit", held)
    phone.get_by_role("button", name="Save").click()
    phone.locator("#draft-notice").wait_for(state="visible")
    assert held.reached == [302]
    phone.unroute("**/edit")
    # Meanwhile the laptop, which saw the phone's text, moves the note on.
    context, laptop = new_tab(chromium, memo.url, "en", 1280)
    try:
        sign_up_and_in(laptop, "ann@example.com", "ann")
        laptop.goto(f"{note}/edit")
        assert laptop.input_value("textarea[name=content]") == "from the phone"
        laptop.fill("textarea[name=content]", "from the laptop")
        laptop.get_by_role("button", name="Save").click()
        laptop.wait_for_url(re.compile(r"/notes/\d+$"))
    finally:
        context.close()
    sent_out(phone)  # the phone's edit, sent again with its key: answered as the first was
    assert phone.get_by_role("heading", name="This note was changed meanwhile").count() == 0
    assert notes_on_server(app) == [("Plan", "from the laptop", 3, 3)]


def test_a_tab_closed_mid_send_is_one_note(phone, app):
    fill_new(phone, "Battery", "the tab closed as it sent")
    held = HeldPosts(hold=True)
    phone.route("**/notes/new", held)
    phone.get_by_role("button", name="Save").click()
    wait_until_reached(phone, held)  # Memo made it; the answer never comes back
    context = phone.context
    phone.close()
    again = context.new_page()
    sent_out(again)
    assert again.locator("#outbox").is_hidden()
    assert [title for title, *_ in notes_on_server(app)] == ["Battery"]
    again.goto("/notes/new")
    assert again.locator("#draft-notice").is_hidden()  # nothing offered to save twice


def test_save_and_new_note_pressed_at_once_is_one_note(phone, app):
    fill_new(phone, "Hurry", "pressed, then away")
    held = HeldPosts(hold=True)
    phone.route("**/notes/new", held)
    phone.get_by_role("button", name="Save").click()
    wait_until_reached(phone, held)
    phone.get_by_role("link", name="New note").click()
    phone.wait_for_load_state()
    assert phone.locator("#draft-notice").is_hidden()
    assert phone.input_value("textarea[name=content]") == ""
    phone.unroute("**/notes/new")
    sent_out(phone)
    assert [title for title, *_ in notes_on_server(app)] == ["Hurry"]


def test_two_quick_presses_are_one_note(phone, app):
    fill_new(phone, "Twice", "double tap")
    phone.get_by_role("button", name="Save").dblclick()
    phone.wait_for_url(re.compile(r"/notes/\d+$"))
    sent_out(phone)
    assert [title for title, *_ in notes_on_server(app)] == ["Twice"]


def test_a_save_made_offline_and_sent_back_online_is_one_note(phone, app, memo):
    phone.wait_for_function("() => navigator.serviceWorker.controller !== null")
    phone.goto("/notes/new")  # kept by the worker for the flight
    with offline(memo):
        fill_new(phone, "Flight", "written at 10,000 m")
        phone.get_by_role("button", name="Save").click()
        phone.locator("#draft-notice").wait_for(state="visible")
        phone.get_by_role("button", name="Save").click()  # and again, still offline
        phone.wait_for_timeout(500)
        assert phone.evaluate(WAITING) == 1
    sent_out(phone)
    assert [title for title, *_ in notes_on_server(app)] == ["Flight"]


def test_a_tick_whose_answer_is_lost_is_one_revision_answered_as_the_first(phone, app):
    note = write_note(phone, "Shop", "- [ ] milk\n- [ ] oat")
    held = HeldPosts()
    phone.route("**/tasks/**", held)
    phone.get_by_role("button", name="“milk”: not done").click()
    # tasks.js lost the answer: it posts the form again, with the tick's key, as a page would.
    phone.wait_for_url(re.compile(rf"{note}#task-0$"))
    assert held.reached == [302]
    assert "changed meanwhile" not in phone.locator("main").inner_text()
    [(title, content, version, revision)] = notes_on_server(app)
    assert (content.splitlines(), version, revision) == (["- [x] milk", "- [ ] oat"], 2, 2)
