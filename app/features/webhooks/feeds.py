"""Private Atom feeds (RFC 4287): `/feeds/<token>` reads the account's notes, or one tag's, to
anyone holding the URL its owner made on My page, until it is revoked.

Each entry is a note as its page shows it: its title, and its Markdown as the stored,
sanitised HTML the pages show (app/markdown.py's html_of, links marked as on a shared
note's page). The feed is in the account's language. Its ETag is a digest of the feed, the
account's name and language and its change number (app/models/changes.py: it moves with
every change of a note), read with the feed in one statement: a reader that asks with
If-None-Match gets 304 while nothing changed, the feed not made again. Last-Modified is the
newest entry's time, for readers to show. The token sits in the path: the request log masks
it (app/requestlog.py); the answer has no-referrer.

A feed costs about its own bytes, whatever the notes: it lists the newest FEED_ENTRIES notes
that fit in FEED_BYTES of Atom (always the newest one), cut first in PostgreSQL by the stored
HTML's length (so no more is loaded) and then by each entry's escaped size as written. Its
readers have a budget of their own: FEED_READS_IN_FLIGHT feeds made at once a feed (slots
of advisory locks on the feed's id, as the API's heavy reads hold theirs on the account's),
429 past them; they never touch the owner's heavy-read slots, so a URL polled at once from
many places leaves the owner's own reads alone.
"""

import hashlib
import xml.etree.ElementTree as ET
from datetime import UTC
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, request
from flask_babel import force_locale, gettext
from sqlalchemy import func, select
from sqlalchemy.orm import undefer
from werkzeug.exceptions import TooManyRequests

from app.extensions import db
from app.features.api.reads import TAKE_SLOT
from app.features.webhooks import service
from app.mail import link
from app.markdown import html_of
from app.models import AtomFeed, ChangeCounter, Note, User
from app.validators import without_non_text

bp = Blueprint("feeds", __name__)
ATOM = "http://www.w3.org/2005/Atom"
ATOM_TYPE = "application/atom+xml; charset=utf-8"
HEADERS = {
    "Cache-Control": "private, no-cache",
    "X-Robots-Tag": "noindex, nofollow",
    "Referrer-Policy": "no-referrer",
}
# An entry's Atom around its title, HTML and tags: its id, links, dates and elements' names.
ENTRY_BYTES = 600
TAG_BYTES = 40  # a <category term="..."/> around its tag
# The advisory locks' class ids of a feed's reads, one a slot (the API's heavy reads' are
# 2401 on, searches' 2301 on); the second key is the feed's id.
FEED_READ_LOCK_CLASS = 2501


def rfc3339(moment):
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def listed_notes(feed):
    """Return the notes the feed lists: not in the trash, newest change first, as many of the
    newest FEED_ENTRIES as fit in about FEED_BYTES by their stored lengths, at least one."""
    config = current_app.config
    size = (
        func.octet_length(Note.title)
        + func.coalesce(func.octet_length(Note.rendered), func.octet_length(Note.content))
        + ENTRY_BYTES
    )
    newest = (Note.updated_at.desc(), Note.id.desc())
    ranked = select(
        Note.id, size.label("size"), func.sum(size).over(order_by=newest).label("running")
    ).where(Note.user_id == feed.user_id, Note.deleted_at.is_(None))
    if feed.tag:
        ranked = ranked.where(Note.tags.contains([feed.tag]))
    ranked = ranked.order_by(*newest).limit(config["FEED_ENTRIES"]).subquery()
    fitting = select(ranked.c.id).where(ranked.c.running - ranked.c.size < config["FEED_BYTES"])
    query = (
        select(Note).where(Note.id.in_(fitting)).options(undefer(Note.rendered)).order_by(*newest)
    )
    return db.session.scalars(query).all()


def escaped_bytes(text):
    """Return the bytes of `text` as XML writes it: & is &amp;, < and > are &lt; and &gt;."""
    return len(text.encode()) + 4 * text.count("&") + 3 * (text.count("<") + text.count(">"))


def entry_bytes(note, html):
    """Return about what an entry takes in the feed as written (its text escaped)."""
    tags = note.tags or ()
    return (
        escaped_bytes(note.title)
        + escaped_bytes(html)
        + ENTRY_BYTES
        + sum(TAG_BYTES + len(tag.encode()) for tag in tags)
    )


