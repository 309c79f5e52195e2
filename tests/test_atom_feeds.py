"""Private Atom feeds: made on the webhooks page (the URL shown once), read by feedparser with
every entry (titles and the notes' sanitised HTML), 304 while nothing changed, one tag's
notes only, in the account's language, revoked for good, paused by a recovery until kept,
their token kept out of the request log, and what one costs: about FEED_BYTES of Atom however
large the notes, in one of the account's heavy-read slots."""

import logging
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import feedparser
import pytest
from sqlalchemy import select, text, update

from app.extensions import db
from app.features.notes import service
from app.features.webhooks import feeds
from app.features.webhooks.feeds import FEED_READ_LOCK_CLASS
from app.models import AtomFeed, Note, User
from tests.apiclients import hold_slots, statements_run
from tests.note_writers import set_up_directly
from tests.signing_in import recovered

FEED_URL = re.compile(r'value="(http://localhost/feeds/memo_feed_[A-Za-z0-9_-]+)"')


def make_feed(user, tag=""):
    """Make a feed on the page; return its path, read from the page that shows it once."""
    response = user.post("/mypage/webhooks/feeds", {"tag": tag})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    url = FEED_URL.search(response.get_data(as_text=True))[1]
    return url.removeprefix("http://localhost")


@pytest.fixture
def notes(user):
    user.create_note("Groceries", "- [ ] milk\n- [x] eggs #shop")
    user.create_note("Standup", "**Blocked** on <script>alert(1)</script> review #work")
    user.create_note("회의록", "다음 주 *일정* #work")
    return user


def test_a_feed_parses_with_every_entry_and_the_notes_html(app, notes):
    path = make_feed(notes)
    reader = app.test_client(use_cookies=False)  # a feed reader: no session
    response = reader.get(path)
    assert response.status_code == 200
    assert response.mimetype == "application/atom+xml"
    assert response.headers["Cache-Control"] == "private, no-cache"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    parsed = feedparser.parse(response.get_data())
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    assert [entry.title for entry in parsed.entries] == ["회의록", "Standup", "Groceries"]
    standup = parsed.entries[1]
    html = standup.content[0].value
    assert "<strong>Blocked</strong>" in html
    assert "<script" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert standup.link.startswith("http://localhost/notes/")
    assert [tag.term for tag in standup.tags] == ["work"]
    assert parsed.feed.title == "ann's notes"


