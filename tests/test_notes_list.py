"""The notes list shows what is inside: a preview line, the edited time and task counts,
last edited first (pinned first), or by creation on request; against the real database."""

import re
from html import unescape

import pytest

from tests.databases import run_sql
from tests.note_writers import set_up_directly
from tests.noting import listed, note_id_of

ROW = re.compile(r"<li[^>]*>(.*?)</li>", re.S)


def rows(user, path="/"):
    """Return each listed note's row as (title, preview or None, its time's words, tasks)."""
    found = []
    for row in ROW.findall(user.get(path).get_data(as_text=True)):
        title = re.search(r'<a href="/notes/\d+">([^<]+)</a>', row)
        if title is None:
            continue
        preview = re.search(r'<span class="preview">([^<]*)</span>', row)
        when = re.search(r'<span class="when">(\w+)', row)
        tasks = re.search(r'<span class="tasks">([^<]*)</span>', row)
        found.append(
            (
                unescape(title[1]),
                preview and unescape(preview[1]),
                when and when[1],
                tasks and tasks[1],
            )
        )
    return found


def edit(user, note, title, content, version=1):
    response = user.post(
        f"/notes/{note}/edit", {"title": title, "content": content, "version": str(version)}
    )
    assert response.status_code == 302


def test_a_row_shows_a_plain_text_preview_its_time_and_its_task_counts(user):
    user.create_note("Plain", "just words\non two lines")
    note = note_id_of(
        user.create_note(
            "Tasks", "## Today\n\n- [x] **call** [Bob](https://b.example)\n- [ ] write"
        )
    )
    assert rows(user) == [
        ("Tasks", None, "Written", "1/2 done"),  # its open item says it
        ("Plain", "just words on two lines", "Written", None),
    ]
    edit(user, note, "Tasks", "- [x] call\n- [x] write")
    assert rows(user)[0] == ("Tasks", "call write", "Edited", "2/2 done")


def test_a_long_preview_is_one_line_cut_short(user):
    user.create_note("Long", "word " * 500)
    [(_, preview, _, _)] = rows(user)
    assert len(preview) == 140 and preview.endswith("…") and "\n" not in preview


def test_the_list_is_last_edited_first_pinned_first_or_by_creation(user):
    first, second, third = (note_id_of(user.create_note(title)) for title in ("A", "B", "C"))
    assert listed(user) == ["C", "B", "A"]
    edit(user, first, "A", "changed")
    assert listed(user) == ["A", "C", "B"]
    assert user.post(f"/notes/{second}/pin").status_code == 302
    assert listed(user) == ["B", "A", "C"]
    # Pinning, archiving and ticking a note done do not edit its text: its time stays.
    assert user.post(f"/notes/{third}/archive").status_code == 302
    assert user.post(f"/notes/{third}/unarchive").status_code == 302
    assert user.post(f"/notes/{third}/toggle").status_code == 302
    assert listed(user) == ["B", "A", "C"]
    assert [when for _, _, when, _ in rows(user)] == ["Written", "Edited", "Written"]
    assert listed(user, "/?sort=created") == ["B", "C", "A"]
    page = user.get("/?sort=created").get_data(as_text=True)
    assert '<a href="/">last edited</a>' in page


def test_both_orders_page_through_every_note_once(app, user, monkeypatch):
    monkeypatch.setitem(app.config, "NOTE_WRITES_PER_MINUTE", 1000)
    notes = [note_id_of(user.create_note(f"note-{number:02d}")) for number in range(45)]
    for number in (3, 10, 30):  # edited: they come first, the last edited first
        edit(user, notes[number], f"note-{number:02d}", "edited")
    edited_order = ["note-30", "note-10", "note-03"] + [
        f"note-{n:02d}" for n in range(44, -1, -1) if n not in (3, 10, 30)
    ]
    created_order = [f"note-{n:02d}" for n in range(44, -1, -1)]
    for start, expected in (("/", edited_order), ("/?sort=created", created_order)):
        seen, path = [], start
        while path:
            page = user.get(path).get_data(as_text=True)
            seen += re.findall(r">(note-\d\d)<", page)
            older = re.search(r'rel="next" href="([^"]+)"', page)
            path = older and unescape(older[1])
            if path and "sort=created" in start:
                assert "sort=created" in path
        assert seen == expected


@pytest.mark.parametrize("query", ["sort=title", "sort=", "sort=created&sort=x"])
def test_an_unknown_order_is_404(user, query):
    user.create_note()
    assert user.get(f"/?{query}").status_code in (200, 404)
    if not query.startswith("sort=created"):
        assert user.get(f"/?{query}").status_code == 404


def test_the_worker_summarises_notes_the_previous_release_wrote(app, user):
    # The release before summaries inserts notes without them.
    user.create_note("Kept", "kept")
    with set_up_directly():
        run_sql(
            app,
            "INSERT INTO note (title, content, created_at, updated_at, user_id)"
            " SELECT 'Older release', '- [x] **done**', now(), now(), id FROM \"user\"",
        )
    assert rows(user)[0] == ("Older release", None, "Written", None)
    with app.app_context():
        from app.features.notes.tasks import retag_notes

        retag_notes(timestamp=0)
    assert rows(user)[0] == ("Older release", "done", "Written", "1/1 done")
