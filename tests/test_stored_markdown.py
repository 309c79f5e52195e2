"""A note's Markdown is rendered once per save and stored; the pages serve the stored HTML.
The work of one text is bounded (table cells, nesting), and previews spend a rate."""

import time

from markdown_it import MarkdownIt
from sqlalchemy import update

from app.extensions import db
from app.markdown import FILLED_CELLS_MAX, TABLE_CELLS_MAX, render
from app.models import Note
from devenv.visitors import Browser
from tests.noting import make_link, note_id_of, page
from tests.writes import stored_html

# The attack of the issue: a 20,000-character GFM table of 100 columns over 9,000 one-
# character rows, which markdown-it-py filled to 65,536 cells (700 KiB of HTML).
HEADER = (
    "|" + "|".join("h" for _ in range(100)) + "|\n|" + "|".join("-" for _ in range(100)) + "|\n"
)
WORST = HEADER + "a\n" * ((20_000 - len(HEADER)) // 2)


def test_the_worst_table_renders_within_the_cell_budget():
    started = time.process_time()
    html = render(WORST)
    spent = time.process_time() - started
    assert html.count("<td") + html.count("<th") <= TABLE_CELLS_MAX + 1000
    assert len(html) < 100_000
    assert spent < 1.5  # 0.3 s here; the unbounded table took 1.9 s, on every view


def test_a_table_ends_where_its_filled_in_cells_pass_the_bound_and_the_rest_is_text():
    header = "|a|b|c|d|e|f|g|h|i|j|\n|-|-|-|-|-|-|-|-|-|-|\n"
    rows_kept = FILLED_CELLS_MAX // 9  # each one-cell row is filled in with 9 more
    html = str(render(header + "x\n" * (rows_kept + 5)))
    table, rest = html.split("</table>")
    assert table.count("<tr>") == 1 + rows_kept
    assert rest.count("x") == 5 and "<td" not in rest


def test_the_bound_is_the_parsers_own_and_other_parsers_keep_the_librarys():
    text = HEADER + "a\n" * 200  # 19,800 cells filled in: past ours, within markdown-it's
    assert str(render(text)).count("<tr>") < 20
    other = MarkdownIt("commonmark").enable("table").render(text)
    assert other.count("<tr>") == 201


def test_the_worst_table_is_stored_once_and_served_as_stored(app, user):
    note_id = note_id_of(user.create_note("Table", WORST))
    stored, version = stored_html(app, note_id)
    assert version == 1 and stored.count("<td") <= TABLE_CELLS_MAX + 1000
    assert user.get(f"/notes/{note_id}").status_code == 200


def test_the_note_page_serves_the_stored_html_without_parsing(app, user):
    note_id = note_id_of(user.create_note("Shop", "- [ ] milk\n\n[a link](https://x.example/)"))
    stored, _ = stored_html(app, note_id)
    assert '<memo-box 0 0 "milk">' in stored
    # What the page shows is what was stored: changed in the table, changed on the page.
    with app.app_context():
        marked = stored.replace("a link", "stored, not parsed")
        db.session.execute(update(Note).where(Note.id == note_id).values(rendered=marked))
        db.session.commit()
    html = page(user.get(f"/notes/{note_id}"))
    assert "stored, not parsed" in html and "<memo-box" not in html
    assert 'aria-label="“milk”: not done"' in html  # the box became the page's button
    shared = Browser(app.test_client()).get(
        make_link(user, note_id).removeprefix(app.config["PUBLIC_URL"])
    )
    assert 'rel="nofollow noopener noreferrer">stored, not parsed' in page(shared)
    assert 'role="img" aria-label="Not done"' in page(shared)


def test_a_note_without_stored_html_renders_in_memory_and_the_view_writes_nothing(app, user):
    note_id = note_id_of(user.create_note("Old", "**bold**"))
    with app.app_context():  # as the previous release left it
        db.session.execute(
            update(Note).where(Note.id == note_id).values(rendered=None, rendered_version=None)
        )
        db.session.commit()
    assert "<strong>bold</strong>" in page(user.get(f"/notes/{note_id}"))
    assert stored_html(app, note_id) == (None, None)


def test_a_save_stores_the_new_texts_html(app, user):
    note_id = note_id_of(user.create_note("Plan", "*one*"))
    version = (
        page(user.get(f"/notes/{note_id}/edit"))
        .split('name="version" type="hidden" value="')[1]
        .split('"')[0]
    )
    user.post(f"/notes/{note_id}/edit", {"title": "Plan", "content": "*two*", "version": version})
    assert stored_html(app, note_id) == ("<p><em>two</em></p>\n", 2)
    assert "<em>two</em>" in page(user.get(f"/notes/{note_id}"))


def test_previews_spend_a_rate_of_their_own(app, user, monkeypatch):
    monkeypatch.setitem(app.config, "NOTE_PREVIEWS_PER_MINUTE", 3)
    statuses = [user.post("/notes/preview", {"content": "x"}).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert user.create_note().status_code == 302  # saves have their own budget
