"""Links between notes (`[[Title]]`, `[[Title|words]]`, `[[#42]]`, app/wikilinks.py): the rows
the writer keeps of them, who a link names, and what links to a note.

The writer (app/features/notes/service.py, read_text()) writes a note's links as rows of
note_link when it stores the note's HTML, from the one parse that renders it: a link by id
keeps the id, a link by title keeps the title folded (`title_key`), never the note it named
then. Who a title names is read when a page is: the account's note whose folded title it is
(ix_note_user_id_title_key), a live one before one in the trash, the most recently edited
first. So a renamed, new, trashed or deleted note changes what links name with no rewrite,
and a link never names another account's note (every read is within `user_id`).
"""

from typing import NamedTuple

from flask import url_for
from flask_babel import gettext
from markupsafe import Markup
from sqlalchemy import delete, insert, text

from app.extensions import db
from app.models import NoteLink
from app.wikilinks import fold, target_of

BACKLINKS_PAGE = 50  # the notes "linked from" lists a page (docs/security.md)
RENAMED = "renamed"  # the session's [note id, its title before] after a save renamed it

# The note each title key and id names, for one account: one statement, by index.
RESOLVE = text("""
SELECT * FROM (
    SELECT DISTINCT ON (title_key) id, title, title_key, deleted_at IS NOT NULL AS trashed
    FROM note WHERE user_id = :user_id AND title_key = ANY(:keys)
    ORDER BY title_key, deleted_at IS NOT NULL, updated_at DESC, id DESC
) AS by_title
UNION ALL
SELECT id, title, NULL, deleted_at IS NOT NULL FROM note
WHERE user_id = :user_id AND id = ANY(:ids)
""")

# The live notes that link to a note (by its id, or by its title while its title names it:
# no other note of that title comes first), newest first, after the note `before` if given.
BACKLINKS = text("""
SELECT f.id, f.title FROM note AS f
WHERE f.user_id = :user_id AND f.deleted_at IS NULL AND f.id <> :note_id
  AND f.id IN (
    SELECT l.from_note_id FROM note_link AS l
    WHERE l.user_id = :user_id AND (l.target_id = :note_id OR (l.title_key = :key AND NOT EXISTS (
        SELECT 1 FROM note AS o
        WHERE o.user_id = :user_id AND o.title_key = :key AND o.id <> :note_id
          AND (o.deleted_at IS NULL, o.updated_at, o.id) > (:live, :updated_at, :note_id))))
  )
  AND (CAST(:before AS bigint) IS NULL OR (f.updated_at, f.id) < (
    SELECT b.updated_at, b.id FROM note AS b WHERE b.id = :before AND b.user_id = :user_id))
ORDER BY f.updated_at DESC, f.id DESC
LIMIT :limit
""")

# The notes each of `ids` links to, in the order it names them: one statement.
LINKED = text("""
SELECT l.from_note_id, named.id FROM note_link AS l
CROSS JOIN LATERAL (
    SELECT n.id FROM note AS n
    WHERE n.user_id = l.user_id AND (n.id = l.target_id OR n.title_key = l.title_key)
    ORDER BY n.deleted_at IS NOT NULL, n.updated_at DESC, n.id DESC LIMIT 1
) AS named
WHERE l.from_note_id = ANY(:ids)
ORDER BY l.from_note_id, l.position
""")


class Named(NamedTuple):
    """The note a link names: its id, its title, whether it is in the trash."""

    id: int
    title: str
    trashed: bool


def store(note, written):
    """Keep the note's links (their targets as `written`) in place of the ones it had."""
    db.session.execute(delete(NoteLink).where(NoteLink.from_note_id == note.id))
    rows = []
    for position, target in enumerate(filter(None, map(target_of, written))):
        rows.append(
            {
                "from_note_id": note.id,
                "position": position,
                "user_id": note.user_id,
                "target_id": target.note_id,
                "title_key": target.key,
            }
        )
    if rows:
        db.session.execute(insert(NoteLink).values(rows))


def resolve(user_id, written):
    """Return {target as written: Named} for the targets the account's notes answer."""
    targets = {text: target for text in set(written) if (target := target_of(text))}
    if not targets:
        return {}
    keys = sorted({target.key for target in targets.values() if target.key})
    ids = sorted({target.note_id for target in targets.values() if target.note_id})
    by_key, by_id = {}, {}
    found = db.session.execute(RESOLVE, {"user_id": user_id, "keys": keys, "ids": ids})
    for row in found:
        named = Named(row.id, row.title, row.trashed)
        if row.title_key is None:
            by_id[row.id] = named
        else:
            by_key[row.title_key] = named
    resolved = {}
    for text_, target in targets.items():
        named = by_id.get(target.note_id) if target.note_id else by_key.get(target.key)
        if named is not None:
            resolved[text_] = named
    return resolved


def backlinks(note, before=None, limit=BACKLINKS_PAGE):
    """Return up to `limit` + 1 live notes (id, title) that link to `note`, newest first,
    after the note `before`: one statement (the extra one says a next page exists)."""
    params = {
        "user_id": note.user_id,
        "note_id": note.id,
        "key": fold(note.title),
        "live": note.deleted_at is None,
        "updated_at": note.updated_at,
        "before": before,
        "limit": limit + 1,
    }
    return db.session.execute(BACKLINKS, params).all()


def linked(ids):
    """Return {note id: [ids of the notes it links to, each once, in order]}."""
    found = {note_id: [] for note_id in ids}
    if not ids:
        return found
    for row in db.session.execute(LINKED, {"ids": list(ids)}):
        if row.id not in found[row.from_note_id]:
            found[row.from_note_id].append(row.id)
    return found


def page_link(resolved):
    """Return the note page's `link(target, words)` (app/markdown.py) for the links
    `resolved` names: a link to the note, one that says the note is in the trash, or one
    that offers to write the missing note (a title) or names no note (an id)."""

    def link(target, words):
        named = resolved.get(target)
        if named is None and target_of(target).note_id is not None:
            return Markup('<span class="missing">%s</span>') % (words or target)
        if named is None:
            address = url_for("notes.create", title=target)
            return Markup('<a class="missing" href="%s">%s</a>') % (address, words or target)
        address = url_for("notes.detail", note_id=named.id)
        if named.trashed:
            return Markup('<a class="trashed" href="%s">%s</a> <small>(%s)</small>') % (
                address,
                words or named.title,
                gettext("in the trash"),
            )
        return Markup('<a href="%s">%s</a>') % (address, words or named.title)

    return link
