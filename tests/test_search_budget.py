"""What one search may spend: bounded prefixes and ranking, a time limit, searches at once per
user, excerpts of a promised size, and only the start of a long note searched."""

import re
from html import unescape

import pytest
from sqlalchemy import text

from app.extensions import db
from app.features.search.query import SEARCHED_CHARACTERS, normalize, parse, search_notes
from tests.note_writers import set_up_directly
from tests.searching import add_notes, hits


def search_page(browser, query):
    response = browser.get("/search", query_string={"q": query})
    return response.status_code, unescape(response.get_data(as_text=True))


def test_a_query_of_many_prefixes_is_refused_with_a_message(app, user):
    add_notes(app, "ann@example.com", [("Letters", "bravo charlie delta echo foxtrot golf")])
    status, page = search_page(user, "br* ch* de* ec* fo* go*")
    assert status == 400 and "Use at most 5 words ending in *." in page
    status, page = search_page(user, "br* ch* de* ec* fo*")
    assert status == 200 and "Letters" in page


def test_a_one_letter_prefix_matches_a_whole_word(app, user):
    add_notes(app, "ann@example.com", [("Letters", "bravo charlie"), ("Vitamin", "b and c")])
    # The attack's query, `b* c* ... z*`, took 6.5 s on 7,500 long notes; now it asks the
    # index for 25 one-letter words.
    assert hits(user, " ".join(f"{letter}*" for letter in "bcdefghijklmnopqrstuvwxyz")) == []
    assert hits(user, "b* c*") == ["Vitamin"]


def test_korean_words_past_the_prefix_budget_match_whole(app):
    with app.app_context():
        query = normalize(parse("회의 메모 일기 정리 오늘 내일"))
        db.session.rollback()
    assert query.tsquery().count(":*") == 5
    assert query.tsquery().endswith("('내일')")


def test_a_search_out_of_time_asks_for_a_narrower_one_not_a_503(app, user, monkeypatch):
    add_notes(app, "ann@example.com", [(f"Long {n}", "giraffe words " * 1400) for n in range(40)])
    monkeypatch.setitem(app.config, "SEARCH_TIMEOUT_MS", 1)
    status, page = search_page(user, "giraffe wo*")
    assert status == 400
    assert "This search is too broad to answer quickly; add a word to narrow it." in page
    monkeypatch.setitem(app.config, "SEARCH_TIMEOUT_MS", 2000)
    assert search_page(user, "giraffe")[0] == 200  # the next search has its time again


def test_a_third_search_at_once_waits_with_429(app, user):
    add_notes(app, "ann@example.com", [("Zoo", "giraffe")])
    with app.app_context():
        user_id = db.session.scalar(text("SELECT id FROM \"user\" WHERE email = 'ann@example.com'"))
        with db.engine.connect() as first, db.engine.connect() as second:
            for slot, running in enumerate((first, second)):  # two searches of ann's, running
                running.execute(
                    text("SELECT pg_advisory_xact_lock(2301 + :slot, :user_id)"),
                    {"slot": slot, "user_id": user_id},
                )
            response = user.get("/search?q=giraffe")
            assert response.status_code == 429
            assert response.headers["Retry-After"] == "2"
            assert "You have searches still running" in response.get_data(as_text=True)
            first.rollback()  # one of them ends
            assert hits(user, "giraffe") == ["Zoo"]


def test_dense_matches_make_an_excerpt_of_the_promised_size(app, user):
    # Every word matched: the excerpt was the whole note (38,576 characters in the attack).
    add_notes(app, "ann@example.com", [("Dense", "giraffe " * 2400)])
    page = user.get("/search?q=giraffe").get_data(as_text=True)
    snippet = re.search(r'<p class="snippet">(.*?)</p>', page, re.DOTALL).group(1)
    assert len(unescape(re.sub(r"<[^>]+>", "", snippet))) < 450
    assert snippet.count("<mark>") < 60


def test_past_a_thousand_matches_the_newest_thousand_are_ranked(app, user):
    with app.app_context(), set_up_directly(), db.engine.begin() as connection:  # in bulk
        connection.execute(
            text(
                "INSERT INTO note (title, content, created_at, updated_at, user_id)"
                " SELECT 'Note ' || n, 'giraffe', now() - (1001 - n) * interval '1 second',"
                " now(), id"
                " FROM \"user\", generate_series(1, 1001) AS n WHERE email = 'ann@example.com'"
            )
        )
    page = user.get("/search?q=giraffe").get_data(as_text=True)
    assert "More than 1,000 notes match; the newest 1,000 are ranked" in page
    assert hits(user, "giraffe")[0] == "Note 1001"


# --- A long note is searched in its first SEARCHED_CHARACTERS characters ------------------


def long_note(far_word):
    """Return content with `giraffe` at its start, `zanzibarian` across the limit, then more."""
    head = "giraffe " + "filler " * ((SEARCHED_CHARACTERS - 20) // 7)
    head += " " * (SEARCHED_CHARACTERS - 5 - len(head))
    return f"{head}zanzibarian " + "tail " * 100 + far_word


def test_words_past_the_first_10000_characters_of_a_note_are_not_found(app, user):
    assert SEARCHED_CHARACTERS == 10_000
    add_notes(app, "ann@example.com", [("Long", long_note("zebra")), ("Short", "a zebra")])
    assert hits(user, "zebra") == ["Short"]
    assert hits(user, "zanzi*") == []  # the word the limit splits is not searched at all
    assert hits(user, "giraffe") == ["Long"]
    page = user.get("/search?q=giraffe").get_data(as_text=True)
    snippet = re.search(r'<p class="snippet">(.*?)</p>', page, re.DOTALL).group(1)
    assert snippet.startswith("<mark>giraffe</mark> filler") and snippet.endswith(" …")


def test_the_search_page_says_how_much_of_a_long_note_is_searched(user):
    page = user.get("/search").get_data(as_text=True)
    assert "Only the first 10,000 characters of a note are searched." in page


@pytest.mark.parametrize(
    ("typed", "suffice"),
    [("milk bre* 메모", True), ('"quick fox"', False), ("milk -cats", False), ("e-mail", False)],
)
def test_only_single_words_are_left_to_the_index_alone(app, typed, suffice):
    with app.app_context():
        query = normalize(parse(typed))
        db.session.rollback()
    assert query.keys_suffice is suffice


def test_a_search_runs_in_one_process_without_parallel_workers(app, user):
    add_notes(app, "ann@example.com", [("Zoo", "giraffe")])
    with app.app_context():
        user_id = db.session.scalar(text("SELECT id FROM \"user\" WHERE email = 'ann@example.com'"))
        assert search_notes(user_id, "giraffe", 1, 20).total == 1
        # Still the search's transaction: its settings hold until it ends.
        assert db.session.scalar(text("SHOW max_parallel_workers_per_gather")) == "0"
        db.session.rollback()
        assert db.session.scalar(text("SHOW max_parallel_workers_per_gather")) != "0"
