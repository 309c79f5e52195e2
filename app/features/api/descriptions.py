"""What the reference page (/api/docs) says of each route and each answer, in the reader's
language.

The English is the OpenAPI document's own: each view's docstring after its first line (the
operation's `description`, its lines joined) and each answer's `description`;
tests/test_api_document.py keeps the two the same. Text in backticks is code, shown as such.
"""

from flask_babel import lazy_gettext as _l

from app.features.api.documented import PROBLEM_DESCRIPTION

DESCRIPTIONS = {
    "GET /api/v1/notes": _l(
        "Pinned first, then last edited (or created) first. Without `archived` or `trashed`, "
        "the list holds what the notes page lists."
    ),
    "POST /api/v1/notes": _l(
        "With an `Idempotency-Key`, the same key within 24 hours answers the note it made, "
        "not a second one."
    ),
    "GET /api/v1/notes/{note_id}": _l(
        "A note in the trash too. With `If-None-Match` naming its current tag: 304, no body."
    ),
    "PATCH /api/v1/notes/{note_id}": _l(
        "Any of `title`, `content`, `completed`, `pinned`, `archived` and `reminder` "
        '(`{"at", "repeat"}`, or `null` to remove it).'
    ),
    "DELETE /api/v1/notes/{note_id}": _l(
        "Restorable for 30 days; `If-Match` must be its revision."
    ),
    "POST /api/v1/notes/{note_id}/restore": _l("A note not in it is answered as it is."),
    "PUT /api/v1/notes/{note_id}/tasks/{number}": _l(
        "Item `number` counts from 0 in document order; on top of the revision `If-Match` names."
    ),
    "GET /api/v1/notes/{note_id}/history": _l("And those a conflict set aside; newest first."),
    "PATCH /api/v1/tags/{name}": _l(
        "Each note a new version; to a tag the account has already, the two merge. Over 100 "
        "notes, a worker renames them all at once: 202, with a `status_url`."
    ),
    "GET /api/v1/renames/{rename_id}": _l(
        "`queued`, `running`, then `done` (`notes_changed`) or `failed` (`error`; no note changed)."
    ),
    "GET /api/v1/notes/{note_id}/backlinks": _l(
        "Newest first, 50 a page: by its id (`[[#42]]`), or by its title while no other note "
        "of that title comes before it (`[[Title]]`)."
    ),
    "GET /api/v1/search": _l(
        '`q` takes words, `"phrases"`, `-excluded`, `prefix*` and `tag:x`; each note comes '
        "with a `snippet` (HTML: the text escaped, the matches in `<mark>`)."
    ),
    "GET /api/v1/changes": _l(
        "In the order of the account's change sequence: a note as it is now (trashed ones "
        "too), or one deleted for good. A page holds at most `limit` items and about 2 MiB of "
        "JSON, so it may hold fewer: ask again from `next_since` until a page is empty. 410 "
        "when `since` is older than the deletions kept (90 days): read everything again from 0."
    ),
    "GET /api/v1/tags": _l("Each tag with how many listed notes have it, the most used first."),
    "GET /api/v1/notes/{note_id}/attachments": _l("Oldest first."),
    "POST /api/v1/notes/{note_id}/attachments": _l(
        "`POST` the file to `url` with `fields` (a form, the file last), then confirm it. "
        "The file must be of the `size` announced."
    ),
    "POST /api/v1/notes/{note_id}/attachments/{attachment_id}/confirm": _l(
        "The file that arrived is accepted; one that breaks a limit is deleted."
    ),
    "GET /api/v1/export": _l(
        "`none`, `queued`, `running`, `done` or `failed`, with a short-lived `download_url` "
        "once done."
    ),
    "POST /api/v1/export": _l("One at a time; a worker writes the archive."),
    "POST /api/v1/webhooks": _l(
        "Each event asked for is signed with the `secret` answered here, only this once, and "
        "sent to `url` by `POST`. At most 10 an account."
    ),
}

