"""The notes list and a note's page are made once for what they show and kept in the web
process (app/kept_pages.py): the next view of the same page is the one kept, with its own
CSRF token, and a change made through any writer shows on the next view. The frame of every
signed-in page is kept too (kept_part, on in every test), and follows all it shows."""

import re
import time
from datetime import timedelta

import pytest
from flask import template_rendered
from sqlalchemy import update

from app.extensions import db
from app.kept_pages import EXTENSION, PARTS, KeptPage, KeptPages
from app.models import Reminder, User, utcnow
from devenv.uploads import Attacher
from tests.note_writers import set_up_directly
from tests.noting import edit_form, make_link, note_id_of, second_session

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
TOKENS = re.compile(r'(name="csrf_token" value=|data-csrf=)"[^"]*"')


@pytest.fixture
def kept(app, monkeypatch):
    """The app's pages kept made, as in production (TestingConfig keeps none)."""
    pages = KeptPages(4 * 2**20)
    monkeypatch.setitem(app.extensions, EXTENSION, pages)
    return pages


@pytest.fixture
def made(app):
    """The list's and note pages' templates rendered, in order: a page kept is not rendered."""
    rendered = []

    def record(sender, template, context, **extra):
        if template.name in ("notes/index.html", "notes/detail.html"):
            rendered.append(template.name)

    template_rendered.connect(record, app)
    yield rendered
    template_rendered.disconnect(record, app)


@pytest.fixture
def plans(user):
    """ann's note (its id): a title, a task; her messages read."""
    note = note_id_of(user.create_note("Plans", "- [ ] milk"))
    read(user)
    return note


def read(user):
    """Read the messages waiting (the tags page shows them), as a person does."""
    assert user.get("/tags").status_code == 200


def view(user, path):
    answer = user.get(path)
    assert answer.status_code == 200, path
    return answer.get_data(as_text=True)


def without_tokens(html):
    return TOKENS.sub(r'\1""', html)


@pytest.mark.parametrize("page", ["/", "note"])
def test_a_page_is_made_once_and_sent_again_with_the_requests_own_token(
    user, plans, kept, made, page
):
    path = f"/notes/{plans}" if page == "note" else page
    first = view(user, path)
    time.sleep(1.1)  # a token signed now carries another time
    again = view(user, path)
    assert len(made) == 1 and len(kept.pages) == 1
    assert without_tokens(again) == without_tokens(first)
    token = TOKEN.search(again)[1]
    assert token != TOKEN.search(first)[1]
    assert all(found == token for found in TOKEN.findall(again))
    # The token of the page kept is the request's: a form sent with it is accepted.
    pinned = user.post(f"/notes/{plans}/pin", {"csrf_token": token}, csrf=False)
    assert pinned.status_code == 302


def pin(user, note):
    assert user.post(f"/notes/{note}/pin").status_code == 302


def tick(user, note):
    version = edit_form(user, note)
    ticked = user.post(f"/notes/{note}/tasks/0?item=milk", {"done": "1", "version": version})
    assert ticked.status_code == 302


def edit(user, note):
    version = edit_form(user, note)
    form = {"title": "Plans", "content": "- [ ] milk\n- [ ] bread", "version": version}
    assert user.post(f"/notes/{note}/edit", form).status_code == 302


def set_reminder(user, note):
    form = {"when": "morning", "repeat": "none"}
    assert user.post(f"/notes/{note}/reminder", form).status_code == 302


def remove_reminder(user, note):
    assert user.post(f"/notes/{note}/reminder/delete").status_code == 302


def language(user, note):
    form = {"language": "ko", "timezone": "America/New_York"}
    assert user.post("/mypage/settings", form).status_code == 302


def zone(user, note):
    form = {"language": "en", "timezone": "Asia/Seoul"}
    assert user.post("/mypage/settings", form).status_code == 302


def trash(user, note):
    assert user.post(f"/notes/{note}/delete").status_code == 302


def attach(user, note):
    assert Attacher(user).attach(note, b"%PDF-1.7\n", "plan.pdf").status_code == 302


def detach(user, note):
    [(attachment, _)] = Attacher(user).listing(note)
    assert user.post(f"/attachments/{attachment}/delete").status_code == 302


def revoke(user, note):
    page = user.get(f"/notes/{note}").get_data(as_text=True)
    link_id = re.search(r"/shares/(\d+)/revoke", page)[1]
    assert user.post(f"/shares/{link_id}/revoke").status_code == 302


def nothing(user, note):
    pass


# Each change (after its setup), and what it shows on the list and on the note's page (None:
# the page is not looked at; "!": no longer shows).
CHANGES = {
    "an edit": (nothing, edit, "bread", "bread"),
    "a pin": (nothing, pin, 'class="pinned"', "Unpin"),
    "a task ticked": (nothing, tick, "1/1 done", "Mark the note done"),
    "a reminder set": (nothing, set_reminder, 'class="bell"', "Remove reminder"),
    "a reminder removed": (set_reminder, remove_reminder, "!bell", "!Remove reminder"),
    "the language in the settings": (nothing, language, '<html lang="ko">', '<html lang="ko">'),
    "the zone in the settings": (nothing, zone, 'data-zone="Asia/Seoul"', "Seoul"),
    "the note trashed": (nothing, trash, "!Plans", None),
    "a share link made": (nothing, make_link, None, "Live links"),
    "a share link revoked": (make_link, revoke, None, "!/revoke"),
    "a file attached": (nothing, attach, None, "plan.pdf"),
    "a file deleted": (attach, detach, None, "!plan.pdf"),
}


