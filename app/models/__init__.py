"""The data model: users, their notes, attachments and word counts, mailed links, throttles,
access tokens, reminders and the browsers they are pushed to, webhooks and Atom feeds.

One module per part (base, accounts, notes, work, access, transfers, tokens); everything is
imported from here: `from app.models import Note`.
"""

from app.models.access import (
    AddressHold,
    LoginThrottle,
    MailToken,
    account_stamp,
)
from app.models.accounts import (
    LoginSession,
    User,
    burn_password_check,
    dummy_hash,
    hash_token,
)
from app.models.api import IDEMPOTENCY_KEY_MAX_LENGTH, IdempotencyKey
from app.models.base import (
    ATTACHMENT_KEY_MAX_LENGTH,
    ATTACHMENT_NAME_MAX_LENGTH,
    BIGINT_MAX,
    CONTENT_MAX_LENGTH,
    CONTENT_TYPE_MAX_LENGTH,
    EMAIL_MAX_LENGTH,
    EXPORT_BATCH,
    NICKNAME_MAX_LENGTH,
    NICKNAME_MIN_LENGTH,
    TITLE_MAX_LENGTH,
    URL_MAX_LENGTH,
    comparison_key,
    hasher_for,
    password_hasher,
    utcnow,
)
from app.models.changes import ChangeCounter, NoteEvent, NoteTombstone
from app.models.grants import PAUSE_REASONS
from app.models.hooks import (
    WEBHOOK_EVENTS,
    WEBHOOK_URL_MAX_LENGTH,
    AtomFeed,
    Webhook,
    WebhookDelivery,
    WebhookThrottle,
)
from app.models.notes import (
    Attachment,
    Note,
    NoteLink,
    NoteShare,
    NoteVersion,
    new_note_tags,
)
from app.models.push import PushSubscription
from app.models.reminders import Reminder, ReminderOccurrence
from app.models.tokens import (
    TOKEN_ADDRESS_MAX_LENGTH,
    TOKEN_MAX_DAYS,
    TOKEN_NAME_MAX_LENGTH,
    TOKEN_SCOPES,
    AccessToken,
)
from app.models.transfers import (
    AccountExport,
    AccountImport,
    account_json,
)
from app.models.two_step import (
    Passkey,
    RecoveryCode,
    SecondStepRecovery,
    TotpCredential,
    TwoStepThrottle,
)
from app.models.work import (
    ABANDONED,
    STATUS_CHECK,
    UNFINISHED,
    NoteRename,
    PhotoUpload,
    TooManyUnfinished,
    WordCount,
    WorkerOutcome,
    lock_user,
    no_words,
)

__all__ = [
    "EMAIL_MAX_LENGTH",
    "NICKNAME_MIN_LENGTH",
    "NICKNAME_MAX_LENGTH",
    "TITLE_MAX_LENGTH",
    "CONTENT_MAX_LENGTH",
    "URL_MAX_LENGTH",
    "ATTACHMENT_NAME_MAX_LENGTH",
    "ATTACHMENT_KEY_MAX_LENGTH",
    "CONTENT_TYPE_MAX_LENGTH",
    "EXPORT_BATCH",
    "BIGINT_MAX",
    "PAUSE_REASONS",
    "hasher_for",
    "password_hasher",
    "comparison_key",
    "utcnow",
    "User",
    "dummy_hash",
    "burn_password_check",
    "hash_token",
    "LoginSession",
    "Note",
    "NoteLink",
    "NoteRename",
    "NoteShare",
    "NoteVersion",
    "new_note_tags",
    "Attachment",
    "ChangeCounter",
    "NoteEvent",
    "NoteTombstone",
    "UNFINISHED",
    "STATUS_CHECK",
    "ABANDONED",
    "TooManyUnfinished",
    "WorkerOutcome",
    "lock_user",
    "no_words",
    "WordCount",
    "PhotoUpload",
    "account_stamp",
    "MailToken",
    "AddressHold",
    "LoginThrottle",
    "AccountImport",
    "AccountExport",
    "account_json",
    "AccessToken",
    "TOKEN_SCOPES",
    "TOKEN_NAME_MAX_LENGTH",
    "TOKEN_MAX_DAYS",
    "TOKEN_ADDRESS_MAX_LENGTH",
    "IdempotencyKey",
    "IDEMPOTENCY_KEY_MAX_LENGTH",
    "Passkey",
    "SecondStepRecovery",
    "TotpCredential",
    "RecoveryCode",
    "TwoStepThrottle",
    "Reminder",
    "ReminderOccurrence",
    "PushSubscription",
    "Webhook",
    "WebhookDelivery",
    "WebhookThrottle",
    "WEBHOOK_EVENTS",
    "WEBHOOK_URL_MAX_LENGTH",
    "AtomFeed",
]
