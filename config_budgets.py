"""What each thing a client can repeat may spend: the limits, lifetimes and throttle windows
that Config (config.py) inherits, every one of them in docs/security.md's budget table.

Kept apart from config.py, which reads the environment: none of these comes from it, so a
limit is changed here, in code review, and holds the same in every process and dyno.
"""

from datetime import timedelta


class Budgets:
    """The limits of every input, shared by every environment (tests lower some)."""

    # A deleted note waits in the trash this long before the worker deletes it for good.
    TRASH_DAYS = 30
    # A note's history: the newest HISTORY_PER_NOTE versions, each kept HISTORY_DAYS; saves
    # within HISTORY_QUIET_SECONDS of the last kept version keep none (one step per burst).
    HISTORY_DAYS = 30
    HISTORY_PER_NOTE = 50
    HISTORY_QUIET_SECONDS = 300
    # Importing an archive (app/features/mypage/importing.py): the browser sends it straight to the
    # store (app/features/mypage/import_uploads.py), at most IMPORT_MAX_BYTES (Config.__init__ sets
    # it from the account's limits: an account's own export always fits). What a worker reads of
    # it is bounded by these: text files together to IMPORT_MAX_UNPACKED_BYTES, an export's
    # account.json (read as a stream) to twice NOTE_BYTES_PER_USER and the overhead, and its
    # attachments, copied to the store one at a time, by the account's attachment limits.
    IMPORT_MAX_FILES = 5000
    IMPORT_MAX_UNPACKED_BYTES = 50 * 1024 * 1024
    IMPORT_MAX_RATIO = 100  # an entry may unpack to at most 100 times what it takes
    # Room in an export beside its attachments and notes' text: the JSON and zip framing, the
    # notes' .md copies' compressed bytes and the profile photo.
    IMPORT_OVERHEAD_BYTES = 64 * 1024 * 1024
    IMPORTS_PER_HOUR = 10  # imports one account may start in an hour
    # The CPU one import may spend making its notes (each note's Markdown read and rendered,
    # bounded as a save's, and its rows): 10,000 notes of 1.7 KB with tasks and links took
    # about 200 s on the shared 2-core machine, notes of the largest tables about 0.33 s each.
    # Past it the import fails whole, with a message.
    IMPORT_RENDER_SECONDS = 300
    # A signed import form's lifetime (the upload must start by then), and how long an upload
    # started in time may still run: 1 GiB at 1 Mbit/s takes about 2.5 hours.
    IMPORT_UPLOAD_MINUTES = 10
    IMPORT_TRANSFER_MINUTES = 180
    # Share links (app/features/shares/): live links one account may have, views of one link a
    # minute (a chat app's preview crawler and a group's readers fit), and how long the shared
    # page's attachment links work.
    SHARES_PER_USER = 100
    SHARE_VIEWS_PER_MINUTE = 60
    SHARE_DOWNLOAD_SECONDS = 300
    # The API's change feed (app/features/api/changes.py): a page ends before its JSON passes
    # CHANGES_PAGE_BYTES, whatever its `limit`, with at least one item so a device always moves
    # on (one note is at most its text's 20,000 characters). Pages of the feed and of the notes
    # list are heavy reads: one account may have API_READS_IN_FLIGHT_PER_USER of them running
    # at once (PostgreSQL advisory locks, as searches), 429 past it.
    CHANGES_PAGE_BYTES = 2 * 1024 * 1024
    API_READS_IN_FLIGHT_PER_USER = 2
    API_READS_RETRY_AFTER_SECONDS = 2
    # Personal access tokens (app/features/tokens/): live tokens one account may have, tokens it may
    # make in an hour (revoked ones count), and how long a revoked or expired one is kept.
    TOKENS_PER_ACCOUNT = 50
    TOKENS_PER_HOUR = 10
    TOKEN_KEEP = timedelta(days=7)

    # Password guessing (app/throttle.py): after this many failed checks within the
    # window, an email, or a client address, is refused until the window ends.
    LOGIN_FAILURES_PER_EMAIL = 5
    LOGIN_FAILURES_PER_CLIENT = 50  # a whole office behind one address shares it
    # argon2id at OWASP's minimum (19 MiB, 2 passes, 1 lane): about 25 ms a hash here.
    PASSWORD_HASHING = {"time_cost": 2, "memory_cost": 19456, "parallelism": 1}
    LOGIN_THROTTLE_WINDOW = timedelta(minutes=15)
    SIGNUP_THROTTLE_WINDOW = timedelta(hours=1)

    # The word counter fetches one page of at most 2 MB within 10 s (see app/fetcher/),
    # well inside the router's 30 s, and lists a user's results 20 to a page.
    FETCH_MAX_BYTES = 2 * 1024 * 1024
    FETCH_DEADLINE_SECONDS = 10.0
    RESULTS_PER_PAGE = 20
    SEARCH_RESULTS_PER_PAGE = 20
    # Work a user can queue for the worker before being told to wait (429): enforced in
    # PostgreSQL. Work unfinished after ABANDONED_AFTER is failed (its job was lost).
    WORD_COUNTS_UNFINISHED_PER_USER = 3
    PHOTOS_UNFINISHED_PER_USER = 2
    # A profile photo goes from my page straight to the store
    # (app/features/mypage/photo_uploads.py): its size, how long a signed form lasts (the upload
    # must start by then), and how long an upload started in time may still be arriving.
    PHOTO_MAX_BYTES = 10 * 1024 * 1024
    PHOTO_UPLOAD_MINUTES = 10
    PHOTO_TRANSFER_MINUTES = 30
    UNFINISHED_RETRY_AFTER_SECONDS = 30
    ABANDONED_AFTER = timedelta(minutes=15)

    # Attachments (app/features/attachments/): files go from the browser straight to the object
    # store under a policy Memo signs; these limits are checked before a policy is signed
    # and again when the upload is confirmed.
    ATTACHMENTS_PER_NOTE = 10
    ATTACHMENT_MAX_BYTES = 25 * 1024 * 1024
    ATTACHMENT_QUOTA_BYTES = 1024 * 1024 * 1024  # per user, confirmed attachments
    ATTACHMENT_PENDING_PER_USER = 20  # uploads the script started, not yet confirmed, at once
    ATTACHMENT_UPLOAD_MINUTES = 10  # a policy's lifetime: the upload must start by then
    ATTACHMENT_TRANSFER_MINUTES = 30  # how long an upload started in time may still run
    ATTACHMENT_DOWNLOAD_SECONDS = 60  # a download link's lifetime

    # Mail (app/mail.py, app/accounts/mails.py): how long each kind of link works, and how
    # often mail may be asked for. Throttled in PostgreSQL like sign-ins (app/throttle.py).
    VERIFY_LINK_LIFETIME = timedelta(days=2)
    RESET_LINK_LIFETIME = timedelta(minutes=30)
    EMAIL_CHANGE_LINK_LIFETIME = timedelta(hours=24)
    # A notice's "this was not me" link, and the link that removes an unconfirmed account:
    # a notice may be read days later, and must still undo what it announced.
    SECURE_LINK_LIFETIME = timedelta(days=7)
    REMOVE_LINK_LIFETIME = timedelta(days=7)
    RESETS_PER_EMAIL = 3
    RESETS_PER_CLIENT = 20
    MAILS_PER_ACCOUNT = 5  # verification links asked again and email changes, by one account
    # Mail that others' actions send to one address (sign-ups with it, moves to it), from
    # every account together: past it such mail is not sent, and nobody is told.
    MAILS_PER_RECIPIENT = 5
    MAIL_THROTTLE_WINDOW = timedelta(hours=1)

    # Account exports (app/features/mypage/export.py): an archive is kept this long, and each link
    # to it works for EXPORT_DOWNLOAD_SECONDS.
    EXPORT_KEEP = timedelta(hours=24)
    EXPORT_DOWNLOAD_SECONDS = 300

    # Two-step sign-in (docs/security/two-step.md, "Two-step sign-in": each of these in its budget).
    TOTP_SETUP_LIFETIME, TWO_STEP_PENDING = timedelta(minutes=15), timedelta(minutes=5)
    TWO_STEP_RECENT = timedelta(minutes=10)
    # A grant (share link, feed, webhook, token) needs the password confirmed in this login
    # session within GRANT_RECENT (the sign-in counts); one notice for a session's share
    # links made within GRANT_NOTICE_EVERY of each other (app/features/grants/).
    GRANT_RECENT, GRANT_NOTICE_EVERY = timedelta(minutes=10), timedelta(minutes=1)
    TWO_STEP_FAILURES_PER_WINDOW, TWO_STEP_THROTTLE_WINDOW = 5, timedelta(minutes=15)
    TWO_STEP_FAILURES_PER_DAY, TWO_STEP_DAY = 20, timedelta(days=1)
    # Passkeys (app/features/second_step/): how many an account keeps, how long a ceremony's
    # challenge stands (a name's and an answer's sizes are the forms':
    # app/features/second_step/forms.py).
    PASSKEYS_PER_ACCOUNT, PASSKEY_CEREMONY = 10, timedelta(minutes=5)
    # Losing every second step: how long a request to turn it off waits, told to every
    # address with standing, before the password alone may finish it (docs/mail.md).
    SECOND_STEP_RECOVERY_WAIT = timedelta(days=7)
    # Reminders (app/features/reminders/): one a note (a unique column), REMINDERS_PER_USER an
    # account (counted under the account's row lock), none more often than daily (the repeats
    # offered); at most REMINDER_MAILS_PER_HOUR mailed an hour an account (the rest wait in the due
    # view, never mailed), each sweep fires REMINDER_SWEEP_BATCH at a time; a mail's done and snooze
    # links work REMINDER_LINK_DAYS, each snooze once.
    REMINDERS_PER_USER = 100
    REMINDER_MAILS_PER_HOUR = 20
    REMINDER_SWEEP_BATCH = 200
    REMINDER_LINK_DAYS = 7
    REMINDER_SNOOZE = timedelta(hours=1)
    # Web Push (app/features/reminders/subscriptions.py, pushing.py): browsers one account may have
    # subscribed, reminders pushed an hour an account (each to every browser: counted from
    # reminder_occurrence.pushed_at), the largest payload before encryption, how long a push
    # service keeps one for a phone that is off, and how long one push may take.
    PUSH_SUBSCRIPTIONS_PER_USER = 10
    REMINDER_PUSHES_PER_HOUR = 20
    PUSH_PAYLOAD_MAX_BYTES = 3072
    PUSH_TTL_SECONDS = 6 * 3600
    PUSH_DEADLINE_SECONDS = 10.0
    # Webhooks (app/features/webhooks/): WEBHOOKS_PER_USER an account; at most
    # WEBHOOK_DELIVERIES_PER_HOUR attempts an hour an account (the rest wait for the next
    # hour); each attempt gets WEBHOOK_DEADLINE_SECONDS in all (DNS, connect, send, answer)
    # and reads at most 4 KB of the answer (ANSWER_BYTES in app/fetcher/client.py), no redirect.
    # An account's waiting deliveries: at most WEBHOOK_PENDING_ROWS rows, sending at most
    # WEBHOOK_PENDING_BYTES (each counted from its note when collected); past either,
    # collection stops until they drain.
    # FEEDS_PER_USER private Atom feeds an account, each listing the newest FEED_ENTRIES notes
    # that fit in FEED_BYTES of Atom (at least one); FEED_READS_IN_FLIGHT of one feed's reads
    # built at once (the feed's own slots: never its owner's heavy-read slots).
    WEBHOOKS_PER_USER = 10
    WEBHOOK_DELIVERIES_PER_HOUR = 600
    WEBHOOK_DEADLINE_SECONDS = 5.0
    WEBHOOK_PENDING_ROWS = 1000
    WEBHOOK_PENDING_BYTES = 16 * 1024 * 1024
    FEED_READS_IN_FLIGHT = 2
    FEEDS_PER_USER = 10
    FEED_ENTRIES = 50
    FEED_BYTES = 1024 * 1024
