"""Every way into an account, in one registry: what proof made it, and what ends it.

docs/mail.md, "The one rule". A recovery from the owner's address (a reset, or an undo link
she may use) and turning the first second step on walk WAYS_IN; nothing else keeps a list of
credentials. Each entry names the model that holds the way in, the proof that made it, and
what each walk does to it. A model with a secret, a credential or a link that is not here
fails tests/test_ways_in.py.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import delete, update

from app.extensions import db
from app.models import (
    AccessToken,
    AddressHold,
    AtomFeed,
    LoginSession,
    MailToken,
    NoteShare,
    Passkey,
    PushSubscription,
    RecoveryCode,
    SecondStepRecovery,
    TotpCredential,
    User,
    Webhook,
    comparison_key,
    hash_token,
    utcnow,
)


@dataclass
class Ended:
    """What a walk ended, for the one mail that says so (JSON-ready: it goes in a job)."""

    sessions: int = 0
    tokens: list = field(default_factory=list)  # their names
    passkeys: list = field(default_factory=list)  # their names
    app: bool = False
    paused_links: int = 0
    drop_request: bool = False
    moves: int = 0
    pushes: int = 0  # browsers that stop getting reminders pushed
    paused_hooks: int = 0  # webhooks and Atom feeds paused until their owner keeps them

    def as_details(self):
        return {
            "sessions": self.sessions,
            "tokens": self.tokens,
            "passkeys": self.passkeys,
            "app": self.app,
            "paused_links": self.paused_links,
            "drop_request": self.drop_request,
            "moves": self.moves,
            "pushes": self.pushes,
            "paused_hooks": self.paused_hooks,
        }


@dataclass(frozen=True)
class Recovery:
    """One recovery's facts: the account, the address it was done from, and since when the
    ways in may be someone else's (second steps added later, with none older, go)."""

    user: User
    actor: str
    since: object  # datetime
    ended: Ended


@dataclass(frozen=True)
class WayIn:
    """A kind of way in: its model, the proof that makes it, and what ends it."""

    model: type
    made_by: str
    on_recovery: Callable  # (Recovery) -> None, records what it ended
    on_first_second_step: Callable | None  # (user, Ended) -> None
    ended_by: str
    second_step: bool = False  # dropped whole when the owner who lost them all has waited


def untrusted_since(user, actor):
    """Return since when a second step may be someone else's, for a recovery from `actor`:
    the undo window's start, or later, when the account came to `actor` since then."""
    window_start = utcnow() - AddressHold.undo_window()
    held = {comparison_key(email): since for email, since, _ in AddressHold.standing(user)}
    return max(window_start, held.get(comparison_key(actor), window_start))


def new_second_steps(user_id, since):
    """Return (the passkeys, the app) added after `since` when no second step older than that
    remains: those were not made with a proof the owner held (the first second step asks for
    the password alone). With an older one left, every later one was added through it."""
    passkeys = Passkey.of(user_id)
    app = TotpCredential.of(user_id)
    older = [p for p in passkeys if p.created_at <= since]
    if older or (app is not None and app.enabled_at <= since):
        return [], None
    newer = [p for p in passkeys if p.created_at > since]
    return newer, (app if app is not None and app.enabled_at > since else None)


def end_sessions(recovery):
    ended = db.session.execute(
        delete(LoginSession).where(LoginSession.user_id == recovery.user.id)
    ).rowcount
    recovery.ended.sessions = ended


