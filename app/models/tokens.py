"""Personal access tokens: what lets a script use the JSON API as one account (/api/v1/).

A token's secret is shown once, when it is made, and stored only as its SHA-256
(app/features/tokens/service.py makes, checks and revokes them: the one owner of the rules).
The secret is 256 random bits, so a fast hash is enough: nobody can guess one to match, and
looking it up by its hash needs no slow comparison.
"""

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.accounts import User
from app.models.base import utcnow
from app.models.grants import MadeBy

TOKEN_SCOPES = ("read", "write")
TOKEN_NAME_MAX_LENGTH = 100
TOKEN_MAX_DAYS = 365
# The longest IPv6 address as text is 45 characters; room for a zone or "unknown".
TOKEN_ADDRESS_MAX_LENGTH = 64


class AccessToken(MadeBy, db.Model):
    """A personal access token of one account: a name, a scope, an expiry, its last use.

    Revoked tokens keep their row (revoked_at set) until the hourly clean-up, so the tokens
    made in the last hour can be counted; they authenticate nothing.
    """

    __tablename__ = "access_token"
    __table_args__ = (
        Index("ix_access_token_user_id_created_at", "user_id", "created_at"),
        CheckConstraint("scope IN ('read', 'write')", name="scope"),
        CheckConstraint(
            f"char_length(name) BETWEEN 1 AND {TOKEN_NAME_MAX_LENGTH}", name="name_length"
        ),
        CheckConstraint(
            f"expires_at <= created_at + interval '{TOKEN_MAX_DAYS} days'",
            name="expires_within_a_year",
        ),
        CheckConstraint(
            f"char_length(last_used_address) <= {TOKEN_ADDRESS_MAX_LENGTH}",
            name="last_used_address_length",
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("user.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(Text)
    scope: Mapped[str] = mapped_column(Text)
    secret_hash: Mapped[str] = mapped_column(Text, unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_address: Mapped[str | None] = mapped_column(Text)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    user: Mapped[User] = relationship()

    @property
    def may_write(self):
        """Return whether the token may change what the account holds."""
        return self.scope == "write"

    def is_live(self, now=None):
        """Return whether the token authenticates now: neither revoked nor expired."""
        return self.revoked_at is None and self.expires_at > (now or utcnow())
