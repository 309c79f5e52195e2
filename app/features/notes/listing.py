"""The notes list's rows, made ready for its template once a request (issue #51).

A row of the list's statement (app/features/notes/paging.py) becomes a `ListedNote`: plain values
the template only prints. What a row would otherwise ask the template to call (the note's address,
its time, the words of its tick box and its task count) is worked out here, each translated
string looked up once a request and formatted with plain `%` as text, which the template
escapes once when it prints it. The template makes no call a note: 16.92 to 14.76 M
instructions a list request (bench/instructions.py, N = 30). A row is read as a tuple, not by
name (each `row.name` goes through SQLAlchemy's `Row.__getattr__`): 14.76 to 13.69 M more.
"""

from typing import NamedTuple

from flask_babel import gettext

from app.features.notes.paging import LISTED
from app.i18n.formats import time_elements

# The columns of the list's statement, in its order: a row is unpacked as a tuple.
COLUMNS = (
    "id",
    "title",
    "created_at",
    "updated_at",
    "completed",
    "pinned",
    "preview",
    "tasks_done",
    "tasks_total",
    "version",
    "open_tasks",
    "edited",
    "reminder_at",
)
if tuple(LISTED.selected_columns.keys()) != COLUMNS:
    raise RuntimeError(
        "app/features/notes/listing.py: COLUMNS are not the list statement's columns"
    )


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
    reminder_at: object  # when its reminder fires next, or None


def listed_notes(rows, by_creation, note_url, task_url):
    """Return the list's `rows` as `ListedNote`s; `note_url` and `task_url` are format
    strings of a note's address and its tasks' (app/features/notes/routes.py, note_url_format)."""
    if not rows:
        return []
    done_label, tasks_count = gettext("Done: “%(title)s”"), gettext("%(done)s/%(total)s done")
    when = time_elements()
    listed = []
    for row in rows:
        (
            note_id,
            title,
            created_at,
            updated_at,
            completed,
            pinned,
            preview,
            tasks_done,
            tasks_total,
            version,
            open_tasks,
            edited,
            reminder_at,
        ) = row
        edited = edited and not by_creation
        tasks = ""
        if tasks_total:
            tasks = tasks_count % {"done": tasks_done, "total": tasks_total}
        listed.append(
            ListedNote(
                id=note_id,
                title=title,
                url=note_url.format(note_id),
                completed=completed,
                pinned=pinned,
                preview=preview,
                open_tasks=open_tasks,
                tasks_url=task_url.format(note_id) if open_tasks else "",
                version=version,
                done_label=done_label % {"title": title},
                edited=edited,
                when=when(updated_at if edited else created_at, relative=True),
                tasks=tasks,
                reminder_at=reminder_at,
            )
        )
    return listed
