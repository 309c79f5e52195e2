"""Korean content byte for byte through every page and the export, a Korean walk with no
English, and catalogs that translate every message."""

import io
import json
import urllib.request
import zipfile
from urllib.parse import quote, unquote

from sqlalchemy import select

from app.extensions import db
from app.models import User, WordCount
from devenv import catalogs
from devenv.uploads import Attacher
from tests.languages import (
    CONTENT,
    FILE_NAME,
    NICKNAME,
    TITLE,
    html_lang,
    korean_browser,
)
from tests.reading import latin_words
from tests.workers import run_queued_jobs

# --- Korean content, byte for byte ------------------------------------------------------------


def korean_user_with_a_note_and_a_file(app):
    """A Korean-speaking user with a Korean nickname, a note and an attached file."""
    person = korean_browser(app)
    assert person.signup("min@example.com", NICKNAME).status_code == 302
    created = person.create_note(TITLE, CONTENT)
    note_id = int(created.headers["Location"].rsplit("/", 1)[1])
    # As the page's script attaches it: the name travels in Memo's own form, not in S3
    # metadata (which moto, unlike S3, cannot send back in non-ASCII).
    confirmed = Attacher(person).attach_by_script(note_id, "내용".encode(), FILE_NAME)
    assert confirmed.status_code == 302
    return person, note_id


def test_korean_nickname_title_and_file_name_survive_every_page_and_the_export(app, object_store):
    person, note_id = korean_user_with_a_note_and_a_file(app)
    pages = {
        "/": [NICKNAME, TITLE],
        f"/notes/{note_id}": [NICKNAME, TITLE, CONTENT, FILE_NAME],
        f"/notes/{note_id}/edit": [TITLE, CONTENT],
        "/search?q=장보기": [TITLE],
        f"/notes/{note_id}/wordcount": [TITLE],
        "/mypage": [NICKNAME],
    }
    for url, expected in pages.items():
        html = person.get(url).get_data(as_text=True)
        for text in expected:
            assert text in html, (url, text)
    person.get("/mypage/export")
    person.post("/mypage/export")
    run_queued_jobs(app)
    link = person.get("/mypage/export/download").headers["Location"]
    with urllib.request.urlopen(link, timeout=10) as answer:
        archive = zipfile.ZipFile(io.BytesIO(answer.read()))
    exported = json.loads(archive.read("account.json"))
    assert exported["profile"]["nickname"] == NICKNAME
    assert exported["notes"][0]["title"] == TITLE
    assert exported["notes"][0]["content"] == CONTENT
    assert exported["attachments"][0]["name"] == FILE_NAME
    download = person.get(f"/attachments/{exported['attachments'][0]['id']}")
    assert download.status_code == 302
    assert f"filename*=UTF-8''{quote(FILE_NAME)}" in unquote(download.headers["Location"])


# --- Done when: a Korean walk with no English --------------------------------------------------


def test_a_korean_walk_through_every_page_shows_no_english(app, object_store):
    person, note_id = korean_user_with_a_note_and_a_file(app)
    with app.app_context():
        owner = db.session.scalar(select(User).filter_by(nickname=NICKNAME))
        failed = WordCount(
            url="https://example.com/",
            user_id=owner.id,
            status="failed",
            error="The site took longer than 10 seconds; Memo gave up.",
        )
        db.session.add(failed)
        db.session.commit()
        failed_id = failed.id
    own = [NICKNAME, TITLE, CONTENT, FILE_NAME, "min@example.com", "https://example.com/"]
    own += ["text/plain"]  # the attachment's type, as its owner's file declared it
    walk = [
        ("/", 200),
        (f"/notes/{note_id}", 200),
        (f"/notes/{note_id}/edit", 200),
        ("/notes/new", 200),
        ("/search?q=장보기", 200),
        ("/search?q=없는말", 200),
        (f"/notes/{note_id}/wordcount", 200),
        ("/wordcount", 200),
        (f"/wordcount/{failed_id}", 200),
        ("/mypage", 200),
        ("/mypage/tokens", 200),
        ("/notes/999999999", 404),
        ("/no/such/page", 404),
    ]
    found = {}
    for url, status in walk:
        response = person.get(url)
        assert response.status_code == status, url
        assert html_lang(response) == "ko", url
        found[url] = latin_words(response.get_data(as_text=True), *own)
    refused = person.post("/notes/new", {"title": "", "content": "x" * 20_001})
    assert refused.status_code == 400
    found["POST /notes/new"] = latin_words(refused.get_data(as_text=True), *own, "x" * 20_001)
    assert {url: words for url, words in found.items() if words} == {}


# --- The catalogs ---------------------------------------------------------------------------


def test_every_message_is_translated_in_every_catalog_and_none_is_fuzzy(tmp_path):
    template = tmp_path / "messages.pot"
    assert catalogs.extract(template) == 0
    assert catalogs.languages() == ["en", "ko"]
    assert {language: catalogs.problems(template, language) for language in ["en", "ko"]} == {
        "en": [],
        "ko": [],
    }


def test_the_committed_compiled_catalogs_match_their_po_files():
    for language in catalogs.languages():
        committed = catalogs.catalog_path(language, "mo").read_bytes()
        assert committed == catalogs.compiled(language), (
            f"{language}: run scripts/translations compile and commit the .mo"
        )