def revoke_tokens(user_id, ended):
    """Revoke every live token of the account; record their names."""
    names = db.session.scalars(
        update(AccessToken)
        .where(AccessToken.user_id == user_id, AccessToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
        .returning(AccessToken.name)
        .execution_options(synchronize_session=False)
    ).all()
    ended.tokens = sorted(names)


def remove_new_second_steps(recovery):
    passkeys, app = new_second_steps(recovery.user.id, recovery.since)
    for passkey in passkeys:
        db.session.delete(passkey)
    if app is not None:
        db.session.delete(app)
    db.session.flush()
    recovery.ended.passkeys = [passkey.name for passkey in passkeys]
    recovery.ended.app = app is not None


def drop_unneeded_codes(recovery):
    RecoveryCode.drop_unless_needed(recovery.user.id)


def delete_outranked_links(recovery):
    """Mailed links: MailToken.delete_outranked runs first, in take_back (it returns who lost
    standing); the bound ones left are void anyway (the password changed)."""


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


def pause_webhooks_and_feeds(recovery):
    """Pause the webhooks and Atom feeds not made through a second step the account still
    has, as share links are: each sends or reads the notes to whoever set it up."""
    paused = 0
    for model in (Webhook, AtomFeed):
        not_proven = model.made_with_second_step.is_not(True)
        if recovery.ended.passkeys or recovery.ended.app:
            not_proven = not_proven | (model.created_at > recovery.since)
        statement = update(model).where(
            model.user_id == recovery.user.id, model.paused_at.is_(None), not_proven
        )
        if model is AtomFeed:
            statement = statement.where(AtomFeed.revoked_at.is_(None))
        paused += db.session.execute(
            statement.values(paused_at=utcnow()).execution_options(synchronize_session=False)
        ).rowcount
    recovery.ended.paused_hooks = paused


def end_drop_request(recovery):
    recovery.ended.drop_request = SecondStepRecovery.of(recovery.user.id) is not None
    SecondStepRecovery.end(recovery.user.id)


def void_pending_moves(user, ended):
    """The first second step changes the account's sign-in: every bound link sent before it
    (a pending move) is void (User.proofs_changed_at); count the moves it voided."""
    ended.moves = len(MailToken.pending_moves(user))
    user.proofs_changed()


def end_other_sessions(user, ended):
    """End every session but this one: none of them passed a second step."""
    ended.sessions = db.session.execute(
        delete(LoginSession).where(
            LoginSession.user_id == user.id,
            LoginSession.token_hash != hash_token(user.session_token or ""),
        )
    ).rowcount


def end_pushes(user_id, ended, keep_session=None):
    """End the account's push subscriptions (but those `keep_session` turned on); count them.

    A subscription opens nothing, but it carries the titles of the account's reminders to a
    browser: one turned on by whoever held a session that ends must not keep them coming.
    """
    statement = delete(PushSubscription).where(PushSubscription.user_id == user_id)
    if keep_session is not None:
        statement = statement.where(
            PushSubscription.login_session_id.is_distinct_from(keep_session)
        )
    ended.pushes = db.session.execute(statement).rowcount


def end_other_pushes(user, ended):
    """As the first second step ends every other session, end what they turned on."""
    end_pushes(user.id, ended, keep_session=LoginSession.id_of(user.session_token))


WAYS_IN = (
    WayIn(
        User,
        "the password (set by its owner, or by a mailed reset or undo link)",
        on_recovery=lambda recovery: None,  # take_back sets the new one
        on_first_second_step=None,
        ended_by="a recovery sets a new one",
    ),
    # Before the sessions, whose end would take these along uncounted.
    WayIn(
        PushSubscription,
        "a session: a browser's keys to read the reminders pushed to it (it opens nothing)",
        on_recovery=lambda recovery: end_pushes(recovery.user.id, recovery.ended),
        on_first_second_step=end_other_pushes,
        ended_by="its session's end (sign-out, password change), every recovery; the first "
        "second step ends those of other sessions",
    ),
    WayIn(
        LoginSession,
        "a sign-in: the password, and the second step if one is on",
        on_recovery=end_sessions,
        on_first_second_step=end_other_sessions,
        ended_by="every recovery; the first second step ends every other",
    ),
    WayIn(
        AccessToken,
        "a session, with the password again and a recent second step if one is on",
        on_recovery=lambda recovery: revoke_tokens(recovery.user.id, recovery.ended),
        on_first_second_step=lambda user, ended: revoke_tokens(user.id, ended),
        ended_by="every recovery; the first second step (each was made with the password alone)",
    ),
    WayIn(
        Passkey,
        "a session; the first with the password alone, others with a recent second step",
        on_recovery=remove_new_second_steps,
        on_first_second_step=None,
        ended_by="a recovery, if added within the window with no older second step left",
        second_step=True,
    ),
    WayIn(
        TotpCredential,
        "a session and a code of it; the first with the password alone",
        on_recovery=lambda recovery: None,  # with the passkeys: remove_new_second_steps
        on_first_second_step=None,
        ended_by="a recovery, as the passkeys",
        second_step=True,
    ),
    WayIn(
        RecoveryCode,
        "shown once to whoever turned the first second step on or made new ones",
        on_recovery=drop_unneeded_codes,
        on_first_second_step=None,
        ended_by="a recovery that leaves no second step",
        second_step=True,
    ),
    WayIn(
        MailToken,
        "mailed to an address with standing (a move's: to the new address)",
        on_recovery=delete_outranked_links,
        on_first_second_step=void_pending_moves,
        ended_by="an act from an address that outranks it; any change of the account's sign-in",
    ),
    WayIn(
        NoteShare,
        "a session (made_with_second_step says whether it had passed one)",
        on_recovery=pause_share_links,
        on_first_second_step=None,  # read-only, and the owner's own: kept
        ended_by="a recovery pauses those her proofs did not make, to keep or revoke",
    ),
    WayIn(
        Webhook,
        "a session (made_with_second_step says whether it had passed one), or a write token; "
        "its secret shown once, its URL chosen by whoever made it",
        on_recovery=pause_webhooks_and_feeds,
        on_first_second_step=None,  # the owner's own: kept
        ended_by="its owner (My page, the API); a recovery pauses those her proofs did not "
        "make, to keep or end",
    ),
    WayIn(
        AtomFeed,
        "a session (made_with_second_step says whether it had passed one); read-only",
        on_recovery=lambda recovery: None,  # with the webhooks: pause_webhooks_and_feeds
        on_first_second_step=None,  # read-only, and the owner's own: kept
        ended_by="its owner revokes it; a recovery pauses those her proofs did not make",
    ),
    WayIn(
        SecondStepRecovery,
        "the password alone, then a wait every address with standing is told of",
        on_recovery=end_drop_request,
        on_first_second_step=None,
        ended_by="a recovery, a second step that passes, or its time running out",
        second_step=True,
    ),
)


def recover(user, actor):
    """Walk WAYS_IN for a recovery of `user` from address `actor`; return what it ended."""
    ended = Ended()
    recovery = Recovery(user, actor, untrusted_since(user, actor), ended)
    for way in WAYS_IN:
        way.on_recovery(recovery)
    user.proofs_changed()
    return ended


def first_second_step_on(user):
    """Walk WAYS_IN as the first second step turns on; return what it ended."""
    ended = Ended()
    for way in WAYS_IN:
        if way.on_first_second_step is not None:
            way.on_first_second_step(user, ended)
    return ended


def second_step_changed(user):
    """Record a change of the account's second steps that is not the first: pending bound
    links sent before it are void."""
    user.proofs_changed()


def drop_second_steps(user):
    """Remove every second step of the account and the request that waited for it (the
    owner who lost them all has waited, told, and nobody stopped it)."""
    for way in WAYS_IN:
        if way.second_step:
            db.session.execute(delete(way.model).where(way.model.user_id == user.id))
    user.proofs_changed()
