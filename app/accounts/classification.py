"""Beside the registry of ways in (app/accounts/ways_in.py): what belongs to an account but
lets nobody in, and every route a link opens without a session, with what ends it."""

# What belongs to an account but lets nobody in, and why: with WAYS_IN, every model with a
# foreign key to the account is one or the other (tests/test_ways_in.py).
NOT_WAYS_IN = {
    "Note": "the account's own notes, reached only through a way in",
    "NoteEvent": "a record of a note's change, for the change feed",
    "NoteTombstone": "a record of a note deleted for good, for the change feed",
    "ChangeCounter": "the account's count of changes, for the change feed",
    "IdempotencyKey": "the answer to a save, replayed only to the same account's way in",
    "Attachment": "a file of a note; its links are short-lived and made for a way in",
    "Reminder": "a note's reminder",
    "ReminderOccurrence": "a reminder's firing; its mailed link is in LINKS",
    "WordCount": "a word count the account asked for",
    "AccountExport": "an export, downloaded only through a session's short-lived link",
    "AccountImport": "an import the account uploaded",
    "PhotoUpload": "a profile photo on its way to the store",
    "NoteLink": "a note's [[link]], read from its text by the writer",
    "NoteRename": "a rename of the account's tags or links, run by its worker",
}

# Every route a link opens without a session (a secret in its path), and what ends it: the
# authorization matrix (tests/routematrix.py) names which routes those are, and
# tests/test_ways_in.py fails on one that is not here.
LINKS = {
    "/auth/verify/<secret:token>": "MailToken: bound to the password and address, ended by any "
    "change of them, by a recovery from an address that outranks its own, and when used",
    "/auth/reset/<secret:token>": "MailToken: as a verification link",
    "/auth/secure/<secret:token>": "MailToken: as a verification link; only while its address "
    "ranks as high as the current one",
    "/auth/remove/<secret:token>": "MailToken: void once the address is confirmed",
    "/reminders/act/<secret:token>": "signed with the account's proofs stamp "
    "(app/features/reminders/links.py): ended by every recovery and every change of the "
    "second steps (User.proofs_changed_at), and after REMINDER_LINK_DAYS",
    "/s/<secret:token>": "NoteShare, a grant: paused by a recovery, by the end of the session or "
    "token that made it (a password change, a revocation), and by the first second step when "
    "made with the password alone",
    "/feeds/<secret:token>": "AtomFeed, a grant: revoked by its owner; paused as a share link",
}
