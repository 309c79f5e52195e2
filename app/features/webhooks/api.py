"""The API's webhooks: make one (its secret shown only then), list them, end one.

The rules are app/features/webhooks/service.py's, as on My page; another account's webhook
is 404, as a missing one.
"""

from flask import g
from flask_babel import gettext

from app.extensions import db
from app.features.api import bp
from app.features.api.auth import api_user
from app.features.api.documented import problems
from app.features.api.problems import Problem
from app.features.api.schemas import WebhookCreate, WebhookList, WebhookMade
from app.features.grants.ceremony import announce, token_maker
from app.features.webhooks import service


def state_of(webhook):
    """Return `on`, `paused` (by a recovery) or `off` (turned off after failing)."""
    if webhook.disabled_at is not None:
        return "off"
    return "paused" if webhook.paused_at is not None else "on"


def webhook_json(webhook):
    return {
        "id": webhook.id,
        "url": webhook.url,
        "events": list(webhook.events),
        "tag": webhook.tag,
        "state": state_of(webhook),
        "created_at": webhook.created_at,
    }


@bp.post("/webhooks")
@bp.arguments(WebhookCreate)
@bp.response(201, WebhookMade)
@problems(403, 409, 422)
def make_webhook(body):
    """Make a webhook.

    Each event asked for is signed with the `secret` answered here, only this once, and sent
    to `url` by `POST`. At most 10 an account.
    """
    # A WebhookRefused is 422 naming its field, or 409 at the account's limit. The token is
    # its maker (with the token's proofs): revoking the token pauses it; every address is told.
    user = api_user()
    maker = token_maker(g.api_token)
    webhook, secret = service.make_webhook(user.id, body["url"], body["events"], body["tag"], maker)
    announce(user, "webhook", webhook.url)
    db.session.commit()
    return {**webhook_json(webhook), "secret": secret}, 201


@bp.get("/webhooks")
@bp.response(200, WebhookList)
@problems()
def list_webhooks():
    """List the account's webhooks, without their secrets."""
    return {"items": [webhook_json(found) for found in service.webhooks_of(api_user().id)]}


@bp.delete("/webhooks/<id:webhook_id>")
@bp.response(204)
@problems(403, 404)
def end_webhook(webhook_id):
    """End a webhook: nothing more is sent to it."""
    if not service.end_webhook(api_user().id, webhook_id):
        raise Problem(404, "not-found", gettext("You have no webhook with this id."))
    db.session.commit()
    return "", 204