# Each answer's description, keyed by the document's English: flask-smorest's for a success
# (the status's reason phrase) and documented.py's for every problem.
ANSWERS = {
    "OK": _l("OK"),
    "Not Modified: `If-None-Match` names the note's `ETag`.": _l(
        "Not Modified: `If-None-Match` names the note's `ETag`."
    ),
    "Created": _l("Created"),
    "Accepted": _l("Accepted"),
    "No Content": _l("No Content"),
    PROBLEM_DESCRIPTION: _l(
        "A problem (RFC 9457); its `type` names it, such as `/api/problems/not-found` (the "
        "reference page lists them). The web front answers a "
        "request it refuses before the app (too large, too slow, headers or address too long) "
        "with a small HTML page instead."
    ),
}

# What each status of a problem means, for the Answers table of each route: the document
# gives every problem the one description above, which the page shows once, at the top.
PROBLEM_MEANINGS = {
    "400": _l("The request is not valid: a parameter, or the body's JSON."),
    "401": _l("No token, or one that is wrong, revoked or expired."),
    "403": _l("The token may only read."),
    "404": _l("Nothing of this account's has that id."),
    "405": _l("The route does not take this method."),
    "409": _l("The account's state refuses it: a limit is reached, or one is under way."),
    "410": _l("`since` is older than the deletions kept: read everything again from 0."),
    "412": _l("The note changed after the revision in `If-Match`: nothing is overwritten."),
    "413": _l("The body is too large."),
    "414": _l("The address is too long."),
    "415": _l("The body is not JSON."),
    "422": _l("A field is missing or not valid."),
    "428": _l("`If-Match` is missing."),
    "429": _l("Too many just now: `Retry-After` says when to try again."),
    "431": _l("The headers are too large."),
    "503": _l("Memo is busy or being updated: try again in a moment."),
}

# What each problem `type` means and what a client can do about it: the reference page gives
# each its row, which /api/problems/<name> (the type itself) leads to.
PROBLEM_EXPLANATIONS = {
    "bad-request": _l(
        "A parameter of the address or the body's JSON could not be read; `detail` says which."
    ),
    "unauthorized": _l(
        "No `Authorization: Bearer` token came, or it is wrong, revoked or expired: make a new "
        "one on My page."
    ),
    "forbidden": _l("The token is valid but may not do this."),
    "insufficient-scope": _l(
        "A read token asked for a change: changes need a token that may read and write."
    ),
    "not-found": _l(
        "Nothing of the token's account has that id (another account's notes answer the same), "
        "or no route has that address."
    ),
    "method-not-allowed": _l("The address takes other methods: the routes below say which."),
    "conflict": _l(
        "The account's state refuses it just now: a limit is reached, or the same work (an "
        "export) is under way. Try again once it is done."
    ),
    "version-mismatch": _l(
        "The note changed after the revision in `If-Match`, and nothing was overwritten. "
        "`note` holds the note as it is now: apply the change to it and send its `ETag`."
    ),
    "changes-forgotten": _l(
        "`since` is older than the deletions kept: read every note again from `since=0`."
    ),
    "version-required": _l(
        "A change or a deletion of a note needs `If-Match` with the note's `ETag`: read the "
        "note first."
    ),
    "too-large": _l("The body is over the limit `detail` gives: send less."),
    "not-json": _l("A body must be JSON, sent with `Content-Type: application/json`."),
    "invalid-fields": _l(
        "A field is missing or not valid: `invalid_params` gives each one's `name` and `reason`."
    ),
    "invalid-cursor": _l(
        "The `cursor` was not made by this API, or was made for another account or another "
        "query: ask again without it."
    ),
    "rename-refused": _l(
        "The rename changed nothing: `detail` says why (no note has the tag, a name that is "
        "not a tag, or a rename of the account is running)."
    ),
    "quota-full": _l(
        "Saving it would take the account over its quota, so nothing was written: delete notes "
        "or attachments, or empty the trash."
    ),
    "idempotency-key-reused": _l(
        "This `Idempotency-Key` came within 24 hours with another body: use a new key for a "
        "new note."
    ),
    "too-many-requests": _l("Too many of this kind just now: wait as long as `Retry-After` says."),
    "upload-refused": _l(
        "The file was refused (its size, its kind, the account's room, or not the file "
        "announced); `detail` says why and what to do."
    ),
    "search-refused": _l(
        "The search cannot run as written (only tags, or too long or too broad); `detail` says "
        "what to change in `q`."
    ),
    "server-error": _l("Something failed on Memo's side: try again later."),
    "unavailable": _l(
        "The database or the file store is briefly out of reach, or Memo is being updated: try "
        "again after `Retry-After`."
    ),
}
