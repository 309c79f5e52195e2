"""The second step of signing in: an authenticator app's secret, passkeys, recovery codes,
and the throttle of wrong codes (docs/security/two-step.md, "Two-step sign-in")."""

from datetime import datetime, timedelta

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    LargeBinary,
    Text,
    UniqueConstraint,
    delete,
    func,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import utcnow


def chain_start(recorded, user_id):
    """Return when the password alone began a second step's chain of proofs.

    Recorded when the second step is made (revision 0035): the first second step of an
    account asks for the password alone, so its chain begins as it is made; one made through
    a second step the session had just passed belongs to that one's chain, however long
    ago it began, and keeps it when that one is removed. A recovery removes the chains begun
    since the danger began (app/accounts/ways_in.py). One made before the revision has no
    record: it is read as the old rule judged it, made through the account's oldest second
    step left.
    """
    if recorded is not None:
        return recorded
    made = [passkey.created_at for passkey in Passkey.of(user_id)]
    app = TotpCredential.of(user_id)
    if app is not None:
        made.append(app.enabled_at)
    return min(made, default=utcnow())


class TotpCredential(db.Model):
    """An account's authenticator app (RFC 6238): its secret, encrypted with TWO_STEP_KEY,
    and the last time step a code was accepted for, so that each code works once."""

    __tablename__ = "totp_credential"

    user_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("user.id", ondelete="CASCADE"), primary_key=True
    )
    secret: Mapped[str] = mapped_column(Text)  # a Fernet token (app/features/second_step/totp.py)
    last_time_step: Mapped[int] = mapped_column(BigInteger)
    enabled_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # When the password alone began the chain of second steps it was made through (below).
    chain_started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    @classmethod
    def of(cls, user_id):
        """Return the account's authenticator app, or None when it has none."""
        return db.session.get(cls, user_id)

    def chain_start(self):
        """Return when the password alone began this second step's chain (chain_start)."""
        return chain_start(self.chain_started_at, self.user_id)

    @classmethod
    def spend_time_step(cls, user_id, step):
        """Record that a code of time step `step` was accepted; False if one of that step or
        a later one was accepted already (a replay). One atomic update: two requests with
        one code at once, in any process, and exactly one gets True."""
        spent = db.session.execute(
            update(cls)
            .where(cls.user_id == user_id, cls.last_time_step < step)
            .values(last_time_step=step)
        )
        return spent.rowcount == 1

    @classmethod
    def turn_off(cls, user_id):
        """Remove the account's authenticator app (and its recovery codes, if no passkey
        is left)."""
        db.session.execute(delete(cls).where(cls.user_id == user_id))
        RecoveryCode.drop_unless_needed(user_id)


