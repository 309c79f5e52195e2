"""Tags in Korean text: a particle glued to a tag is not part of it (`#회의록은` is 회의록), by
the rule docs/organise.md gives with its examples; the rule's invariants by Hypothesis; and
what an account sees once its notes are read again."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.tags import PARTICLES, SHARED_ENDINGS, fits, note_tags, stem_of, tag_name
from tests.databases import run_sql
from tests.noting import note_id_of


@pytest.mark.parametrize(
    ("text", "tags"),
    [
        ("#회의록은 오늘 정리했다", ["회의록"]),
        ("#학생들에게는 #서울에서 #부산으로 #토요일에", ["학생들", "서울", "부산", "토요일"]),
        ("#AI는 #iPhone을 #work", ["ai", "iphone", "work"]),
        # Words that end like a particle keep it: the sound does not fit, or one letter is left.
        (
            "#가을을 #시골마을 #사과 #결과는 #집으로 #회의는",
            ["가을", "시골마을", "사과", "결과", "집으로", "회의"],
        ),
        # 이, 가, 의, 도, 로, 과 also end many words: cut only beside the bare tag.
        (
            "#고양이 #여름휴가 #국제회의 #실내온도 #고속도로 #경제학과",
            ["고양이", "여름휴가", "국제회의", "실내온도", "고속도로", "경제학과"],
        ),
        ("#회의록 정리. #회의록이 늦었다", ["회의록"]),
        ("#회의록이 늦었다. 다음 #회의록", ["회의록"]),
        ("#회의록-은 #회의록_는", ["회의록-은", "회의록_는"]),
    ],
)
def test_a_particle_glued_to_a_tag_is_cut_off(text, tags):
    assert note_tags(text, "") == tags


def test_a_filter_or_search_names_a_tag_as_a_note_does():
    assert tag_name("#회의록은") == "회의록" and tag_name("고양이") == "고양이"


SYLLABLES = st.integers(0xAC00, 0xD7A3).map(chr)
WORDS = st.text(
    alphabet=st.one_of(SYLLABLES, st.sampled_from("abcXYZ019_-")), min_size=1, max_size=12
)


@given(st.lists(WORDS, min_size=1, max_size=6))
def test_a_tag_is_what_was_written_or_its_start_and_is_a_tag_of_itself(words):
    text = " ".join(f"#{word}" for word in words)
    found = note_tags(text, "")
    for tag in found:
        assert any(word.lower().strip("-_").startswith(tag) for word in words)
        assert note_tags(f"#{tag}", "") == [tag]  # stable: read again, the same tag


@given(st.lists(SYLLABLES, min_size=2, max_size=5).map("".join), st.sampled_from(sorted(PARTICLES)))
def test_a_particle_that_fits_after_a_korean_word_leaves_the_word(stem, particle):
    if stem_of(stem) != stem or not fits(stem, PARTICLES[particle]):
        return  # a stem that itself ends in a particle, or a particle its sound does not take
    assert note_tags(f"#{stem}{particle} 다음", "") == [stem]


@given(st.text(alphabet="abcdefXYZ0123_-", min_size=1, max_size=20))
def test_a_tag_without_korean_is_read_as_before(word):
    tag = word.strip("-_").lower()
    assert note_tags(f"#{word}", "") == ([tag] if tag else [])


def test_shared_endings_are_cut_only_beside_the_bare_tag():
    for ending in SHARED_ENDINGS:
        assert note_tags(f"#장보기{ending}", "") == [f"장보기{ending}"]


def test_notes_tagged_by_the_earlier_rule_are_read_again_by_the_worker(app, user):
    note = note_id_of(user.create_note("회의 #회의록은", "내용"))
    # The previous release's save: its rule kept the particle, and it never names read_version.
    run_sql(app, "UPDATE note SET tags = '{회의록은}', version = version + 1")
    assert "회의록은" in user.get("/tags").get_data(as_text=True)
    with app.app_context():
        from app.features.notes.tasks import retag_notes

        retag_notes(timestamp=0)
    tags = user.get("/tags").get_data(as_text=True)
    assert "회의록은" not in tags and "회의록" in tags
    assert f'href="/notes/{note}"' in user.get("/?tag=회의록").get_data(as_text=True)


def test_the_forms_suggestions_are_the_accounts_listed_tags_most_used_first(app, user, other_user):
    user.create_note("one #회의록", "#work")
    user.create_note("two #회의록은", "")
    archived = note_id_of(user.create_note("put away #보관", ""))
    user.post(f"/notes/{archived}/archive")
    other_user.create_note("theirs #비밀", "")
    answer = user.get("/tags/names")
    assert answer.status_code == 200 and answer.headers["Content-Type"] == "application/json"
    assert answer.get_json() == {"tags": ["회의록", "work"]}
    assert other_user.get("/tags/names").get_json() == {"tags": ["비밀"]}
    assert user.post("/tags/names").status_code == 405
    # The form holds the box the script fills, hidden until a tag fits.
    form = user.get("/notes/new").get_data(as_text=True)
    assert 'data-source="/tags/names" hidden' in form


def test_the_suggestions_answer_at_most_200_names(app, user):
    user.create_note("many", "")
    tags = ",".join(f"t{number:03}" for number in range(300))
    run_sql(app, f"UPDATE note SET tags = '{{{tags}}}'")  # more than any text could make
    names = user.get("/tags/names").get_json()["tags"]
    assert len(names) == 200 and names[:2] == ["t000", "t001"]
