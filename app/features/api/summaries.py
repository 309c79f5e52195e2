"""Each API route's summary, in the reader's language, for the reference page (/api/docs).

The English is each view's docstring's first line, which is the OpenAPI document's
`summary`; tests/test_api_document.py keeps the two the same.
"""

from flask_babel import lazy_gettext as _l

SUMMARIES = {
    "GET /api/v1/me": _l("Who the token is for."),
    "GET /api/v1/notes": _l("List the account's notes, a page at a time."),
    "POST /api/v1/notes": _l("Write a new note."),
    "GET /api/v1/notes/{note_id}": _l("Read one note, with its revision as `ETag`."),
    "PATCH /api/v1/notes/{note_id}": _l("Change a note on top of the revision `If-Match` names."),
    "DELETE /api/v1/notes/{note_id}": _l("Move a note to the trash."),
    "POST /api/v1/notes/{note_id}/restore": _l("Take a note out of the trash."),
    "PUT /api/v1/notes/{note_id}/tasks/{number}": _l("Tick a task item of a note, or untick it."),
    "GET /api/v1/notes/{note_id}/history": _l("List the texts a note's saves replaced."),
    "GET /api/v1/notes/{note_id}/backlinks": _l("List the live notes that link to a note."),
    "PATCH /api/v1/tags/{name}": _l("Rename a tag in every note that has it."),
    "GET /api/v1/renames/{rename_id}": _l("Read the state of a rename the worker makes."),
    "GET /api/v1/search": _l("Find the account's notes, best first."),
    "GET /api/v1/changes": _l("List what changed in the account's notes after `since`."),
    "GET /api/v1/tags": _l("List the account's tags with their counts."),
    "GET /api/v1/notes/{note_id}/attachments": _l("List a note's attachments."),
    "POST /api/v1/notes/{note_id}/attachments": _l("Start uploading an attachment."),
    "POST /api/v1/notes/{note_id}/attachments/{attachment_id}/confirm": _l(
        "Confirm an attachment's upload."
    ),
    "GET /api/v1/attachments/{attachment_id}": _l(
        "Read an attachment, with a short-lived download link."
    ),
    "DELETE /api/v1/attachments/{attachment_id}": _l("Delete an attachment and its file."),
    "GET /api/v1/export": _l("Read the latest export's state."),
    "POST /api/v1/export": _l("Start an export of the whole account."),
    "POST /api/v1/webhooks": _l("Make a webhook."),
    "GET /api/v1/webhooks": _l("List the account's webhooks, without their secrets."),
    "DELETE /api/v1/webhooks/{webhook_id}": _l("End a webhook: nothing more is sent to it."),
}
