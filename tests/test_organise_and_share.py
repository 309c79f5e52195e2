"""Tags, pins, the archive and share links, against the real database and object store.

Tags are a note's `#word`s (Korean included), found from the list, the tags page and the
search box; pinned notes come first on keyset pages; archived notes leave the list and search;
a share link shows one note read-only to anyone holding it, until it is revoked or expires,
and nothing else of the owner's.
"""

import base64
import re
from datetime import timedelta
from html import unescape

import pytest
from sqlalchemy import select, text

from app.extensions import db
from app.models import Note, NoteShare, hash_token, utcnow
from devenv.uploads import Attacher
from devenv.visitors import Browser
from tests.databases import run_sql
from tests.note_writers import set_up_directly
from tests.noting import NOTE_LINK, SHARE_LINK, listed, make_link, note_id_of
from tests.workers import run_queued_jobs

# --- Tags ---------------------------------------------------------------------------------


def test_korean_and_english_tags_are_found_from_the_list_the_tags_page_and_the_search_box(user):
    meeting = note_id_of(user.create_note("주간 회의", "결정 사항 #회의록 #Work"))
    user.create_note("Groceries", "milk #work")
    user.create_note("Untagged", "nothing to see, not even example.com/#anchor")
    assert listed(user, "/?tag=회의록") == ["주간 회의"]
    assert listed(user, "/?tag=%23WORK") == ["Groceries", "주간 회의"]  # folded: one tag
    tags_page = user.get("/tags").get_data(as_text=True)
    assert "#work" in tags_page and "2 notes" in tags_page
    assert "#회의록" in tags_page and "1 note" in tags_page and "#anchor" not in tags_page
    searched = user.get("/search?q=tag%3A%ED%9A%8C%EC%9D%98%EB%A1%9D")  # tag:회의록
    assert searched.status_code == 302
    assert listed(user, searched.headers["Location"]) == ["주간 회의"]
    words_and_tag = user.get("/search?q=milk+tag%3Awork").get_data(as_text=True)
    assert "Groceries" in words_and_tag and "주간 회의" not in words_and_tag
    page = user.get(f"/notes/{meeting}").get_data(as_text=True)
    assert 'href="/?tag=%ED%9A%8C%EC%9D%98%EB%A1%9D"' in page  # each tag links to its notes


def test_tags_follow_edits_the_trash_and_restore(user):
    noted = note_id_of(user.create_note("Plan", "#draft"))
    assert listed(user, "/?tag=draft") == ["Plan"]
    edit = user.get(f"/notes/{noted}/edit").get_data(as_text=True)
    version = re.search(r'name="version" type="hidden" value="(\d+)"', edit)[1]
    user.post(f"/notes/{noted}/edit", {"title": "Plan", "content": "#final", "version": version})
    assert listed(user, "/?tag=draft") == [] and listed(user, "/?tag=final") == ["Plan"]
    user.post(f"/notes/{noted}/delete")
    assert listed(user, "/?tag=final") == [] and "#final" not in user.get("/tags").get_data(True)
    user.post(f"/trash/{noted}/restore")
    assert listed(user, "/?tag=final") == ["Plan"]


def test_a_tag_that_is_no_tag_is_a_clear_404_and_a_search_error(user):
    response = user.get("/?tag=not+a+tag")
    assert response.status_code == 404
    assert "A tag is letters, digits, _ and -" in response.get_data(as_text=True)
    searched = user.get("/search?q=words+tag%3A%3Cb%3E")
    assert searched.status_code == 400 and "After tag: write a tag" in searched.get_data(True)