def entity_tag(feed, nickname, language, last_seq):
    """Return a digest of what the feed shows: it changes when any note or the account's
    name or language does."""
    config = current_app.config
    shown = f"{feed.id}|{feed.tag}|{nickname}|{language}|{last_seq}"
    shown += f"|{config['FEED_ENTRIES']}|{config['FEED_BYTES']}"
    return hashlib.sha256(shown.encode()).hexdigest()[:32]


def hold_feed_read(feed):
    """Hold one of the feed's own FEED_READS_IN_FLIGHT slots until the transaction ends;
    429 when all are held by its reads still being made."""
    config = current_app.config
    slot = db.session.scalar(
        TAKE_SLOT,
        {
            "slots": config["FEED_READS_IN_FLIGHT"],
            "class_id": FEED_READ_LOCK_CLASS,
            "object_id": feed.id & 0x7FFFFFFF,
        },
    )
    if slot is None:
        raise TooManyRequests(
            gettext("This feed is being read from many places at once; try again in a moment."),
            retry_after=config["API_READS_RETRY_AFTER_SECONDS"],
        )


def tag_uri(kind, number):
    """Return a stable id (RFC 4151) that names nothing secret: `tag:<host>,2026:<kind>/<n>`."""
    host = urlsplit(current_app.config["PUBLIC_URL"]).hostname or "memo"
    return f"tag:{host},2026:{kind}/{number}"


def add(parent, name, text=None, **attributes):
    """Add an element; its text and attributes without what XML cannot hold (a row written
    before the import left control characters out would make the whole feed unreadable)."""
    attributes = {key: without_non_text(value) for key, value in attributes.items()}
    element = ET.SubElement(parent, f"{{{ATOM}}}{name}", attributes)
    if text is not None:
        element.text = without_non_text(text)
    return element


def atom_of(feed, nickname, language, notes):
    """Return the feed's Atom document (bytes)."""
    ET.register_namespace("", ATOM)
    root = ET.Element(f"{{{ATOM}}}feed", {"xml:lang": language})
    if feed.tag:
        title = gettext("%(nickname)s's notes tagged #%(tag)s", nickname=nickname, tag=feed.tag)
    else:
        title = gettext("%(nickname)s's notes", nickname=nickname)
    add(root, "title", title)
    add(root, "id", tag_uri("feed", feed.id))
    newest = max((note.updated_at for note in notes), default=feed.created_at)
    add(root, "updated", rfc3339(newest))
    author = add(root, "author")
    add(author, "name", nickname)
    add(root, "link", rel="alternate", type="text/html", href=link("notes.index"))
    add(root, "generator", "Memo")
    spent = 0
    for note in notes:
        html = str(html_of(note, external=True))
        spent += entry_bytes(note, html)
        if spent > current_app.config["FEED_BYTES"] and note is not notes[0]:
            break
        add_entry(root, note, html)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def add_entry(root, note, html):
    """Add a note's entry to the feed: its title, link, dates, tags and HTML."""
    entry = add(root, "entry")
    add(entry, "title", note.title)
    add(entry, "id", tag_uri("note", note.id))
    add(entry, "updated", rfc3339(note.updated_at))
    add(entry, "published", rfc3339(note.created_at))
    href = link("notes.detail", note_id=note.id)
    add(entry, "link", rel="alternate", type="text/html", href=href)
    for tag in note.tags or []:
        add(entry, "category", term=tag)
    add(entry, "content", html, type="html")


@bp.get("/feeds/<secret:token>")
def read(token):
    """Answer the feed the token opens, as Atom; 304 from its tag while nothing changed."""
    query = service.open_feed(token)
    found = (
        query is not None
        and db.session.execute(
            query.join(User, User.id == AtomFeed.user_id)
            .outerjoin(ChangeCounter, ChangeCounter.user_id == AtomFeed.user_id)
            .add_columns(User.nickname, User.language, ChangeCounter.last_seq)
        ).first()
    )
    if not found:
        abort(404)
    feed, nickname, language, last_seq = found
    language = language or "en"
    response = current_app.response_class(mimetype="application/atom+xml")
    response.headers.update(HEADERS)
    response.set_etag(entity_tag(feed, nickname, language, last_seq or 0))
    if request.if_none_match.contains(response.get_etag()[0]):
        response.status_code = 304
        return response
    hold_feed_read(feed)
    notes = listed_notes(feed)
    response.last_modified = max((note.updated_at for note in notes), default=feed.created_at)
    with force_locale(language):
        response.set_data(atom_of(feed, nickname, language, notes))
    response.headers["Content-Type"] = ATOM_TYPE
    return response
