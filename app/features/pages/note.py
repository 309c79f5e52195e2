"""The note's page: the note, with the panels of its attachments, share links and reminder."""

from flask import render_template, session
from flask_login import login_required

from app.features.attachments.panel import attachments_panel, attachments_read
from app.features.notes.lookup import get_note
from app.features.notes.reminders import reminder_of
from app.features.notes.routes import bp
from app.features.reminders.panel import push_panel, reminder_panel, reminder_shown
from app.features.shares.links import live_links
from app.features.shares.routes import NEW_LINK, links_shown, share_panel
from app.revalidation import revalidated


@bp.get("/notes/<id:note_id>")
@login_required
def detail(note_id):
    """Show one note with its attachments, share links and reminder; a 304 while none of
    them changed (app/revalidation.py): what each shows is read, and the page made only if
    it differs from the browser's copy."""
    note = get_note(note_id, with_html=True)
    files = attachments_read(note)
    live, reminder = live_links(note.user_id, note.id), reminder_of(note.id)
    push = push_panel(note.user_id)  # the account's browsers that get reminders pushed
    return revalidated(
        lambda: render_template(
            "notes/detail.html",
            note=note,
            panel=attachments_panel(note, files),
            sharing=share_panel(note, live),
            reminding=reminder_panel(note, reminder=reminder, push=push),
        ),
        note.id,
        note.revision,
        files.shown(),
        links_shown(live),
        reminder_shown(reminder),
        push and tuple(push.items()),
        once=NEW_LINK in session,  # a link just made, shown once
    )
