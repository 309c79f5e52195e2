"""What pauses rather than ends, for the owner to keep or end on My page: share links,
webhooks and Atom feeds (app/accounts/ways_in.py walks them). Each reads or sends the
account's notes to whoever made it, so each pauses with what made it (revision 0037's
made_by_session, made_by_token) and records why (paused_reason, one of PAUSE_REASONS):
- a recovery ends every session and token: it pauses every grant one of them made, and those
  made before makers were recorded that no second step the account still has made;
- the first second step pauses those made with the password alone;
- revoking a token pauses what it made; a password change, what the sessions it ends made.
"""

from sqlalchemy import select, update

from app.extensions import db
from app.models import AtomFeed, Note, NoteShare, Webhook, utcnow

HOOKS = (Webhook, AtomFeed)
GRANTS = (NoteShare, *HOOKS)


def pause(model, user_id, condition, reason):
    """Pause the account's live grants of `model` that meet `condition`; return how many."""
    statement = update(model).where(model.user_id == user_id, model.paused_at.is_(None), condition)
    if model is not Webhook:
        statement = statement.where(model.revoked_at.is_(None))
    values = {"paused_at": utcnow(), "paused_reason": reason}
    return db.session.execute(
        statement.values(**values).execution_options(synchronize_session=False)
    ).rowcount


def made_by_a_maker(model):
    """Return the condition: the grant records the session or token that made it."""
    return model.made_by_session.is_not(None) | model.made_by_token.is_not(None)


def not_proven(model, since=None):
    """Return the condition: not made through a second step (or, with `since`, made after
    it, while the second steps then added were removed)."""
    condition = model.made_with_second_step.is_not(True)
    if since is not None:
        condition = condition | (model.created_at > since)
    return condition


def removed_since(recovery):
    """Return since when the recovery removed second steps, or None if it removed none."""
    return recovery.since if recovery.ended.passkeys or recovery.ended.app else None


def pause_share_links(recovery):
    """Pause every link a session or token made (the recovery ends them all), and those made
    before makers were recorded that no second step the account still has made."""
    model, since = NoteShare, removed_since(recovery)
    condition = made_by_a_maker(model) | not_proven(model, since)
    recovery.ended.paused_links = pause(model, recovery.user.id, condition, "recovery")


def pause_webhooks_and_feeds(recovery):
    """As share links: every webhook and feed a session or token made, and older ones not
    made through a second step the account still has."""
    since, user_id = removed_since(recovery), recovery.user.id
    recovery.ended.paused_hooks = sum(
        pause(model, user_id, made_by_a_maker(model) | not_proven(model, since), "recovery")
        for model in HOOKS
    )


def pause_password_only_links(user, ended):
    """As the first second step turns on, pause the share links made with the password
    alone: whoever else held it may have made them to keep reading the notes."""
    ended.paused_links = pause(NoteShare, user.id, not_proven(NoteShare), "first_second_step")


def pause_password_only_hooks(user, ended):
    """As the first second step turns on, pause the webhooks and feeds made with the
    password alone, as its share links."""
    ended.paused_hooks = sum(
        pause(model, user.id, not_proven(model), "first_second_step") for model in HOOKS
    )


def pause_made_by(user_id, reason, sessions=(), token=None):
    """Pause the grants that the login sessions `sessions` (ids) or the token `token` (an id)
    made; return how many. Plain sign-out and expiry pause nothing: they say nothing of who
    holds a browser."""
    paused = 0
    for model in GRANTS:
        condition = model.made_by_session.in_(list(sessions))
        if token is not None:
            condition = condition | (model.made_by_token == token)
        paused += pause(model, user_id, condition, reason)
    return paused


def paused_for(user_id, reason):
    """Return what of the account is paused for `reason`, for a page to list with a way to
    keep each: {"links": [(link, its note's title)], "webhooks": [...], "feeds": [...]}."""
    links = db.session.execute(
        select(NoteShare, Note.title)
        .join(Note, Note.id == NoteShare.note_id)
        .where(NoteShare.user_id == user_id, NoteShare.paused_reason == reason)
        .where(NoteShare.paused_at.is_not(None), NoteShare.revoked_at.is_(None))
        .order_by(NoteShare.id)
    ).all()
    hooks = {}
    for model in HOOKS:
        hooks[model] = db.session.scalars(
            select(model)
            .where(model.user_id == user_id, model.paused_reason == reason)
            .where(model.paused_at.is_not(None))
            .order_by(model.id)
        ).all()
    feeds = [feed for feed in hooks[AtomFeed] if feed.revoked_at is None]
    return {"links": links, "webhooks": hooks[Webhook], "feeds": feeds}
