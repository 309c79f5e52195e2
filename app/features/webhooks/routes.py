"""The webhooks page, `/mypage/webhooks`: the account's webhooks (make one, its secret shown
once; send a test event; the last deliveries, each sent again on demand; keep one a recovery
paused, turn on one that failed; end one) and its private Atom feeds (make one, its URL shown
once; keep; revoke). Every route acts on the signed-in account's own; another's is 404.
Making either goes through the grants' ceremony (app/features/grants/ceremony.py): the
password, a recent second step when one is on, a notice mailed. Pausing says why.
"""

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext
from flask_login import current_user, login_required

from app.extensions import db
from app.features.grants.ceremony import PasswordNeeded, announce, keep_ceremony, open_ceremony
from app.features.webhooks import outbox, service, tasks
from app.features.webhooks.forms import EVENT_LABELS, FeedForm, WebhookForm
from app.mail import link

bp = Blueprint("webhooks", __name__, url_prefix="/mypage/webhooks")
# The answer that shows a secret is kept by no cache, and by no browser's history.
NOT_KEPT = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def full_message():
    """Say that the account's waiting deliveries are full."""
    return gettext(
        "Too many deliveries are waiting for your receivers: nothing more is added until they "
        "are delivered or given up."
    )


def render_page(form=None, feed_form=None, status=200, refusal=None):
    """Render the webhooks and feeds with the forms that make them."""
    webhooks = service.webhooks_of(current_user.id)
    page = render_template(
        "webhooks/index.html",
        form=form or WebhookForm(formdata=None),
        feed_form=feed_form or FeedForm(formdata=None),
        webhooks=[(hook, service.deliveries_of(hook.id)) for hook in webhooks],
        feeds=service.feeds_of(current_user.id),
        labels=EVENT_LABELS,
        refusal=refusal,
    )
    return page, status


def own_webhook(webhook_id):
    """Return the signed-in account's webhook, or 404."""
    webhook = service.find_webhook(current_user.id, webhook_id)
    if webhook is None:
        abort(404)
    return webhook


@bp.get("")
@login_required
def index():
    """List the account's webhooks, their last deliveries, and its feeds."""
    return render_page()


@bp.post("")
@login_required
def make():
    """Make a webhook and show its secret, this once."""
    form = WebhookForm()
    if not form.validate_on_submit():
        return render_page(form=form, status=400)
    try:
        answer, maker = open_ceremony(current_user, url_for("webhooks.index"), form.password.data)
        if answer:
            return answer
        webhook, secret = service.make_webhook(
            current_user.id, form.url.data, form.events.data, form.tag.data, maker
        )
    except (service.WebhookRefused, PasswordNeeded) as refused:
        db.session.rollback()
        return render_page(form=form, status=400, refusal=str(refused))
    announce(current_user, "webhook", webhook.url)
    db.session.commit()
    page = render_template("webhooks/made.html", webhook=webhook, secret=secret)
    return page, 200, NOT_KEPT


@bp.post("/<id:webhook_id>/test")
@login_required
def send_test(webhook_id):
    """Send a test event to the webhook now."""
    webhook = own_webhook(webhook_id)
    outcome = outbox.add_test_delivery(webhook)
    if outcome == "added":
        tasks.queue_sending(current_user.id)
        db.session.commit()
        flash(gettext("A test event is on its way: its delivery shows below."), "success")
    elif outcome == "waiting":
        flash(gettext("A test event is on its way already: its delivery shows below."), "info")
    else:
        db.session.rollback()
        flash(full_message(), "error")
    return redirect(url_for("webhooks.index", _anchor=f"webhook-{webhook.id}"))


@bp.post("/<id:webhook_id>/deliveries/<id:delivery_id>/again")
@login_required
def send_again(webhook_id, delivery_id):
    """Send one delivery again, with the same id."""
    webhook = own_webhook(webhook_id)
    outcome = outbox.send_again(webhook, delivery_id)
    if outcome is None:
        abort(404)
    if outcome == "full":
        db.session.rollback()
        flash(full_message(), "error")
    else:
        tasks.queue_sending(current_user.id)
        db.session.commit()
        flash(gettext("The event is sent again."), "success")
    return redirect(url_for("webhooks.index", _anchor=f"webhook-{webhook.id}"))


@bp.post("/<id:webhook_id>/keep")
@login_required
def keep(webhook_id):
    """Keep a webhook a recovery paused: its events flow again (through the ceremony)."""
    own_webhook(webhook_id)
    answer = keep_ceremony(current_user, url_for("webhooks.index"))
    if answer:
        return answer
    if not service.keep_webhook(current_user.id, webhook_id):
        abort(404)
    announce(current_user, None)
    tasks.queue_sending(current_user.id)
    db.session.commit()
    flash(gettext("The webhook is on again."), "success")
    return redirect(url_for("webhooks.index"))


@bp.post("/<id:webhook_id>/turn-on")
@login_required
def turn_on(webhook_id):
    """Turn on a webhook turned off after failing: events from now on."""
    if not service.turn_on(current_user.id, webhook_id):
        abort(404)
    db.session.commit()
    flash(gettext("The webhook is on again: it gets the events from now on."), "success")
    return redirect(url_for("webhooks.index"))


@bp.post("/<id:webhook_id>/delete")
@login_required
def end(webhook_id):
    """End a webhook: nothing more is sent to it."""
    if not service.end_webhook(current_user.id, webhook_id):
        abort(404)
    db.session.commit()
    flash(gettext("The webhook is ended: nothing more is sent to it."), "success")
    return redirect(url_for("webhooks.index"))


@bp.post("/feeds")
@login_required
def make_feed():
    """Make a private feed and show its URL, this once."""
    form = FeedForm()
    if not form.validate_on_submit():
        return render_page(feed_form=form, status=400)
    try:
        answer, maker = open_ceremony(current_user, url_for("webhooks.index"), form.password.data)
        if answer:
            return answer
        feed, token = service.make_feed(current_user.id, form.tag.data, maker)
    except (service.WebhookRefused, PasswordNeeded) as refused:
        db.session.rollback()
        return render_page(feed_form=form, status=400, refusal=str(refused))
    announce(current_user, "feed", f"#{feed.tag}" if feed.tag else None)
    db.session.commit()
    url = link("feeds.read", token=token)
    page = render_template("webhooks/feed_made.html", feed=feed, url=url)
    return page, 200, NOT_KEPT


@bp.post("/feeds/<id:feed_id>/revoke")
@login_required
def revoke_feed(feed_id):
    """Revoke a feed: its URL reads nothing from now on."""
    if not service.revoke_feed(current_user.id, feed_id):
        abort(404)
    db.session.commit()
    flash(gettext("The feed is revoked: its address reads nothing any more."), "success")
    return redirect(url_for("webhooks.index"))


@bp.post("/feeds/<id:feed_id>/keep")
@login_required
def keep_feed(feed_id):
    """Keep a feed a recovery paused: its URL reads again (through the ceremony)."""
    answer = keep_ceremony(current_user, url_for("webhooks.index"))
    if answer:
        return answer
    if not service.keep_feed(current_user.id, feed_id):
        abort(404)
    announce(current_user, None)
    db.session.commit()
    flash(gettext("The feed works again."), "success")
    return redirect(url_for("webhooks.index"))