def shows(html, expected):
    return expected[1:] not in html if expected.startswith("!") else expected in html


@pytest.mark.parametrize("change", CHANGES)
def test_a_change_through_any_writer_shows_on_the_next_view(user, plans, kept, made, change):
    setup, step, on_list, on_note = CHANGES[change]
    setup(user, plans)
    read(user)
    made.clear()  # the setup's own views (a link shown once, a file's form)
    pages = {path: shown for path, shown in (("/", on_list), (f"/notes/{plans}", on_note)) if shown}
    for path, expected in pages.items():
        assert not shows(view(user, path), expected), (change, path)
        view(user, path)  # the page kept
    assert len(made) <= len(pages)  # each made once at most (or kept by the setup's views)
    step(user, plans)
    read(user)
    for path, expected in pages.items():
        assert shows(view(user, path), expected), (change, path)


def test_another_account_or_sign_in_never_gets_the_page_kept(app, user, plans, other_user, kept):
    mine = view(user, "/")
    assert "Plans" in mine
    assert "Plans" not in view(other_user, "/")
    assert other_user.get(f"/notes/{plans}").status_code == 404
    elsewhere = second_session(app)
    session_of = re.compile(r'data-session="([^"]+)"')
    assert session_of.search(view(elsewhere, "/"))[1] != session_of.search(mine)[1]
    user.logout()
    assert user.get("/").status_code == 302  # signed out: no page at all


def test_a_page_with_a_message_is_made_and_not_kept(user, plans, kept, made):
    view(user, "/")
    pin(user, plans)
    shown = view(user, "/")
    assert "Pinned: this note comes first" in shown
    assert "Pinned: this note comes first" not in view(user, "/")


def test_a_page_kept_ends_at_its_deadline(app, user, plans, kept, made):
    set_reminder(user, plans)
    read(user)
    soon = utcnow() + timedelta(seconds=2)
    with app.app_context(), set_up_directly():  # as the sweeper will find it: due in 2 s
        db.session.execute(update(Reminder).values(due_at=soon))
        db.session.commit()
    view(user, "/")
    view(user, "/")
    assert made == ["notes/index.html"]
    time.sleep(max(0.0, soon.timestamp() - time.time()) + 0.1)
    view(user, "/")  # the sweeper moves a fired reminder without a change number
    assert made == ["notes/index.html", "notes/index.html"]


def test_the_pages_kept_stay_within_their_bytes_the_oldest_given_up():
    pages = KeptPages(1000)
    page = KeptPage(("x" * 100,), float("inf"), 200)
    for key in range(8):
        pages.put(key, page)
    assert list(pages.pages) == [3, 4, 5, 6, 7] and pages.size == 1000
    pages.get(3)  # used: the newest now
    pages.put(8, page)
    assert list(pages.pages) == [5, 6, 7, 3, 8]
    pages.put("big", KeptPage(("x",), float("inf"), 300))  # over a quarter: never kept
    assert "big" not in pages.pages
    pages.put("old", KeptPage(("x",), time.time() - 1, 10))
    assert pages.get("old") is None and "old" not in pages.pages


def test_a_page_made_anew_after_a_note_changed_takes_the_frame_kept(app, user, plans):
    parts = app.extensions[PARTS]
    parts.clear()  # the frames earlier tests' accounts left
    view(user, "/")
    (key,) = [key for key in parts.pages if key[0] == "frame" and key[1][-2] == "notes.index"]
    part = parts.pages[key]  # marked, to be seen if it is used again
    marked = tuple(piece.replace("Sign out", "Kept") for piece in part.pieces)
    parts.pages[key] = part._replace(pieces=marked)
    pin(user, plans)
    assert ">Kept</button>" in view(user, "/")
    assert ">Kept</button>" in view(user, "/?sort=created")  # the same kind of page
    assert ">Kept</button>" not in view(user, "/tags")  # another kind, another frame
    back = re.compile(r'name="next" value="([^"]*)"')  # the request's own, never kept
    assert back.search(view(user, "/?sort=created"))[1] == "/?sort=created"


def row(app, **values):
    with app.app_context():
        db.session.execute(update(User).where(User.email == "ann@example.com").values(**values))
        db.session.commit()


FRAME_CHANGES = {
    "nickname": ("Zed", ">Zed</span>"),
    "image_url": ("https://cdn.example/ann.webp", 'src="https://cdn.example/ann.webp"'),
    "email_verified_at": (utcnow(), "!not confirmed yet"),
    "email": ("zed@example.com", "mailed to zed@example.com"),
    "time_zone": ("Asia/Seoul", 'data-zone="Asia/Seoul"'),
}


@pytest.mark.parametrize("column", FRAME_CHANGES)
def test_the_frame_kept_follows_all_it_shows_whoever_wrote_it(app, user, plans, column):
    value, expected = FRAME_CHANGES[column]
    assert not shows(view(user, "/"), expected)
    row(app, **{column: value})
    assert shows(view(user, "/"), expected)


def test_the_search_box_shows_the_words_asked_for(user):
    view(user, "/search?q=milk")
    assert 'value="bread"' in view(user, "/search?q=bread")