def test_a_feed_answers_304_while_nothing_changed_and_200_after_a_change(app, notes):
    path = make_feed(notes)
    reader = app.test_client(use_cookies=False)
    first = reader.get(path)
    etag = first.headers["ETag"]
    assert first.headers["Last-Modified"]
    again = reader.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304 and not again.get_data()
    notes.create_note("New", "a new note")
    changed = reader.get(path, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert feedparser.parse(changed.get_data()).entries[0].title == "New"


def test_a_tags_feed_lists_only_its_notes_and_not_the_trash(app, notes):
    path = make_feed(notes, tag="#work")
    reader = app.test_client(use_cookies=False)
    parsed = feedparser.parse(reader.get(path).get_data())
    assert [entry.title for entry in parsed.entries] == ["회의록", "Standup"]
    assert parsed.feed.title == "ann's notes tagged #work"
    notes.post(f"/notes/{note_id(app, 'Standup')}/delete")
    parsed = feedparser.parse(reader.get(path).get_data())
    assert [entry.title for entry in parsed.entries] == ["회의록"]


def note_id(app, title):
    with app.app_context():
        return db.session.scalar(select(Note.id).where(Note.title == title))


def test_a_feed_is_in_the_accounts_language(app, notes):
    with app.app_context():
        db.session.execute(update(User).values(language="ko"))
        db.session.commit()
    path = make_feed(notes)
    parsed = feedparser.parse(app.test_client(use_cookies=False).get(path).get_data())
    assert parsed.feed.title == "ann의 메모"
    assert parsed.feed.language == "ko"


def test_a_revoked_feed_reads_nothing(app, notes):
    path = make_feed(notes)
    with app.app_context():
        feed_id = db.session.scalar(select(AtomFeed.id))
    assert notes.post(f"/mypage/webhooks/feeds/{feed_id}/revoke").status_code == 302
    assert app.test_client(use_cookies=False).get(path).status_code == 404


def test_a_made_up_or_another_kind_of_token_is_404(app, notes):
    make_feed(notes)
    reader = app.test_client(use_cookies=False)
    assert reader.get("/feeds/memo_feed_" + "A" * 43).status_code == 404
    assert reader.get("/feeds/memo_pat_" + "A" * 49).status_code == 404


def test_a_recovery_pauses_a_feed_until_its_owner_keeps_it(app, notes):
    path = make_feed(notes)
    with app.app_context():
        user = db.session.scalar(select(User))
        ended = recovered(user)
        db.session.commit()
        feed_id = db.session.scalar(select(AtomFeed.id))
    assert ended.paused_hooks == 1
    reader = app.test_client(use_cookies=False)
    assert reader.get(path).status_code == 404
    page = notes.get("/mypage/webhooks")
    if page.status_code == 302:  # the recovery ended the session: sign in again
        notes.login()
    assert notes.post(f"/mypage/webhooks/feeds/{feed_id}/keep").status_code == 302
    assert reader.get(path).status_code == 200


def test_the_request_log_keeps_the_feeds_token_out(app, notes, caplog):
    path = make_feed(notes)
    with caplog.at_level(logging.INFO, logger="memo.request"):
        app.test_client(use_cookies=False).get(path)
    token = path.rsplit("/", 1)[1]
    logged = [record.path for record in caplog.records if hasattr(record, "path")]
    assert "/feeds/<token>" in logged
    assert token not in caplog.text


# The costliest text to show: each "<" is "&lt;" in the note's HTML and "&amp;lt;" in the
# feed, 8 bytes a character: 160 KB an entry (50 such notes made a feed of 8 MB; twelve
# are past the feed's bytes by half).
WORST = "<" * 20_000


def write_notes(app, count, content):
    """Give ann `count` notes as the one writer makes them (an import's way); return her id."""
    with app.app_context():
        user_id = db.session.scalar(select(User.id).where(User.email == "ann@example.com"))
        rows = [{"title": f"n{number}", "content": content} for number in range(count)]
        service.create_many(user_id, rows)
        db.session.commit()
        return user_id


def test_a_feed_of_the_costliest_notes_stays_within_its_bytes_newest_first(app, user):
    write_notes(app, 12, WORST)
    path = make_feed(user)
    response = app.test_client(use_cookies=False).get(path)
    assert response.status_code == 200
    body = response.get_data()
    assert len(body) <= app.config["FEED_BYTES"]
    parsed = feedparser.parse(body)
    assert not parsed.bozo, parsed.get("bozo_exception")
    shown = [entry.title for entry in parsed.entries]
    assert shown == [f"n{number}" for number in range(11, 11 - len(shown), -1)]
    assert 4 <= len(shown) < 12  # 160 KB each: six fit in 1 MiB
    assert parsed.entries[0].content[0].value == "<p>" + "&lt;" * 20_000 + "</p>"


def test_a_feed_holds_its_newest_note_however_small_its_bytes(app, user, monkeypatch):
    write_notes(app, 3, WORST)
    monkeypatch.setitem(app.config, "FEED_BYTES", 1000)
    parsed = feedparser.parse(app.test_client(use_cookies=False).get(make_feed(user)).get_data())
    assert [entry.title for entry in parsed.entries] == ["n2"]


def test_a_feed_is_read_while_its_owners_heavy_reads_are_all_running(app, notes):
    path = make_feed(notes)
    reader = app.test_client(use_cookies=False)
    with app.app_context():
        user_id = db.session.scalar(select(User.id))
    held = hold_slots(app, user_id, range(app.config["API_READS_IN_FLIGHT_PER_USER"]))
    try:
        assert reader.get(path).status_code == 200  # the feed's budget is its own
    finally:
        held.close()


def test_a_feed_made_past_its_own_slots_waits_with_429(app, notes):
    path = make_feed(notes)
    reader = app.test_client(use_cookies=False)
    with app.app_context():
        feed_id = db.session.scalar(select(AtomFeed.id))
        connection = db.engine.connect()
    for slot in range(app.config["FEED_READS_IN_FLIGHT"]):  # as reads still being made would
        connection.execute(
            text("SELECT pg_advisory_xact_lock(:class_id, :feed_id)"),
            {"class_id": FEED_READ_LOCK_CLASS + slot, "feed_id": feed_id},
        )
    try:
        refused = reader.get(path)
        assert refused.status_code == 429
        assert refused.headers["Retry-After"] == "2"
    finally:
        connection.close()
    assert reader.get(path).status_code == 200


def test_sixteen_readers_of_a_feed_never_make_its_owners_change_feed_answer_429(
    app, user, ann_api, monkeypatch
):
    path = make_feed(user)
    ann_api.new_note(title="Plans")
    made, running = feeds.listed_notes, threading.Event()

    def slow_listing(feed):  # each reader holds what it holds a while, as a large feed does
        running.set()
        time.sleep(0.3)
        return made(feed)

    monkeypatch.setattr(feeds, "listed_notes", slow_listing)

    def hammer(_):
        client = app.test_client(use_cookies=False)
        return [client.get(path).status_code for _ in range(4)]

    with ThreadPoolExecutor(16) as pool:
        readers = pool.map(hammer, range(16))
        running.wait(5)
        owner = [ann_api.get("/changes?since=0").status_code for _ in range(10)]
        read = [status for statuses in readers for status in statuses]
    assert owner == [200] * 10
    assert set(read) <= {200, 429} and 200 in read


def test_an_unchanged_feed_answers_304_in_one_statement_without_being_made(app, notes, monkeypatch):
    path = make_feed(notes)
    reader = app.test_client(use_cookies=False)
    etag = reader.get(path).headers["ETag"]

    def not_again(*args):
        raise AssertionError("the feed was made again")

    monkeypatch.setattr(feeds, "listed_notes", not_again)
    monkeypatch.setattr(feeds, "atom_of", not_again)
    with statements_run(app) as seen:
        again = reader.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.headers["ETag"] == etag
    assert len(seen) == 1, seen


def test_a_feeds_tag_moves_with_the_owners_name_and_language(app, notes):
    path = make_feed(notes)
    reader = app.test_client(use_cookies=False)
    etag = reader.get(path).headers["ETag"]
    with app.app_context():
        db.session.execute(update(User).values(language="ko"))
        db.session.commit()
    changed = reader.get(path, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag


def test_a_stored_note_holding_control_characters_keeps_the_feed_readable(app, notes):
    # Rows written before imports left these out may hold them; XML cannot.
    with app.app_context(), set_up_directly():
        db.session.execute(update(Note).where(Note.title == "Standup").values(title="Stand\x01up"))
        db.session.commit()
    parsed = feedparser.parse(app.test_client(use_cookies=False).get(make_feed(notes)).get_data())
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert "Standup" in [entry.title for entry in parsed.entries]
