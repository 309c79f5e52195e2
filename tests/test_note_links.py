"""Links between notes (`[[Title]]`, `[[Title|words]]`, `[[#42]]`): what a note page shows of
them, "linked from", and that a link never reaches another account's note."""

import re

from sqlalchemy import text

from app.extensions import db
from app.features.notes import links
from app.markdown import render
from app.models import Note
from app.wikilinks import LINKS_MAX
from tests.apiclients import statements_run
from tests.linking import write_notes
from tests.note_writers import set_up_directly
from tests.noting import make_link, note_id_of, page, save


def anchors(html):
    """Return the (class, href, words) of each link in a page's note card."""
    card = html.split('class="content markdown">', 1)[1].split("</div>", 1)[0]
    found = re.findall(r'<a(?: class="([a-z]+)")? href="([^"]+)"[^>]*>([^<]*)</a>', card)
    return [(kind, address, words) for kind, address, words in found]


def test_a_title_link_goes_to_the_note_of_that_title_case_and_width_folded(user):
    target = note_id_of(user.create_note("장보기 List", "우유"))
    source = note_id_of(user.create_note("오늘", "[[장보기 list]] 그리고 [[ＬＩＳＴ|목록]]"))
    shown = anchors(page(user.get(f"/notes/{source}")))
    assert shown[0] == ("", f"/notes/{target}", "장보기 List")
    assert shown[1][0] == "missing" and shown[1][1].startswith("/notes/new?title=")
    assert shown[1][2] == "목록"


def test_words_and_ids_name_the_note_and_a_missing_one_offers_to_write_it(user):
    target = note_id_of(user.create_note("Plan", "x"))
    source = note_id_of(user.create_note("Day", f"[[Plan|the plan]] [[#{target}]] [[Trip]]"))
    shown = anchors(page(user.get(f"/notes/{source}")))
    assert shown == [
        ("", f"/notes/{target}", "the plan"),
        ("", f"/notes/{target}", "Plan"),
        ("missing", "/notes/new?title=Trip", "Trip"),
    ]
    written = page(user.get("/notes/new?title=Trip"))
    assert 'value="Trip"' in written


def test_the_most_recently_edited_of_two_notes_of_one_title_is_named(user):
    older = note_id_of(user.create_note("Plan", "old"))
    newer = note_id_of(user.create_note("Plan", "new"))
    source = note_id_of(user.create_note("Day", "[[plan]]"))
    assert anchors(page(user.get(f"/notes/{source}")))[0][1] == f"/notes/{newer}"
    save(user, older, "old, edited")
    assert anchors(page(user.get(f"/notes/{source}")))[0][1] == f"/notes/{older}"


def test_a_link_to_a_same_titled_note_in_another_account_never_resolves(user, other_user):
    bobs = note_id_of(other_user.create_note("Secret plan", "bob's"))
    source = note_id_of(user.create_note("Day", f"[[Secret plan]] [[#{bobs}]]"))
    html = page(user.get(f"/notes/{source}"))
    assert f"/notes/{bobs}" not in html
    assert anchors(html) == [("missing", "/notes/new?title=Secret+plan", "Secret plan")]
    assert f"#{bobs}" in html  # the id link is its own text, no link
    assert "Day" not in page(other_user.get(f"/notes/{bobs}")).split("</article>")[1]


def test_a_link_to_a_trashed_note_says_so(user):
    target = note_id_of(user.create_note("Plan", "x"))
    source = note_id_of(user.create_note("Day", "[[Plan]]"))
    user.post(f"/notes/{target}/delete")
    html = page(user.get(f"/notes/{source}"))
    assert anchors(html)[0][:2] == ("trashed", f"/notes/{target}")
    assert "(in the trash)" in html


def test_a_shared_page_shows_links_as_text_and_no_other_title(user):
    user.create_note("Private name", "x")
    source = note_id_of(user.create_note("Day", "[[Private name|see]] [[#1]]"))
    shared = page(user.client.get(make_link(user, source)))
    card = shared.split('class="content markdown">', 1)[1].split("</div>", 1)[0]
    assert "<a" not in card and "see" in card and "#1" in card
    assert "Private name" not in shared


def test_linked_from_lists_the_live_notes_that_link_newest_first(user):
    target = note_id_of(user.create_note("Plan", "x"))
    first = note_id_of(user.create_note("First", "[[Plan]] and [[plan]]"))
    second = note_id_of(user.create_note("Second", f"[[#{target}]]"))
    trashed = note_id_of(user.create_note("Gone", "[[Plan]]"))
    user.post(f"/notes/{trashed}/delete")
    html = page(user.get(f"/notes/{target}"))
    listed = re.findall(
        r'<li><a href="/notes/(\d+)">([^<]+)</a></li>', html.split("Linked from")[1]
    )
    assert listed == [(str(second), "Second"), (str(first), "First")]