def test_the_worker_tags_notes_the_previous_release_wrote(app, user):
    # The release before tags inserts notes without them, and moves `version` on its saves
    # without touching them.
    user.create_note("Kept", "#old")
    with set_up_directly():
        run_sql(
            app,
            "INSERT INTO note (title, content, created_at, updated_at, user_id)"
            " SELECT 'Older release', 'a #legacy note', now(), now(), id FROM \"user\"",
        )
        renamed = "UPDATE note SET content = '#renamed', version = version + 1 WHERE title = 'Kept'"
        run_sql(app, renamed)
    assert listed(user, "/?tag=legacy") == [] and listed(user, "/?tag=renamed") == []
    with app.app_context():
        from app.features.notes.tasks import retag_notes

        retag_notes(timestamp=0)
    assert listed(user, "/?tag=legacy") == ["Older release"]
    assert listed(user, "/?tag=renamed") == ["Kept"] and listed(user, "/?tag=old") == []


# --- Pins ---------------------------------------------------------------------------------


def test_pinned_notes_come_first_and_keyset_pages_visit_every_note_once(app, user, monkeypatch):
    monkeypatch.setitem(app.config, "NOTE_WRITES_PER_MINUTE", 1000)
    ids = [note_id_of(user.create_note(f"n{number:02}")) for number in range(45)]
    for pinned in (ids[3], ids[30]):
        assert user.post(f"/notes/{pinned}/pin", {"next": "/"}).headers["Location"] == "/"
    first = listed(user)
    assert first[:2] == ["n30", "n03"]  # pinned, newest first, then the rest
    assert 'class="pinned"' in user.get("/").get_data(as_text=True)
    seen, path = [], "/"
    while path:
        page = user.get(path).get_data(as_text=True)
        seen += [unescape(title) for _, title in NOTE_LINK.findall(page)]
        older = re.search(r'rel="next" href="([^"]+)"', page)
        path = unescape(older[1]) if older else None
    assert len(seen) == 45 and len(set(seen)) == 45
    assert seen[:2] == ["n30", "n03"] and seen[2] == "n44" and seen[-1] == "n00"
    # A cursor of the release before pins (microseconds-id) still names a page.
    assert user.get("/?before=0-0").status_code == 200
    assert user.post(f"/notes/{ids[30]}/unpin", {"next": "/"}).status_code == 302
    assert listed(user)[:2] == ["n03", "n44"]


# --- The archive --------------------------------------------------------------------------


def test_an_archived_note_leaves_the_list_and_search_and_waits_in_the_archive(user):
    kept = note_id_of(user.create_note("Trip to Jeju", "제주 itinerary"))
    user.create_note("Other", "nothing")
    user.post(f"/notes/{kept}/archive", {"next": f"/notes/{kept}"})
    assert listed(user) == ["Other"]
    assert "Trip to Jeju" not in user.get("/search?q=itinerary").get_data(as_text=True)
    archive = user.get("/archive").get_data(as_text=True)
    assert "Trip to Jeju" in archive
    with_archive = user.get("/search?q=itinerary&archived=y").get_data(as_text=True)
    assert "Trip to Jeju" in with_archive
    note_page = user.get(f"/notes/{kept}").get_data(as_text=True)
    assert "This note is in the archive" in note_page
    user.post(f"/notes/{kept}/unarchive", {"next": "/archive"})
    assert listed(user) == ["Other", "Trip to Jeju"]
    assert "Nothing is archived." in user.get("/archive").get_data(as_text=True)


# --- Share links --------------------------------------------------------------------------


def test_a_share_link_shows_the_note_read_only_to_anyone_and_nothing_of_the_account(app, user):
    note = note_id_of(user.create_note("Seoul trip", "Day 1: 경복궁, then the secret plan"))
    url = make_link(user, note)
    assert url.startswith(app.config["PUBLIC_URL"] + "/s/")
    stranger = Browser(app.test_client())
    response = stranger.get(url.removeprefix(app.config["PUBLIC_URL"]))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "경복궁" in page and "Shared by ann" in page
    assert "ann@example.com" not in page and 'action="/notes/' not in page  # read-only
    assert response.headers["Cache-Control"] == "private, no-store"
    assert response.headers["X-Robots-Tag"] == "noindex, nofollow"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert '<meta name="robots" content="noindex, nofollow">' in page
    cards = re.findall(r'<meta (?:property|name)="(?:og|twitter):[^"]+" content="([^"]*)"', page)
    assert "Seoul trip" in cards
    assert not [card for card in cards if "Day 1" in card or "secret" in card or "경복궁" in card]


