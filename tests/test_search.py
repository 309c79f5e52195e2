"""Search: a user finds their own notes, in English and Korean, ranked and safely highlighted."""

import re
from html import unescape

import pytest

from app.extensions import db
from app.features.search.query import normalize, parse
from tests.searching import (
    HIT_ELEMENTS,
    add_notes,
    elements_in,
    hit_list,
    hits,
    no_results_message,
    titles,
)


@pytest.mark.parametrize("path", ["/", "/notes/new", "/mypage", "/wordcount", "/search"])
def test_every_signed_in_page_has_a_search_box(user, path):
    page = user.get(path).get_data(as_text=True)
    assert re.search(r'<form class="nav-search" method="get" action="/search" role="search">', page)
    assert 'type="search" name="q"' in page


def test_signed_out_pages_have_no_search_box(browser):
    assert 'name="q"' not in browser.get("/auth/login").get_data(as_text=True)


@pytest.mark.parametrize("query", [None, "", "   "])
def test_an_empty_query_shows_the_search_page(user, query):
    user.create_note("Groceries", "milk")
    response = user.get("/search", query_string={} if query is None else {"q": query})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "<h1>Search your notes</h1>" in page
    assert titles(page) == [] and no_results_message(page) is None


def test_the_boxes_on_the_results_page_keep_the_query(user):
    page = user.get("/search?q=milk+%22a+b%22").get_data(as_text=True)
    assert page.count('value="milk &#34;a b&#34;"') == 2  # the navigation's and the page's


def test_all_the_words_must_match(app, user):
    add_notes(
        app,
        "ann@example.com",
        [("Shopping", "milk and bread"), ("Breakfast", "milk, eggs"), ("Bakery", "bread rolls")],
    )
    assert hits(user, "milk bread") == ["Shopping"]
    assert sorted(hits(user, "milk")) == ["Breakfast", "Shopping"]


def test_a_quoted_phrase_matches_the_words_side_by_side_in_order(app, user):
    add_notes(
        app,
        "ann@example.com",
        [
            ("In order", "the quick brown fox"),
            ("Reversed", "a brown quick fox"),
            ("Apart", "quick thinking, brown hair"),
        ],
    )
    assert hits(user, '"quick brown"') == ["In order"]
    assert sorted(hits(user, "quick brown")) == ["Apart", "In order", "Reversed"]
    assert hits(user, '"quick brown') == ["In order"]  # an unclosed quote runs to the end


def test_a_minus_leaves_out_notes_with_the_word_or_phrase(app, user):
    add_notes(
        app,
        "ann@example.com",
        [("Cats", "pets: cats"), ("Dogs", "pets: dogs"), ("Both", "pets: cats and dogs")],
    )
    assert hits(user, "pets -cats") == ["Dogs"]
    assert sorted(hits(user, 'pets -"cats and dogs"')) == ["Cats", "Dogs"]


def test_a_star_matches_words_starting_so(app, user):
    add_notes(
        app,
        "ann@example.com",
        [("Space", "planets and stars"), ("Work", "the plan for monday"), ("Other", "plain")],
    )
    assert sorted(hits(user, "plan*")) == ["Space", "Work"]
    assert hits(user, "plan") == ["Work"]


def test_a_korean_word_finds_it_with_particles_attached(app, user):
    add_notes(
        app,
        "ann@example.com",
        [
            ("회의록", "오늘 메모를 정리했다"),
            ("할 일", "메모가 많다"),
            ("Unrelated", "일기"),
        ],
    )
    assert sorted(hits(user, "메모")) == ["할 일", "회의록"]
    assert hits(user, "메모 정리") == ["회의록"]
    assert hits(user, '"메모 정리"') == ["회의록"]
    assert hits(user, "회의록") == ["회의록"]


def test_a_korean_query_word_with_a_particle_finds_the_word_with_any_particle_or_none(
    user, ann_api
):
    for title, content in [
        ("회의록", "회의록 정리"),
        ("월요일", "회의록을 보냈다"),
        ("예약", "3층 회의실에서 만나요"),
        ("Unrelated", "회의는 없다"),
    ]:
        assert ann_api.post("/notes", {"title": title, "content": content}).status_code == 201
    assert sorted(hits(user, "회의록은")) == ["월요일", "회의록"]
    assert hits(user, "회의실을") == ["예약"]
    assert hits(user, "회의록은 정리") == ["회의록"]
    found = ann_api.get("/search?q=회의실을").get_json()["items"]
    assert [note["title"] for note in found] == ["예약"]
    found = ann_api.get("/search?q=회의록은").get_json()["items"]
    assert sorted(note["title"] for note in found) == ["월요일", "회의록"]


def test_english_words_are_found_by_their_stem(app, user):
    add_notes(
        app,
        "ann@example.com",
        [("Morning", "I went running"), ("Evening", "She runs daily"), ("Noon", "ruins")],
    )
    assert sorted(hits(user, "run")) == ["Evening", "Morning"]
    assert sorted(hits(user, "Running")) == ["Evening", "Morning"]