class RecoveryCode(db.Model):
    """A single-use code that stands in for the authenticator app; only its SHA-256 is kept
    (80 random bits: no slow hash needed)."""

    __tablename__ = "recovery_code"
    __table_args__ = (UniqueConstraint("user_id", "code_hash", name="uq_recovery_code_user_id"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("user.id", ondelete="CASCADE"))
    code_hash: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The chain of the second step whose making (or recent proof) showed them (chain_start).
    chain_started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    @classmethod
    def replace(cls, user_id, hashes, chain_started_at):
        """Make `hashes` the account's recovery codes, of the chain `chain_started_at`: the
        earlier ones are void."""
        db.session.execute(delete(cls).where(cls.user_id == user_id))
        db.session.add_all(
            cls(user_id=user_id, code_hash=code_hash, chain_started_at=chain_started_at)
            for code_hash in hashes
        )

    @classmethod
    def chain_of(cls, user_id):
        """Return when the password alone began the chain of the account's recovery codes
        (one chain: they are made together), or None when it has none."""
        started = db.session.execute(
            select(func.min(cls.chain_started_at), func.count()).where(cls.user_id == user_id)
        ).one()
        if not started[1]:
            return None
        return chain_start(started[0], user_id)

    @classmethod
    def remove_all(cls, user_id):
        """Delete the account's recovery codes."""
        db.session.execute(delete(cls).where(cls.user_id == user_id))

    @classmethod
    def spend(cls, user_id, code_hash):
        """Mark the unused code of `code_hash` used; False if there is none (wrong or used).
        One atomic update: the same code twice at once works once."""
        spent = db.session.execute(
            update(cls)
            .where(cls.user_id == user_id, cls.code_hash == code_hash, cls.used_at.is_(None))
            .values(used_at=func.now())
        )
        return spent.rowcount == 1

    @classmethod
    def drop_unless_needed(cls, user_id):
        """Delete the account's recovery codes once it has no second step left to stand in
        for (neither an app nor a passkey)."""
        if TotpCredential.of(user_id) is None and not Passkey.count_of(user_id):
            db.session.execute(delete(cls).where(cls.user_id == user_id))

    @classmethod
    def left(cls, user_id):
        """Return how many of the account's recovery codes are unused."""
        return db.session.scalar(
            select(func.count()).where(cls.user_id == user_id, cls.used_at.is_(None))
        )


class TwoStepThrottle(db.Model):
    """Wrong codes per account within a window, counted by app/throttle.py like the
    password checks of login_throttle (a table of its own, so that no revision widens
    login_throttle's CHECK on its scopes)."""

    __tablename__ = "two_step_throttle"
    __table_args__ = (
        CheckConstraint("scope IN ('two-step', 'two-step-day')", name="scope"),
        Index("ix_two_step_throttle_window_started_at", "window_started_at"),
    )

    scope: Mapped[str] = mapped_column(Text, primary_key=True)
    subject: Mapped[str] = mapped_column(Text, primary_key=True)
    failures: Mapped[int] = mapped_column(BigInteger)
    window_started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Passkey(db.Model):
    """A passkey (a WebAuthn credential) of an account: its id and public key as the
    authenticator made them, the name its owner gave it, and the newest challenge it answered,
    so that an answer is accepted once (app/features/second_step/ceremonies.py)."""

    __tablename__ = "passkey"
    __table_args__ = (
        UniqueConstraint("credential_id", name="uq_passkey_credential_id"),
        Index("ix_passkey_user_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("user.id", ondelete="CASCADE"))
    credential_id: Mapped[bytes] = mapped_column(LargeBinary)
    public_key: Mapped[bytes] = mapped_column(LargeBinary)  # COSE, as the authenticator sent it
    # The account's WebAuthn user handle: random, the same for each of its passkeys.
    user_handle: Mapped[bytes] = mapped_column(LargeBinary)
    name: Mapped[str] = mapped_column(Text)
    sign_count: Mapped[int] = mapped_column(BigInteger, default=0)
    # When (in microseconds) the newest challenge this passkey answered was made.
    answered_challenge_at: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # When the password alone began the chain of second steps it was made through (below).
    chain_started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    def chain_start(self):
        """Return when the password alone began this passkey's chain (chain_start)."""
        return chain_start(self.chain_started_at, self.user_id)

    @classmethod
    def of(cls, user_id):
        """Return the account's passkeys, oldest first."""
        return db.session.scalars(select(cls).where(cls.user_id == user_id).order_by(cls.id)).all()

    @classmethod
    def count_of(cls, user_id):
        """Return how many passkeys the account has."""
        return db.session.scalar(select(func.count()).where(cls.user_id == user_id))

    @classmethod
    def by_credential(cls, credential_id):
        """Return the passkey of a credential id, or None."""
        return db.session.scalar(select(cls).where(cls.credential_id == credential_id))

    @classmethod
    def own(cls, user_id, passkey_id):
        """Return the account's passkey `passkey_id`, or None (another's, or gone)."""
        return db.session.scalar(select(cls).where(cls.id == passkey_id, cls.user_id == user_id))

    def answer(self, challenge_at, sign_count):
        """Record an accepted answer to a challenge made at `challenge_at`; False if this
        passkey answered that challenge, or a newer one, already (a replay). One atomic
        update: the same answer twice at once, in any process, is accepted once."""
        cls = type(self)
        answered = db.session.execute(
            update(cls)
            .where(cls.id == self.id, cls.answered_challenge_at < challenge_at)
            .values(
                answered_challenge_at=challenge_at, sign_count=sign_count, last_used_at=func.now()
            )
        )
        return answered.rowcount == 1

    @classmethod
    def remove(cls, passkey):
        """Remove a passkey (and the recovery codes, if it was the last second step)."""
        db.session.execute(delete(cls).where(cls.id == passkey.id))
        RecoveryCode.drop_unless_needed(passkey.user_id)


class SecondStepRecovery(db.Model):
    """An account's request to turn its second step off, made by someone who has the
    password but no second step (a lost phone, lost passkeys, lost codes): it stands
    SECOND_STEP_RECOVERY_WAIT while every address with standing is told, and any second step
    that passes, reset or undo meanwhile ends it (docs/mail.md, "The one rule": Waits)."""

    __tablename__ = "second_step_recovery"
    # How long a request may be finished once its wait is over (docs/mail.md, "Waits").
    FINISH_WITHIN = timedelta(days=7)

    user_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("user.id", ondelete="CASCADE"), primary_key=True
    )
    asked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    @classmethod
    def of(cls, user_id):
        """Return the account's standing request, or None."""
        return db.session.get(cls, user_id)

    @classmethod
    def ask(cls, user_id):
        """Start the account's wait; False if one stands already (it keeps its start)."""
        asked = db.session.execute(
            insert(cls).values(user_id=user_id, asked_at=utcnow()).on_conflict_do_nothing()
        )
        return asked.rowcount == 1

    def lapsed(self, wait):
        """Return whether the request is void: it may be finished for FINISH_WITHIN once its
        `wait` is over, then must be asked (and told) again."""
        return utcnow() >= self.asked_at + wait + self.FINISH_WITHIN

    @classmethod
    def end(cls, user_id):
        """End the account's wait, if one stands."""
        db.session.execute(delete(cls).where(cls.user_id == user_id))