def test_a_newer_note_of_the_same_title_takes_the_title_links(user):
    older = note_id_of(user.create_note("Plan", "x"))
    user.create_note("Day", "[[Plan]]")
    assert "Linked from" in page(user.get(f"/notes/{older}"))
    user.create_note("Plan", "newer")
    assert "Linked from" not in page(user.get(f"/notes/{older}"))


def test_past_500_links_a_note_the_rest_are_text():
    html = str(render("[[a]] " * (LINKS_MAX + 3), link=lambda target, words: "L"))
    assert html.count("L") == LINKS_MAX and html.count("[[a]]") == 3


def test_a_link_is_escaped_and_never_made_inside_a_link_or_code():
    html = str(render('[[<b>"x"|<i>]] `[[code]]` \\[[escaped]]'))
    assert "&lt;i&gt;" in html and "<i>" not in html
    assert "<code>[[code]]</code>" in html and "[[escaped]]" in html


def test_backlinks_of_a_note_linked_from_10000_notes_take_one_statement(app, user):
    target = note_id_of(user.create_note("Plan", "x"))
    with app.app_context(), set_up_directly(), db.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO note (title, content, created_at, updated_at, user_id, title_key)"
                " SELECT 'from ' || n, '[[Plan]]', now(), now() - n * interval '1 second',"
                " u.id, 'from ' || n FROM generate_series(1, 10000) AS n, \"user\" AS u"
            )
        )
        connection.execute(
            text(
                "INSERT INTO note_link (from_note_id, position, user_id, title_key)"
                " SELECT id, 0, user_id, 'plan' FROM note WHERE title LIKE 'from %'"
            )
        )
        connection.execute(text("ANALYZE note; ANALYZE note_link"))
    with app.app_context():
        note = db.session.get(Note, target)
        with statements_run(app) as seen:
            first = links.backlinks(note)
        assert len(seen) == 1
        assert [row.title for row in first[:2]] == ["from 1", "from 2"]
        assert len(first) == links.BACKLINKS_PAGE + 1
        later = links.backlinks(note, before=first[links.BACKLINKS_PAGE - 1].id)
        assert later[0].title == f"from {links.BACKLINKS_PAGE + 1}"
    html = page(user.get(f"/notes/{target}"))
    assert html.count('<li><a href="/notes/') == links.BACKLINKS_PAGE
    assert "More notes that link here" in html


def test_the_api_lists_a_notes_links_and_its_backlinks_a_page_at_a_time(app, ann_api, bob_api):
    plan = ann_api.new_note("Plan", "x")
    first = ann_api.new_note("First", f"[[Plan]] [[#{plan['id']}]] [[Nowhere]]")
    bobs = bob_api.new_note("Plan", "bob's")
    assert first["links"] == [plan["id"]]
    assert ann_api.get(f"/notes/{first['id']}").get_json()["links"] == [plan["id"]]
    listed = ann_api.get("/notes").get_json()["items"]
    assert {note["title"]: note["links"] for note in listed}["First"] == [plan["id"]]
    write_notes(app, [(f"Note {number}", "[[plan]]") for number in range(links.BACKLINKS_PAGE)])
    answer = ann_api.get(f"/notes/{plan['id']}/backlinks").get_json()
    assert len(answer["items"]) == links.BACKLINKS_PAGE
    assert answer["items"][0]["title"] == "Note 49"
    rest = ann_api.get(f"/notes/{plan['id']}/backlinks?cursor={answer['next_cursor']}")
    assert rest.get_json() == {
        "items": [{"id": first["id"], "title": "First"}],
        "next_cursor": None,
    }
    assert bob_api.get(f"/notes/{bobs['id']}/backlinks").get_json()["items"] == []
    assert bob_api.get(f"/notes/{plan['id']}/backlinks").status_code == 404
    forged = ann_api.get(f"/notes/{plan['id']}/backlinks?cursor=forged")
    assert forged.status_code == 400


def test_export_and_import_carry_links_as_written(app, user):
    shopping, today = write_notes(app, [("장보기", "우유"), ("오늘", "[[장보기|목록]] 사기")])
    with app.app_context():
        note = db.session.get(Note, today)
        assert "[[장보기|목록]] 사기" in note.markdown()
        assert note.export()["content"] == "[[장보기|목록]] 사기"
    assert anchors(page(user.get(f"/notes/{today}")))[0] == ("", f"/notes/{shopping}", "목록")
