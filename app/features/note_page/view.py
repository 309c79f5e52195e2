"""The note's page: the note, with the panels of its attachments, share links and reminder."""

from functools import cache

from flask import render_template, request, session
from flask_login import current_user, login_required
from sqlalchemy import BigInteger, bindparam

from app.extensions import db
from app.features.attachments.panel import attachments_panel, attachments_read, panel_columns
from app.features.notes import links
from app.features.notes.lookup import not_found, owned_notes
from app.features.notes.renames import count_of
from app.features.notes.routes import bp
from app.features.reminders.panel import push_panel, reminder_panel, reminder_shown
from app.features.shares.links import links_shown
from app.features.shares.routes import NEW_LINK, share_panel
from app.markdown import is_stored, link_targets, render_stored
from app.models import Note, PushSubscription, Reminder
from app.revalidation import revalidated
from app.wikilinks import fold


@cache
def page_read():
    """Return the statement that reads all the note's page shows that can change: the note
    (with its HTML) and its reminder, and what its attachment and share panels and its push
    control show (each panel's own columns). One statement, not six: a page seen again reads
    nothing else. Built once, as signed_in_user() is (app/models/accounts.py)."""
    note_id = bindparam("note_id", type_=BigInteger)
    user_id = bindparam("user_id", type_=BigInteger)
    return (
        owned_notes(user_id, note_id, with_html=True)
        .add_columns(
            Reminder,
            *panel_columns(note_id, user_id),
            links_shown(user_id, note_id),
            PushSubscription.counted(user_id),
        )
        .outerjoin(Reminder, Reminder.note_id == Note.id)
    )


def read_page(note_id):
    """Return the row of all the note's page shows (page_read()), or answer 404."""
    read = db.session.execute(page_read(), {"note_id": note_id, "user_id": current_user.id})
    return read.first() or not_found(note_id)


def read_links(note):
    """Return what the note's links name, the page of notes that link to it ("linked from",
    after the note `linked_before`) and, after a rename (the title before, in the session), the
    offer to move the `[[old title]]` links: a statement each, by index."""
    written = link_targets(note.rendered) if is_stored(note) else render_stored(note.content).links
    resolved = links.resolve(note.user_id, written)
    before = request.args.get("linked_before", type=int)
    return resolved, links.backlinks(note, before=before), relink_offer(note)


def relink_offer(note):
    """Return (old title, notes using it) when the title the note had before its last save
    renamed it (the session's RENAMED) is linked to and names no live note now; else None."""
    renamed_id, old = session.get(links.RENAMED) or (None, "")
    if renamed_id != note.id or not old.strip() or fold(old) == fold(note.title):
        return None
    named = links.resolve(note.user_id, [old]).get(old.strip())
    if named is not None and not named.trashed:
        return None  # another note is called that: its links are its own
    using = count_of(note.user_id, "title", old)
    return (old, using) if using else None


def make_page(row, files, push, reminder_form=None, linking=None):
    """Return the note's page made of what read_page() read: the one place it is composed."""
    note = row.Note
    resolved, linked_from, relink = linking or read_links(note)
    return render_template(
        "notes/detail.html",
        note=note,
        link=links.page_link(resolved),
        linked_from=linked_from[: links.BACKLINKS_PAGE],
        more_linked=len(linked_from) > links.BACKLINKS_PAGE,
        relink=relink,
        panel=attachments_panel(note, files),
        sharing=share_panel(note),
        reminding=reminder_panel(note, reminder_form, reminder=row.Reminder, push=push),
    )


@bp.get("/notes/<id:note_id>")
@login_required
def detail(note_id):
    """Show one note with its attachments, share links and reminder; a 304 while none of
    them changed (app/revalidation.py): what each shows is read, and the page made only if
    it differs from the browser's copy."""
    row = read_page(note_id)
    note, reminder = row.Note, row.Reminder
    files = attachments_read(note, row)
    push = push_panel(note.user_id, row.browsers)  # the browsers that get reminders pushed
    linking = read_links(note)
    return revalidated(
        lambda: make_page(row, files, push, linking=linking),
        note.id,
        note.revision,
        tuple(linking[0].items()),
        tuple(map(tuple, linking[1])),
        linking[2],
        files.shown(),
        row.links,
        reminder_shown(reminder),
        push and tuple(push.items()),
        once=NEW_LINK in session,  # a link just made, shown once
    )


def with_reminder_errors(note_id, form):
    """Return the note's page again with the reminder form's errors, and 400."""
    row = read_page(note_id)
    files = attachments_read(row.Note, row)
    return make_page(row, files, push_panel(row.Note.user_id, row.browsers), form), 400
