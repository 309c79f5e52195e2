"""The notes list's rows, made ready for its template once a request (issue #51).

A row of the list's statement (app/notes/paging.py) becomes a `ListedNote`: plain values the
template only prints. What a row would otherwise ask the template to call (the note's address,
its time, the words of its tick box and its task count) is worked out here, each translated
string looked up once a request and formatted with plain `%` as text, which the template
escapes once when it prints it. The template makes no call a note, and reads no attribute of
a SQLAlchemy `Row` (each such read goes through `Row.__getattr__`). This took the list from
16.92 to ... M instructions a request (bench/instructions.py; docs/performance.md).
"""

from typing import NamedTuple

from flask_babel import gettext

from app.i18n.formats import time_elements


class ListedNote(NamedTuple):
    """One note as the list shows it."""

    id: int
    title: str
    url: str  # the note's page
    completed: bool
    pinned: bool
    preview: str | None
    open_tasks: list | None  # [(number, text)]: its first open task items, while current
    tasks_url: str  # the first part of a task's tick address: its number follows
    version: int
    done_label: str  # the tick box's name: "Done: “title”", plain text
    edited: bool  # shows its last edit's time (else its creation's)
    when: str  # the time shown, a <time> element (Markup)
    tasks: str  # "2/5 done", plain text, or "" for a note without tasks


def listed_notes(rows, by_creation, note_url, task_url):
    """Return the list's `rows` as `ListedNote`s; `note_url` and `task_url` are format
    strings of a note's address and its tasks' (app/notes/routes.py, note_url_format)."""
    done_label, tasks_done = gettext("Done: “%(title)s”"), gettext("%(done)s/%(total)s done")
    when = time_elements()
    listed = []
    for row in rows:
        edited = not by_creation and row.edited
        tasks = ""
        if row.tasks_total:
            tasks = tasks_done % {"done": row.tasks_done, "total": row.tasks_total}
        listed.append(
            ListedNote(
                id=row.id,
                title=row.title,
                url=note_url.format(row.id),
                completed=row.completed,
                pinned=row.pinned,
                preview=row.preview,
                open_tasks=row.open_tasks,
                tasks_url=task_url.format(row.id) if row.open_tasks else "",
                version=row.version,
                done_label=done_label % {"title": row.title},
                edited=edited,
                when=when(row.updated_at if edited else row.created_at),
                tasks=tasks,
            )
        )
    return listed
