"""An archive to import goes from the browser straight to the store, never through the web.

My page signs a POST policy for one key, `imports/<user id>/<token>` (app/objects.py), of at
most IMPORT_MAX_BYTES: the largest export an account can have, so its own export always
fits. The store sends the browser back to a page that writes nothing and holds one button
(pressed by a script at once, or by the person without one): a short POST that checks what
arrived (its size, its time) and queues the import in the user's lane of the queue
(app/features/mypage/tasks.py). The worker reads the archive from the store
(app/features/mypage/importing.py) and deletes it once done or failed; the sweep deletes one never
confirmed.

Showing the form writes nothing, and every view offers the same key until an import starts
(app/features/mypage/signed_uploads.py): an account has at most one unconfirmed upload in the store
(a second upload replaces the first), besides the one its single import in flight reads. A
confirm is bound to the form's signed ticket and to the signed-in user; the same key
confirmed again starts nothing. At most IMPORTS_PER_HOUR imports start in an hour, counted
from the account's rows in PostgreSQL.
"""

from datetime import timedelta

from flask import url_for
from flask_babel import gettext, ngettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from app import objects, storage
from app.errors import STORE_DOWN, Refused
from app.extensions import db
from app.features import setting
from app.features.attachments import naming
from app.features.mypage import signed_uploads, tasks
from app.i18n.formats import file_size
from app.models import AccountImport, utcnow

PURPOSE = "import-upload"
FALLBACK_NAME = "import"
NOT_STARTED = _l(
    "This import was not started from your page, or it was started too long ago. "
    "Please choose the file again."
)


class ImportRefused(Refused):
    """A confirm that starts no import; the message tells the user why."""


def lifetime():
    """Return how long a signed policy stays valid: the upload must start by then."""
    return timedelta(minutes=setting("IMPORT_UPLOAD_MINUTES"))


def transfer():
    """Return how long an upload started in time may still be arriving."""
    return timedelta(minutes=setting("IMPORT_TRANSFER_MINUTES"))


def key_of(ticket):
    return objects.import_upload_key(ticket.user_id, ticket.token)


def read_ticket(signed, user_id):
    """Return the ticket a confirm carries, or refuse one Memo did not sign for this user."""
    ticket = signed_uploads.read_ticket(PURPOSE, signed, user_id)
    if ticket is None:
        raise ImportRefused(NOT_STARTED, 404)
    return ticket


def form_ticket(user_id, latest_import):
    """Return the ticket of my page's import form: the same key on every view until an
    import starts (`latest_import`: the user's newest, or None), then a new one."""
    latest = latest_import.id if latest_import is not None else 0
    return signed_uploads.form_ticket(PURPOSE, user_id, latest, utcnow(), lifetime())


def page_form(user_id, latest_import):
    """Return my page's import form, signed for one upload to the store (writes nothing)."""
    ticket = form_ticket(user_id, latest_import)
    back = url_for(
        "mypage.import_arrived", upload=signed_uploads.sign(PURPOSE, ticket), _external=True
    )
    try:
        return signed_uploads.PageForm(*upload_form(ticket, back))
    except storage.StorageError:
        return signed_uploads.PageForm(refusal=str(STORE_DOWN))


def upload_form(ticket, back):
    """Sign the store's policy for a ticket; return the form's URL and hidden fields."""
    expires_in = int((ticket.expires_at - utcnow()).total_seconds())
    sizes = (1, setting("IMPORT_MAX_BYTES"))
    return storage.upload_form(
        key_of(ticket), sizes, expires_in, ("redirect", back), signed_uploads.FILENAME_FIELD
    )


def discard(key, message, status):
    """Delete what arrived under `key` and refuse with `message`."""
    objects.delete_later([key])
    db.session.commit()
    raise ImportRefused(message, status)


def check_arrival(ticket):
    """Return the name of the file that arrived for the ticket, or refuse (deleting it)."""
    try:
        size, modified, metadata = storage.head(key_of(ticket))
    except storage.ObjectMissing:
        raise ImportRefused(
            gettext("No file arrived for this import. Please choose the file again.")
        ) from None
    largest = setting("IMPORT_MAX_BYTES")
    if size == 0:
        discard(
            key_of(ticket), gettext("The file is empty. Choose a file with something in it."), 400
        )
    if size > largest:
        message = gettext(
            "The file is %(size)s; an import may be at most %(largest)s. It was not imported.",
            size=file_size(size),
            largest=file_size(largest),
        )
        discard(key_of(ticket), message, 413)
    if modified > ticket.expires_at + transfer():
        message = gettext(
            "The file arrived after its permission had run out. Please choose it again."
        )
        discard(key_of(ticket), message, 400)
    name = naming.clean_name(naming.name_from_metadata(metadata.get("filename")))
    return name or FALLBACK_NAME


def check_rate(user_id):
    """Refuse a new import past IMPORTS_PER_HOUR started in the last hour."""
    limit, hour = setting("IMPORTS_PER_HOUR"), timedelta(hours=1)
    started = db.session.scalar(
        select(func.count()).where(
            AccountImport.user_id == user_id, AccountImport.created_at > utcnow() - hour
        )
    )
    if started >= limit:
        message = ngettext(
            "You have started %(num)d import in the last hour. Please try again later.",
            "You have started %(num)d imports in the last hour. Please try again later.",
            started,
        )
        raise ImportRefused(message, status=429, retry_after=int(hour.total_seconds()))


def already_started(ticket):
    """Return whether an import of this ticket's key was started already."""
    query = select(AccountImport.id).where(
        AccountImport.user_id == ticket.user_id, AccountImport.key == key_of(ticket)
    )
    return db.session.scalar(query.limit(1)) is not None


def confirm(user_id, signed):
    """Queue the import of the archive that arrived for a signed upload; return True if this
    call started it, False if its import had started already. Refuses with ImportRefused."""
    ticket = read_ticket(signed, user_id)
    if already_started(ticket):
        return False
    name = check_arrival(ticket)
    check_rate(user_id)
    if not tasks.start_import(user_id, key_of(ticket), name):
        raise ImportRefused(
            gettext(
                "An import is already under way. Once it has finished, press Import again "
                "to import this file."
            ),
            status=409,
        )
    return True
