"""Every way into an account, in one registry: what proof made it, and what ends it.

docs/mail.md, "The one rule". A recovery from the owner's address (a reset, or an undo link
she may use) and turning the first second step on walk WAYS_IN; nothing else keeps a list of
credentials. Each entry names the model that holds the way in, the proof that made it, and
what each walk does to it. Every model with a foreign key to the account is in WAYS_IN or
in app/accounts/classification.py's NOT_WAYS_IN with why, and every route a link opens
without a session is in its LINKS: tests/test_ways_in.py fails on one that is in neither.
"""

from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from sqlalchemy import delete, update

from app.accounts.pausing import (
    pause_password_only_hooks,
    pause_password_only_links,
    pause_share_links,
    pause_webhooks_and_feeds,
)
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
        return asdict(self)


@dataclass
class Recovery:
    """One recovery's facts: the account, the mailed link it was done with (a reset or an
    undo link) and its address, the span of time in which a chain of second steps begun by
    the password alone may be someone else's (since, until]: those chains go; and what the
    walk ended: `ended` for the mail, `dropped` the addresses that lost their standing."""

    user: User
    link: MailToken
    since: object  # datetime
    until: object  # datetime
    ended: Ended
    dropped: list = field(default_factory=list)

    def may_be_anothers(self, chain_started_at):
        """Return whether a second step of the chain begun at `chain_started_at` goes."""
        return chain_started_at is not None and self.since < chain_started_at <= self.until


@dataclass(frozen=True)
class WayIn:
    """A kind of way in: its model, the proof that makes it, and what ends it."""

    model: type
    made_by: str
    on_recovery: Callable  # (Recovery) -> None, records what it ended
    on_first_second_step: Callable | None  # (user, Ended) -> None
    ended_by: str
    second_step: bool = False  # dropped whole when the owner who lost them all has waited


def danger_window(user, actor, undone_at=None):
    """Return (since, until): when the chains of second steps a recovery from `actor`
    removes may have begun.

    Since the undo window's start, or 7 days before the act an undo link undoes
    (`undone_at`: an intruder's second step may be older than the window at the undo), or,
    when later, since the account came to `actor`. Until now, unless `actor` came to the
    account within the window by a move that needed no second step: it may be an intruder's
    address, and the second steps turned on after it came are not its to remove.
    """
    now = utcnow()
    window = AddressHold.undo_window()
    since = now - window
    if undone_at is not None:
        since = min(since, undone_at - window)
    held = {comparison_key(email): since for email, since, _ in AddressHold.standing(user)}
    since = max(since, held.get(comparison_key(actor), since))
    if AddressHold.came_by_password_alone(user, actor):
        return since, since
    return since, now


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
    """Remove the passkeys, the app and the recovery codes of every chain the password alone
    began within the recovery's window: chains are recorded as each second step is made
    (TotpCredential.chain_start), so one added through an older second step stays, even
    once that one is gone."""
    user_id = recovery.user.id
    passkeys, app = new_second_steps(recovery)
    codes_go = recovery.may_be_anothers(RecoveryCode.chain_of(user_id))
    for passkey in passkeys:
        db.session.delete(passkey)
    if app is not None:
        db.session.delete(app)
    if codes_go:
        RecoveryCode.remove_all(user_id)
    db.session.flush()
    recovery.ended.passkeys = [passkey.name for passkey in passkeys]
    recovery.ended.app = app is not None


def new_second_steps(recovery):
    """Return (the passkeys, the app or None) of the chains the recovery removes."""
    user_id = recovery.user.id
    passkeys = [p for p in Passkey.of(user_id) if recovery.may_be_anothers(p.chain_start())]
    app = TotpCredential.of(user_id)
    app = app if app is not None and recovery.may_be_anothers(app.chain_start()) else None
    return passkeys, app


def what_a_recovery_removes(user, link):
    """Return what recovering `user` with `link` now would do to its second steps, for the
    page that asks for it to say: (passkey names removed, the app removed, any left)."""
    undone_at = link.created_at if link.purpose == "secure" else None
    recovery = Recovery(user, link, *danger_window(user, link.email, undone_at), Ended())
    passkeys, app = new_second_steps(recovery)
    left = Passkey.count_of(user.id) > len(passkeys) or (
        app is None and TotpCredential.of(user.id) is not None
    )
    return [passkey.name for passkey in passkeys], app is not None, left


def drop_unneeded_codes(recovery):
    RecoveryCode.drop_unless_needed(recovery.user.id)


def delete_outranked_links(recovery):
    """Delete every mailed link the acting address outranks, and the standing of the
    addresses below it (told once more, without an undo link); the bound ones left are
    void anyway (the password changes)."""
    recovery.dropped = MailToken.delete_outranked(
        recovery.user, recovery.link.email, keep=recovery.link
    )


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
        "a grant: the ceremony (app/features/grants/ceremony.py), made_by_session and its proofs",
        on_recovery=lambda recovery: revoke_tokens(recovery.user.id, recovery.ended),
        on_first_second_step=lambda user, ended: revoke_tokens(user.id, ended),
        ended_by="every recovery; the first second step (each was made with the password alone); "
        "its revocation pauses the grants it made",
    ),
    WayIn(
        Passkey,
        "a session; the first with the password alone, others with a recent second step",
        on_recovery=remove_new_second_steps,
        on_first_second_step=None,
        ended_by="a recovery, if its chain (chain_start) was begun by the password alone "
        "within the window",
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
        ended_by="a recovery that removes their chain or leaves no second step",
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
        AddressHold,
        "the account's first address, or a move's confirmation: standing to undo, kept 7 "
        "days after the account leaves it",
        on_recovery=lambda recovery: None,  # with the links: delete_outranked_links
        on_first_second_step=None,
        ended_by="a recovery from an address that outranks it; 7 days after it was left",
    ),
    WayIn(
        NoteShare,
        "a grant: the ceremony, made_by_session and the proofs it had passed then",
        on_recovery=pause_share_links,
        on_first_second_step=pause_password_only_links,
        ended_by="paused with what made it (paused_reason): a recovery, a password change ending "
        "its session; the first second step pauses those made with the password alone",
    ),
    WayIn(
        Webhook,
        "a grant: the ceremony (a session), or a write token (made_by_token); its secret shown "
        "once, its URL chosen by whoever made it",
        on_recovery=pause_webhooks_and_feeds,
        on_first_second_step=pause_password_only_hooks,
        ended_by="its owner (My page, the API); paused with what made it, as share links, and "
        "by its token's revocation",
    ),
    WayIn(
        AtomFeed,
        "a grant: the ceremony, as share links; read-only",
        on_recovery=lambda recovery: None,  # with the webhooks: pause_webhooks_and_feeds
        on_first_second_step=lambda user, ended: None,  # with the webhooks, as above
        ended_by="its owner revokes it; paused with what made it, as share links",
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


def recover(user, link):
    """Walk WAYS_IN for a recovery of `user` with the mailed `link` (a reset, or an undo link,
    which answers the act its notice announced, mailed as it was done); return the Recovery,
    with what it ended."""
    undone_at = link.created_at if link.purpose == "secure" else None
    window = danger_window(user, link.email, undone_at)
    recovery = Recovery(user, link, *window, Ended())
    for way in WAYS_IN:
        way.on_recovery(recovery)
    user.proofs_changed()
    return recovery


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