def test_notes_in_both_languages_are_found_together(app, user):
    add_notes(app, "ann@example.com", [("Flask 메모", "running notes, 오늘의 메모를 남긴다")])
    assert hits(user, "메모 run") == ["Flask 메모"]


def test_a_word_in_the_title_ranks_above_the_same_word_in_the_content(app, user):
    add_notes(
        app,
        "ann@example.com",
        [("Budget", "see the travel plans"), ("Travel", "notes"), ("Misc", "travel, travel")],
    )
    assert hits(user, "travel")[0] == "Travel"


def test_newer_notes_come_first_among_equal_matches(app, user):
    add_notes(app, "ann@example.com", [("older", "equal words"), ("newer", "equal words")])
    assert hits(user, "equal") == ["newer", "older"]


def test_matching_words_are_highlighted_and_the_rest_escaped(app, user):
    add_notes(
        app,
        "ann@example.com",
        [
            (
                '<script>alert("t")</script> plans',
                'the <b>plans</b> <mark>for</mark> <img src=x onerror=alert(1)> "&amp;" plans',
            )
        ],
    )
    page = user.get("/search?q=plan").get_data(as_text=True)
    listed = hit_list(page)
    assert "&lt;script&gt;alert(&#34;t&#34;)&lt;/script&gt; <mark>plans</mark>" in listed
    snippet = re.search(r'<p class="snippet">(.*?)</p>', listed, re.DOTALL).group(1)
    # The snippet is the Markdown's plain text, as the note page shows it: raw HTML is text,
    # and `&amp;` is Markdown's entity for "&".
    assert snippet == (
        "the &lt;b&gt;<mark>plans</mark>&lt;/b&gt; &lt;mark&gt;for&lt;/mark&gt; "
        "&lt;img src=x onerror=alert(1)&gt; &#34;&amp;&#34; <mark>plans</mark>"
    )
    assert elements_in(listed) == HIT_ELEMENTS


def test_highlight_marks_inside_a_stored_note_cannot_make_markup(app, user):
    # Forms refuse control characters, but a row written some other way may hold the very
    # characters ts_headline marks matches with: they are dropped, never trusted.
    add_notes(app, "ann@example.com", [("\x01<i>x</i>\x02 plans", "\x02<b>\x01plans\x02</b>\x01")])
    page = user.get("/search?q=plans").get_data(as_text=True)
    listed = hit_list(page)
    assert "&lt;i&gt;x&lt;/i&gt; <mark>plans</mark>" in listed
    assert "&lt;b&gt;<mark>plans</mark>&lt;/b&gt;" in listed
    assert "\x01" not in listed and "\x02" not in listed
    assert elements_in(listed) == HIT_ELEMENTS


def test_only_stop_words_say_clearly_that_nothing_can_be_found(app, user):
    add_notes(app, "ann@example.com", [("The", "and the of it")])
    response = user.get("/search?q=the+and+of")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert titles(page) == []
    assert no_results_message(page).startswith("No results: the search has only very common words")


def test_only_excluded_words_say_what_to_add(app, user):
    add_notes(app, "ann@example.com", [("Cats", "cats")])
    page = user.get("/search?q=-dogs").get_data(as_text=True)
    assert titles(page) == []
    assert "say what to look for as well as what to leave out" in no_results_message(page)


def test_no_match_says_so(app, user):
    add_notes(app, "ann@example.com", [("Cats", "cats")])
    page = user.get("/search?q=giraffe").get_data(as_text=True)
    assert no_results_message(page) == "No notes match “giraffe”."


@pytest.mark.parametrize(
    "query",
    ["'", "&", "|", "!", ":", "*", "(", ")", "' & | ! : * ( )", "a:* & !(b | c)", "'a''b'", "\\"],
)
def test_query_syntax_characters_are_only_text(app, user, query):
    add_notes(app, "ann@example.com", [("Pets", "cats & dogs (and birds)")])
    response = user.get("/search", query_string={"q": query})
    assert response.status_code == 200
    assert titles(response.get_data(as_text=True)) == []


def test_words_among_syntax_characters_are_still_found(app, user):
    add_notes(app, "ann@example.com", [("Pets", "cats & dogs (and birds)")])
    assert hits(user, "(cats & dogs) | !birds:*") == ["Pets"]
    assert hits(user, "'cats'") == ["Pets"]


def test_a_5000_character_query_is_refused_with_a_message(user):
    response = user.get("/search", query_string={"q": "word " * 1000})
    assert response.status_code == 400
    assert "Search for at most 200 characters." in response.get_data(as_text=True)


