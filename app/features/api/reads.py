"""Heavy reads of the API (a page of the change feed or of the notes list), counted while
they run, as searches are (app/features/search/query.py): each holds one of its account's
API_READS_IN_FLIGHT_PER_USER slots, a transaction-level advisory lock that PostgreSQL lets
go when the request's transaction ends (a worker that dies frees it too), so every web
process and dyno shares the count; with every slot held the read is refused with 429.
"""

from flask import current_app
from flask_babel import gettext
from sqlalchemy import text
from werkzeug.exceptions import TooManyRequests

from app.extensions import db

# The advisory locks' class ids, one a slot (searches' are 2301 on); the second key is the
# account's id.
API_READ_LOCK_CLASS = 2401
TAKE_SLOT = text(
    "SELECT slot FROM generate_series(0, :slots - 1) AS slot"
    " WHERE pg_try_advisory_xact_lock(:class_id + slot, :object_id) LIMIT 1"
)


def hold_api_read(user_id):
    """Hold one of the account's heavy-read slots until the transaction ends; 429 when its
    API_READS_IN_FLIGHT_PER_USER slots are all held by its reads still running."""
    config = current_app.config
    slot = db.session.scalar(
        TAKE_SLOT,
        {
            "slots": config["API_READS_IN_FLIGHT_PER_USER"],
            "class_id": API_READ_LOCK_CLASS,
            "object_id": user_id & 0x7FFFFFFF,
        },
    )
    if slot is None:
        raise TooManyRequests(
            gettext("You have long reads still running; try again in a moment."),
            retry_after=config["API_READS_RETRY_AFTER_SECONDS"],
        )
