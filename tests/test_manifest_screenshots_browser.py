"""The install sheet's pictures: the manifest's `screenshots` (app/offline/routes.py), one note
list a language at 390x844 (narrow) and 1280x800 (wide), app/static/screenshot-<form
factor>-<language>.png.

Chromium draws them from this version's pages, served in this process with the pages' clock
pinned at 16:00 in Seoul on 27 November 2026, so that every run draws the same pictures and
they show the times as a reader sees them: "오늘 오후 3:20", "어제 오전 9:10", a full date
further back. Each run writes them in place, as tests/test_interface_browser.py writes
docs/screenshots: a change to the list's look shows in `git status`, to be committed with it.
"""

import threading
from datetime import UTC, datetime

import pytest
from PIL import Image
from sqlalchemy import select
from werkzeug.serving import make_server

from app.extensions import db
from app.i18n import formats
from app.models import Note, User, utcnow
from devenv.liveserver import ROOT
from devenv.visitors import PASSWORD, Browser
from tests.browsers import LANGUAGES
from tests.note_writers import set_up_directly

STATIC = ROOT / "app" / "static"
NOW = datetime(2026, 11, 27, 7, 0, tzinfo=UTC)  # 16:00 in Seoul
FORM_FACTORS = {"narrow": (390, 844), "wide": (1280, 800)}
# When each note was last written, the newest first: 15:20 today, 09:10 yesterday and 20:05
# three days before, in Seoul.
WRITTEN = [
    datetime(2026, 11, 27, 6, 20, tzinfo=UTC),
    datetime(2026, 11, 26, 0, 10, tzinfo=UTC),
    datetime(2026, 11, 24, 11, 5, tzinfo=UTC),
]
# Each language's account: its nickname, its notes (title, text) and words its list shows.
ACCOUNTS = {
    "ko": (
        "김민지",
        [
            ("장보기", "- [ ] 우유\n- [ ] 쌀, 달걀 #집"),
            ("부산 여행", "서울역에서 9시 30분 기차. #여행"),
            ("읽은 책", "남아 있는 나날: 기억, 품위, 그리고 놓친 것들."),
        ],
        ["내 메모", "오늘 오후 3:20", "어제 오전 9:10", "2026년 11월 24일 오후 8:05"],
    ),
    "en": (
        "Minji",
        [
            ("Groceries", "- [ ] milk\n- [ ] rice, eggs #home"),
            ("Trip to Busan", "The 9:30 train from Seoul Station. #travel"),
            ("Books read", "The Remains of the Day: memory, dignity, and what was missed."),
        ],
        ["Your notes", "today 3:20 PM", "yesterday 9:10 AM", "Nov 24, 2026, 8:05 PM"],
    ),
}


@pytest.fixture
def pinned(app, monkeypatch):
    """The app served from this process on 127.0.0.1, its pages' clock at NOW."""
    monkeypatch.setattr(formats, "now", lambda: NOW)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1})
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()
    server.server_close()


def account_with_notes(app, language):
    """Make a confirmed account in Seoul writing `language`, with its notes written at their
    times; return its address."""
    nickname, notes, _ = ACCOUNTS[language]
    email = f"shots-{language}@example.com"
    with app.app_context():
        user = User(email=email, nickname=nickname, email_verified_at=utcnow())
        user.language, user.time_zone = language, "Asia/Seoul"
        user.set_password(PASSWORD)
        db.session.add(user)
        db.session.commit()
    writer = Browser(app.test_client())
    writer.login(email)
    for title, text in reversed(notes):
        assert writer.create_note(title, text).status_code == 302
    # The notes written at the pictures' times: a clock moved, which no writer does.
    with app.app_context(), set_up_directly():
        for (title, _), written in zip(notes, WRITTEN, strict=True):
            note = db.session.scalar(select(Note).where(Note.title == title))
            note.created_at = note.updated_at = written
        db.session.commit()
    return email


@pytest.mark.parametrize("language", ["ko", "en"])
def test_the_manifests_screenshots_show_the_note_list_as_its_reader_sees_it(
    app, chromium, pinned, language
):
    email = account_with_notes(app, language)
    for form_factor, (width, height) in FORM_FACTORS.items():
        context = chromium.new_context(
            base_url=pinned,
            locale=LANGUAGES[language],
            timezone_id="Asia/Seoul",
            viewport={"width": width, "height": height},
        )
        page = context.new_page()
        page.goto("/auth/login")
        page.fill("input[name=email]", email)
        page.fill("input[name=password]", PASSWORD)
        page.locator("form:has(input[name=password]) button[type=submit]").click()
        page.wait_for_url(f"{pinned}/")
        page.goto("/")  # without the sign-in's message
        shown = page.inner_text("main")
        for words in ACCOUNTS[language][2]:
            assert words in shown
        path = STATIC / f"screenshot-{form_factor}-{language}.png"
        page.screenshot(path=path)
        context.close()
        with Image.open(path) as picture:
            assert picture.size == (width, height)
