"""What every grant records of its making (revision 0037): the login session or access token
that made it, and the proofs that maker had passed at that moment (the password confirmed,
a second step passed, each within its recent window; NULL: not within it). A share link, a
feed, a webhook, a token and a push subscription are grants (app/features/grants/, docs/mail.md
"The one rule"): each ends or pauses with what made it.
"""

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Text
from sqlalchemy.orm import Mapped, mapped_column

# Why a grant is paused, for its card to say (paused_reason).
PAUSE_REASONS = ("recovery", "first_second_step", "token_revoked", "password_change")


class MadeBy:
    """The columns of a grant's maker and its proofs then."""

    made_by_session: Mapped[int | None] = mapped_column(BigInteger)
    made_by_token: Mapped[int | None] = mapped_column(BigInteger)
    password_proven_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    second_step_proven_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Pausable:
    """Why a grant is paused (one of PAUSE_REASONS; NULL: paused before 0037, by a recovery)."""

    paused_reason: Mapped[str | None] = mapped_column(Text)