@pytest.mark.parametrize("character", ["\x00", "\x07", "\x1b", "\x7f", "\x9b"])
def test_nul_and_control_characters_are_refused_with_a_message(user, character):
    response = user.get("/search", query_string={"q": f"milk{character}bread"})
    assert response.status_code == 400
    assert "Please remove control characters from this field." in response.get_data(as_text=True)


def test_tabs_and_line_breaks_separate_words(app, user):
    add_notes(app, "ann@example.com", [("Shopping", "milk and bread")])
    assert hits(user, "milk\tbread\r\n") == ["Shopping"]


def test_other_users_notes_never_appear(app, user, other_user):
    add_notes(app, "ann@example.com", [("Ann's plans", "secret zebracorn 메모를")])
    add_notes(app, "bob@example.com", [("Bob's plans", "zebracorn too 메모가")])
    for query in ("zebracorn", "plans", "메모", "zebra*", "-nothing zebracorn"):
        assert hits(other_user, query) == ["Bob's plans"]
        assert hits(user, query) == ["Ann's plans"]
    assert "Ann" not in other_user.get("/search?q=secret").get_data(as_text=True)


def test_a_note_is_found_by_its_new_words_once_edited(user):
    location = user.create_note("Groceries", "milk").headers["Location"]
    assert hits(user, "milk") == ["Groceries"]
    user.submit(f"{location}/edit", {"title": "Hardware", "content": "nails"})
    assert hits(user, "milk") == []
    assert hits(user, "nails") == ["Hardware"]


def test_results_come_twenty_a_page_with_links_between_pages(app, user):
    add_notes(app, "ann@example.com", [(f"note-{n:02d}", "common") for n in range(45)])
    first = user.get("/search?q=common").get_data(as_text=True)
    assert "45 notes match" in first
    assert titles(first) == [f"note-{n:02d}" for n in range(44, 24, -1)]
    assert "Better matches" not in first
    second = user.get("/search?q=common&page=2").get_data(as_text=True)
    assert titles(second) == [f"note-{n:02d}" for n in range(24, 4, -1)]
    assert 'href="/search?q=common&amp;page=3"' in second
    assert 'href="/search?q=common&amp;page=1"' in second
    third = user.get("/search?q=common&page=3").get_data(as_text=True)
    assert titles(third) == [f"note-{n:02d}" for n in range(4, -1, -1)]
    assert "More matches" not in third


@pytest.mark.parametrize("page", ["0", "-1", "x", "²", "4", "501", "9" * 5000])
def test_a_page_that_cannot_exist_is_404(app, user, page):
    add_notes(app, "ann@example.com", [("Note", "common")] * 3)
    response = user.get("/search", query_string={"q": "common", "page": page})
    assert response.status_code == 404
    assert "That page of results does not exist." in response.get_data(as_text=True)


def test_queries_become_tsqueries_and_index_keys_of_the_users_own_words(app):
    with app.app_context():
        query = normalize(parse('Running "quick brown fox" -cats plan* 메모를 "the end" -'))
        db.session.rollback()
    assert query.tsquery() == (
        "('run') & ('quick' <-> 'brown' <-> 'fox') & !('cat') & ('plan':*) & ('메모':*) & ('end')"
    )
    assert query.keys(7) == (
        "'7:run' & '7:quick' & '7:brown' & '7:fox' & '7:plan':* & '7:메모':* & '7:end'"
    )


def test_stop_words_inside_a_phrase_keep_their_place(app):
    with app.app_context():
        query = normalize(parse('"state of the art"'))
        db.session.rollback()
    assert query.tsquery() == "('state' <3> 'art')"


def test_a_snippet_shows_the_words_around_the_first_matches_of_a_long_note(app, user):
    filler = " ".join(f"filler{n}" for n in range(400))
    content = f"{filler} the giraffe ran. {filler} a second giraffe. {filler} third giraffe"
    add_notes(app, "ann@example.com", [("Zoo", content)])
    page = user.get("/search?q=giraffe").get_data(as_text=True)
    snippet = re.search(r'<p class="snippet">(.*?)</p>', page, re.DOTALL).group(1)
    fragments = snippet.split(" … ")
    assert snippet.startswith("… filler") and snippet.endswith(" …")
    assert len(fragments) == 2
    assert "the <mark>giraffe</mark> ran." in fragments[0]
    assert "a second <mark>giraffe</mark>." in fragments[1]
    assert "third" not in snippet
    assert len(unescape(re.sub(r"<[^>]+>", "", snippet))) < 450


def test_a_note_found_by_its_title_shows_the_start_of_its_content(app, user):
    add_notes(app, "ann@example.com", [("Giraffe", "tall animals " * 100)])
    page = user.get("/search?q=giraffe").get_data(as_text=True)
    snippet = re.search(r'<p class="snippet">(.*?)</p>', page, re.DOTALL).group(1)
    assert snippet.startswith("tall animals tall") and snippet.endswith(" …")
    assert "<mark>" not in snippet
