"""Share links as the database keeps them: the token's SHA-256, the expiry, the revocation.

A token is 32 random bytes (secrets.token_urlsafe): no link can be guessed from another or
enumerated. Only its hash is stored, as for mailed links, so the link is shown once, when it
is made. A link works while it is neither expired nor revoked and its note is neither in the
trash nor archived; each view counts toward its rate limit.
"""

import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import BigInteger, Text, bindparam, cast, func, select, update
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import undefer

from app.extensions import db
from app.models import Note, NoteShare, hash_token, utcnow

EXPIRY_DAYS = (1, 7, 30)  # or none
TOKEN_BYTES = 32
TOKEN_MAX_LENGTH = 64  # longer than any token Memo makes: not looked up at all


class TooManyLinks(Exception):
    """The account has as many live links as it may."""


def live(query):
    """Narrow a query of NoteShare to the links that work now."""
    return query.where(
        NoteShare.revoked_at.is_(None),
        (NoteShare.expires_at.is_(None)) | (NoteShare.expires_at > func.now()),
    )


# The live links with their notes' titles, newest first: all of an account's (my page), or one
# note's (its page, `note_id`; NULL for all). Built once: the note page runs it on every view.
# A trashed note's links are listed too, paused (`deleted_at` set): they can be revoked there.
LIVE_LINKS = live(
    select(NoteShare, Note.title, Note.deleted_at)
    .join(Note, Note.id == NoteShare.note_id)
    .where(
        NoteShare.user_id == bindparam("user_id"),
        bindparam("note_id", type_=BigInteger).is_(None)
        | (NoteShare.note_id == bindparam("note_id", type_=BigInteger)),
    )
).order_by(NoteShare.created_at.desc(), NoteShare.id.desc())


def live_links(user_id, note_id=None):
    """Return the user's live links (of one note, with `note_id`) with their notes' titles,
    the newest first."""
    return db.session.execute(LIVE_LINKS, {"user_id": user_id, "note_id": note_id}).all()


def links_shown(user_id, note_id):
    """Return a column, for one statement to read beside others (the note's page), telling
    what the note page's share section shows of the note's live links that a change can
    change: a digest of each one's id, when it was made and when it ends (an expired one is
    no longer among them). `user_id`, `note_id`: values or bound parameters."""
    each = func.json_build_array(NoteShare.id, NoteShare.created_at, NoteShare.expires_at)
    listed = func.json_agg(aggregate_order_by(each, NoteShare.id))
    mine = (NoteShare.user_id == user_id) & (NoteShare.note_id == note_id)
    return live(select(func.md5(cast(listed, Text))).where(mine)).scalar_subquery().label("links")


def count_live(note):
    """Return how many live links the note has (paused while it is in the trash)."""
    return db.session.scalar(
        live(select(func.count()).select_from(NoteShare)).where(NoteShare.note_id == note.id)
    )


def make_link(note, expires_days, maker=None):
    """Make a link to `note` that expires after `expires_days` (None: never); return the token.
    `maker`: who makes it, with its proofs (app/features/grants/ceremony.py)."""
    count = db.session.scalar(
        live(select(func.count()).select_from(NoteShare)).where(NoteShare.user_id == note.user_id)
    )
    if count >= current_app.config["SHARES_PER_USER"]:
        raise TooManyLinks
    token = secrets.token_urlsafe(TOKEN_BYTES)
    expires_at = utcnow() + timedelta(days=expires_days) if expires_days else None
    db.session.add(
        NoteShare(
            note_id=note.id,
            user_id=note.user_id,
            token_hash=hash_token(token),
            expires_at=expires_at,
            **(maker.columns(NoteShare) if maker else {}),
        )
    )
    return token


def made_lately(user_id, maker, every):
    """Return whether `maker`'s session made a share link within `every`: making ten in a
    minute mails one notice (app/features/grants/ceremony.py, announce)."""
    if maker is None or maker.session_id is None:
        return False
    return (
        db.session.scalar(
            select(NoteShare.id)
            .where(
                NoteShare.user_id == user_id,
                NoteShare.made_by_session == maker.session_id,
                NoteShare.created_at > utcnow() - every,
            )
            .limit(1)
        )
        is not None
    )


def shared_note(token):
    """Return (the link, its note) for a token that works now, or None."""
    if not token or len(token) > TOKEN_MAX_LENGTH:
        return None
    found = db.session.execute(
        live(
            select(NoteShare, Note)
            .options(undefer(Note.rendered))  # the page shows its stored HTML
            .join(Note, Note.id == NoteShare.note_id)
            .where(
                NoteShare.token_hash == hash_token(token),
                NoteShare.paused_at.is_(None),  # by a recovery, until its owner keeps it
                Note.deleted_at.is_(None),
                Note.archived_at.is_(None),
            )
        )
    ).first()
    return tuple(found) if found else None


def count_view(link):
    """Count one view of `link` in its minute; return the seconds to wait when it is over.

    One UPDATE, so views from every process and dyno count together; committed at once.
    """
    window = timedelta(minutes=1)
    fresh = NoteShare.window_started_at.is_(None) | (
        NoteShare.window_started_at <= func.now() - window
    )
    views, started = db.session.execute(
        update(NoteShare)
        .where(NoteShare.id == link.id)
        .values(
            window_started_at=db.case((fresh, func.now()), else_=NoteShare.window_started_at),
            views_in_window=db.case((fresh, 1), else_=NoteShare.views_in_window + 1),
        )
        .returning(NoteShare.views_in_window, NoteShare.window_started_at)
    ).one()
    db.session.commit()
    if views <= current_app.config["SHARE_VIEWS_PER_MINUTE"]:
        return 0
    return max(1, int((started + window - utcnow()).total_seconds()) + 1)


def revoke(user_id, link_id):
    """Revoke the user's link `link_id`; return whether it was theirs and live."""
    return bool(
        db.session.execute(
            update(NoteShare)
            .where(
                NoteShare.id == link_id,
                NoteShare.user_id == user_id,
                NoteShare.revoked_at.is_(None),
            )
            .values(revoked_at=utcnow())
        ).rowcount
    )


def resume(user_id, link_id):
    """Keep a link a recovery paused: it opens its note again; False if there is none."""
    resumed = db.session.execute(
        update(NoteShare)
        .where(
            NoteShare.id == link_id,
            NoteShare.user_id == user_id,
            NoteShare.revoked_at.is_(None),
            NoteShare.paused_at.is_not(None),
        )
        .values(paused_at=None, paused_reason=None)
    )
    return resumed.rowcount == 1