def test_a_revoked_expired_trashed_or_archived_note_s_link_is_404_at_once(app, user):
    note = note_id_of(user.create_note("Shared", "text"))
    stranger = Browser(app.test_client())
    path = make_link(user, note).removeprefix(app.config["PUBLIC_URL"])
    assert stranger.get(path).status_code == 200
    user.post(f"/notes/{note}/archive", {"next": "/"})
    assert stranger.get(path).status_code == 404
    user.post(f"/notes/{note}/unarchive", {"next": "/"})
    assert stranger.get(path).status_code == 200
    user.post(f"/notes/{note}/delete")
    assert stranger.get(path).status_code == 404
    user.post(f"/trash/{note}/restore")
    assert stranger.get(path).status_code == 200
    run_sql(app, "UPDATE note_share SET expires_at = now() - interval '1 second'")
    assert stranger.get(path).status_code == 404
    fresh = make_link(user, note, days="").removeprefix(app.config["PUBLIC_URL"])
    assert stranger.get(fresh).status_code == 200
    mypage = user.get("/mypage").get_data(as_text=True)
    assert "works until revoked" in mypage and "Shared" in mypage  # my page lists live links
    [link_id] = re.findall(r'action="/shares/(\d+)/revoke"', mypage)  # the live one only
    assert user.post(f"/shares/{link_id}/revoke").headers["Location"] == "/mypage"
    assert stranger.get(fresh).status_code == 404
    assert "No live share links" in user.get("/mypage").get_data(as_text=True)


def test_a_link_expires_after_the_days_chosen(app, user):
    note = note_id_of(user.create_note("Brief", "text"))
    for days in ("1", "30"):
        make_link(user, note, days)
    with app.app_context():
        spans = sorted(
            share.expires_at - share.created_at for share in db.session.scalars(select(NoteShare))
        )
    assert [round(span / timedelta(days=1)) for span in spans] == [1, 30]
    refused = user.post(f"/notes/{note}/share", {"expires_days": "365"})
    assert refused.status_code == 400


def test_share_tokens_cannot_be_guessed_enumerated_or_turned_to_another_note(
    app, user, other_user, object_store
):
    mine = note_id_of(user.create_note("Shared one", "public part"))
    private = note_id_of(user.create_note("Private one", "never shared: zebracorn"))
    Attacher(user).attach(mine, b"shared file\n", "shared.txt")
    Attacher(user).attach(private, b"zebracorn file\n", "private.txt")
    first = make_link(user, mine).rsplit("/", 1)[1]
    second = make_link(user, mine).rsplit("/", 1)[1]
    # 32 random bytes each, unrelated: nothing of one is in the other.
    assert len(base64.urlsafe_b64decode(first + "=")) == 32 and first != second
    assert first[:8] != second[:8]
    with app.app_context():
        hashes = set(db.session.scalars(select(NoteShare.token_hash)))
        stored = db.session.execute(text("SELECT * FROM note_share")).all()
    assert hashes == {hash_token(first), hash_token(second)}
    assert not [row for row in stored if first in map(str, row) or second in map(str, row)]
    stranger = Browser(app.test_client())
    for guess in (first[:-1] + ("A" if first[-1] != "A" else "B"), first.upper(), "x" * 43,
                  str(mine), second[:20], first + "0"):  # fmt: skip
        assert stranger.get(f"/s/{guess}").status_code == 404
    page = stranger.get(f"/s/{first}").get_data(as_text=True)
    assert "shared.txt" in page and "private.txt" not in page and "zebracorn" not in page
    files = re.findall(r'<a href="([^"]+)" rel="noreferrer">', page)
    # A link signed by the object store for this view, not Memo's owner-only download route.
    assert len(files) == 1 and files[0].startswith(app.config["S3_ENDPOINT_URL"])
    assert "X-Amz-Signature=" in files[0]
    assert stranger.get(f"/s/{first}/../notes/{private}").status_code == 404
    assert stranger.get(f"/notes/{private}").status_code == 302  # to sign in
    with app.app_context():
        link_id = db.session.scalar(select(NoteShare.id).order_by(NoteShare.id))
    assert other_user.post(f"/shares/{link_id}/revoke").status_code == 404
    assert stranger.get(f"/s/{first}").status_code == 200


