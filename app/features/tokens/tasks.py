"""The tokens' job: delete, every hour, tokens revoked or expired longer than TOKEN_KEEP ago."""

import logging

from flask import current_app

from app import jobs
from app.extensions import db
from app.features.tokens import service

logger = logging.getLogger("memo.tokens")
blueprint = jobs.Blueprint()


@blueprint.periodic(cron="27 * * * *", periodic_id="hourly")
@blueprint.task(
    name="delete_spent_access_tokens",
    queueing_lock="delete_spent_access_tokens",
    queue=jobs.MAINTENANCE_QUEUE,
)
def delete_spent_access_tokens(timestamp):
    """Delete tokens that authenticate nothing any more, once the page has shown them a while."""
    logger.info(
        "deleted %s spent access tokens", service.delete_spent(current_app.config["TOKEN_KEEP"])
    )
    db.session.commit()
