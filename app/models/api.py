"""What the JSON API keeps of its own: the Idempotency-Key of each note a client created."""

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Identity,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import utcnow

IDEMPOTENCY_KEY_MAX_LENGTH = 255


class IdempotencyKey(db.Model):
    """A key a client sent with `POST /api/v1/notes`: the same key within 24 hours answers
    the note it made (migration 0026)."""

    __tablename__ = "api_idempotency_key"
    __table_args__ = (
        UniqueConstraint("user_id", "key"),
        CheckConstraint(
            f"char_length(key) BETWEEN 1 AND {IDEMPOTENCY_KEY_MAX_LENGTH}", name="key_length"
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("user.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(Text)
    # A digest of the body: the same key with another body is refused, not answered.
    request_digest: Mapped[str] = mapped_column(Text)
    note_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("note.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, index=True
    )