def test_each_link_has_a_rate_limit_held_in_the_database(app, user, monkeypatch):
    monkeypatch.setitem(app.config, "SHARE_VIEWS_PER_MINUTE", 3)
    note = note_id_of(user.create_note("Popular", "text"))
    path = make_link(user, note).removeprefix(app.config["PUBLIC_URL"])
    other = make_link(user, note).removeprefix(app.config["PUBLIC_URL"])
    visitors = [Browser(app.test_client()) for _ in range(4)]
    assert [visitor.get(path).status_code for visitor in visitors] == [200, 200, 200, 429]
    refused = visitors[0].get(path)
    assert refused.status_code == 429 and 1 <= int(refused.headers["Retry-After"]) <= 60
    assert "opened too often" in refused.get_data(as_text=True)
    assert visitors[0].get(other).status_code == 200  # each link counts its own views
    run_sql(app, "UPDATE note_share SET window_started_at = now() - interval '61 seconds'")
    assert visitors[0].get(path).status_code == 200


def test_an_account_has_at_most_so_many_live_links(app, user, monkeypatch):
    monkeypatch.setitem(app.config, "SHARES_PER_USER", 2)
    note = note_id_of(user.create_note("Note", "text"))
    make_link(user, note)
    make_link(user, note)
    refused = user.post(f"/notes/{note}/share", {"expires_days": "7"})
    page = user.get(refused.headers["Location"]).get_data(as_text=True)
    assert "You have 2 live share links" in page and SHARE_LINK.search(page) is None
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(NoteShare)) == 2


def test_the_note_page_offers_the_phones_share_sheet_for_a_new_link(user):
    note = note_id_of(user.create_note("Note", "text"))
    user.post(f"/notes/{note}/share", {"expires_days": "1"})
    page = user.get(f"/notes/{note}").get_data(as_text=True)
    assert '<script src="/static/share.js" defer></script>' in page
    assert re.search(r'<button type="button" class="share-sheet" hidden data-url="http', page)


def test_a_new_link_is_at_the_top_of_the_note_page_and_says_attachments_go_with_it(user):
    note = note_id_of(user.create_note("Note", "text"))
    user.post(f"/notes/{note}/share", {"expires_days": "1"})
    page = user.get(f"/notes/{note}").get_data(as_text=True)
    assert page.index('id="share-link"') < page.index("<h1")
    assert "Your share link is ready" in page and "download its attachments" in page
    assert re.search(r'<button type="button" class="copy-link" hidden data-copied="Copied">', page)


@pytest.fixture
def shared_note_with_files(app, user, object_store):
    note = note_id_of(user.create_note("Files", "see attached"))
    Attacher(user).attach(note, b"hello\n", "hello.txt")
    run_queued_jobs(app)
    return note


def test_the_shared_pages_file_links_download_the_files_and_expire(
    app, user, shared_note_with_files
):
    import requests

    path = make_link(user, shared_note_with_files).removeprefix(app.config["PUBLIC_URL"])
    page = Browser(app.test_client()).get(path).get_data(as_text=True)
    [url] = re.findall(r'<a href="([^"]+)" rel="noreferrer">', page)
    url = unescape(url)
    assert requests.get(url, timeout=10).content == b"hello\n"
    assert "X-Amz-Expires=300" in url or "Expires=" in url
    with app.app_context():
        note = db.session.get(Note, shared_note_with_files)
        assert note.archived_at is None and utcnow() > note.created_at
