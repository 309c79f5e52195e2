"""How words are counted: the text a reader sees, what a word is, stop words (Korean too)."""

import time

import pytest

from app.features.wordcount.counting import TOP_WORDS, count_words, top_words, visible_text, words


def test_korean_stop_words_are_left_out_even_with_their_particles():
    text = "그리고 우리가 메모를 썼어요. 그리고 우리는 메모를 읽었어요. 그것은 좋은 메모예요."
    all_words, without_stop_words = count_words(text)
    assert ["그리고", 2] in all_words["top"]
    kept = [word for word, _ in without_stop_words["top"]]
    assert "메모를" in kept and "썼어요" in kept
    assert not {"그리고", "우리가", "우리는"} & set(kept)


def test_visible_text_leaves_out_what_a_reader_does_not_see():
    html = (
        "<head><title>T</title><style>p{}</style></head>"
        "<body><p>Hello <b>W</b>orld</p><script>if (a < b) {}</script><div>a&amp;b</div>"
        "<noscript>N</noscript><template>X</template><iframe>F</iframe><p>end</body>"
    )
    assert visible_text(html).split() == ["Hello", "World", "a&b", "end"]


def test_markup_is_read_as_a_browser_reads_it():
    html = (
        "<!doctype html><p>1 &lt; 2 and 3 < 4</p>"
        '<img alt="a > b">after<textarea>typed <b>text</b></textarea>'
        "<script>x = '</scr' + 'ipt>'</script>shown<!-- hidden -->"
    )
    assert visible_text(html).split() == [
        "1", "<", "2", "and", "3", "<", "4", "after", "typed", "<b>text</b>", "shown",
    ]  # fmt: skip


def test_a_page_ending_inside_a_tag_or_comment_ends_there():
    assert visible_text("kept <a href='never closed").split() == ["kept"]
    assert visible_text("kept <!-- never closed").split() == ["kept"]


@pytest.mark.parametrize(
    "html",
    ["<a" * 1_000_000, "<" * 2_000_000, "<p>a</p>" * 250_000, '<a "' * 500_000],
    ids=["open-tags", "angles", "tags", "quotes"],
)
def test_hostile_markup_takes_linear_time(html):
    # Python 3.11's html.parser needs minutes for the first of these.
    started = time.monotonic()
    count_words(visible_text(html))
    assert time.monotonic() - started < 5


def test_a_missing_head_end_tag_still_ends_the_head():
    assert visible_text("<head><title>T</title><p>body text").split() == ["body", "text"]


def test_block_tags_separate_words():
    assert words(visible_text("<li>one</li><li>two</li>one<br>two")) == [
        "one",
        "two",
        "one",
        "two",
    ]


def test_words_are_case_folded_and_unicode_aware():
    assert words("Straße STRASSE Café café CAFE\u0301 ﬁsh Ａｂｃ") == [
        "strasse",
        "strasse",
        "café",
        "café",
        "café",
        "fish",
        "abc",
    ]
    assert words("हिन्दी भाषा, Ελληνικά; русский-язык") == [
        "हिन्दी",
        "भाषा",
        "ελληνικά",
        "русский",
        "язык",
    ]


def test_apostrophes_inside_words_stay_and_quotes_go():
    assert words("Don’t say 'hello', o'clock users' rock 'n' roll") == [
        "don't",
        "say",
        "hello",
        "o'clock",
        "users",
        "rock",
        "n",
        "roll",
    ]


def test_numbers_identifiers_and_long_runs_are_not_words():
    assert words("2024 10,000 3d snake_case " + "x" * 41) == ["3d", "snake", "case"]


def test_stop_words_are_left_out_of_the_second_count():
    all_words, without_stop_words = count_words("The cat and the hat. Don’t stop!")
    assert all_words["top"][0] == ["the", 2]
    assert without_stop_words == {
        "total": 3,
        "distinct": 3,
        "top": [["cat", 1], ["hat", 1], ["stop", 1]],
    }


def test_a_count_keeps_the_top_words_only_ties_alphabetical():
    found = [f"w{number:03d}" for number in range(300)] + ["zebra"] * 3
    counted = top_words(found)
    assert counted["total"] == 303 and counted["distinct"] == 301
    assert len(counted["top"]) == TOP_WORDS
    assert counted["top"][:3] == [["zebra", 3], ["w000", 1], ["w001", 1]]
