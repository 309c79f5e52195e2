"""What a recovery and the first second step pause rather than end, for the owner to keep or
end on My page: share links, webhooks and Atom feeds (app/accounts/ways_in.py walks them).
Each reads or sends the account's notes to whoever made it; one made through a second step
the account still has is the owner's, and stays."""

from sqlalchemy import update

from app.extensions import db
from app.models import AtomFeed, NoteShare, Webhook, utcnow


def pause_share_links(recovery):
    """Pause every link not made through a second step the account still has: made with the
    password alone, or after `since` while the second steps then added were removed."""
    not_proven = NoteShare.made_with_second_step.is_not(True)
    if recovery.ended.passkeys or recovery.ended.app:
        not_proven = not_proven | (NoteShare.created_at > recovery.since)
    paused = db.session.execute(
        update(NoteShare)
        .where(
            NoteShare.user_id == recovery.user.id,
            NoteShare.revoked_at.is_(None),
            NoteShare.paused_at.is_(None),
            not_proven,
        )
        .values(paused_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    recovery.ended.paused_links = paused


def pause_password_only_links(user, ended):
    """As the first second step turns on, pause the share links made with the password
    alone: whoever else held it may have made them to keep reading the notes."""
    ended.paused_links = db.session.execute(
        update(NoteShare)
        .where(
            NoteShare.user_id == user.id,
            NoteShare.revoked_at.is_(None),
            NoteShare.paused_at.is_(None),
            NoteShare.made_with_second_step.is_not(True),
        )
        .values(paused_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount


def pause_hooks(user_id, not_proven_since=None):
    """Pause the account's webhooks and Atom feeds not made through a second step (and, with
    `not_proven_since`, those made after it); return how many. Each sends or reads the notes
    to whoever set it up."""
    paused = 0
    for model in (Webhook, AtomFeed):
        not_proven = model.made_with_second_step.is_not(True)
        if not_proven_since is not None:
            not_proven = not_proven | (model.created_at > not_proven_since)
        statement = update(model).where(
            model.user_id == user_id, model.paused_at.is_(None), not_proven
        )
        if model is AtomFeed:
            statement = statement.where(AtomFeed.revoked_at.is_(None))
        paused += db.session.execute(
            statement.values(paused_at=utcnow()).execution_options(synchronize_session=False)
        ).rowcount
    return paused


def pause_webhooks_and_feeds(recovery):
    """As share links: pause those not made through a second step the account still has."""
    removed = recovery.ended.passkeys or recovery.ended.app
    since = recovery.since if removed else None
    recovery.ended.paused_hooks = pause_hooks(recovery.user.id, since)


def pause_password_only_hooks(user, ended):
    """As the first second step turns on, pause the webhooks and feeds made with the
    password alone, as its share links."""
    ended.paused_hooks = pause_hooks(user.id)
