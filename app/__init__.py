"""Memo: personal notes, a word counter and a profile page, as a Flask app."""

from flask import Flask, url_for
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from app import (
    attachments,
    auth,
    errors,
    health,
    inbox,
    jobs,
    mypage,
    notes,
    objects,
    pooling,
    requestlog,
    search,
    security,
    storage,
    wordcount,
)
from app.auth import tasks as auth_tasks
from app.cli import db_budget, jobs_cli, seed_demo, storage_cli, worker
from app.extensions import csrf, db, login_manager, migrate
from app.i18n import choice, formats, stored
from app.i18n import routes as i18n_routes
from app.models import BIGINT_MAX
from app.mypage import tasks as mypage_tasks
from app.notes import tasks as notes_tasks
from app.wordcount import tasks as wordcount_tasks
from config import load_config


class IdConverter(IntegerConverter):
    """A database id: a positive integer that fits PostgreSQL's `bigint`."""

    def __init__(self, url_map):
        super().__init__(url_map, min=1, max=BIGINT_MAX)


def photo_url(user):
    """Return the URL of the user's profile photo, or of the placeholder."""
    return user.image_url or url_for("static", filename="avatar-placeholder.svg")


def create_app(settings=None, overrides=None):
    """Create the app for the config class `settings` (default: APP_SETTINGS)."""
    app = Flask(__name__)
    app.config.from_object(load_config(settings))
    app.config.update(overrides or {})
    app.url_map.converters["id"] = IdConverter

    hops = app.config["TRUSTED_PROXY_HOPS"]
    if hops:
        # The router sets X-Forwarded-For and X-Forwarded-Proto; X-Forwarded-Host it passes on
        # as the client sent it, so the Host header alone names this site.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=1, x_host=0)

    requestlog.init_app(app)
    security.init_app(app)
    db.init_app(app)
    pooling.init_app(app)
    migrate.init_app(app, db, compare_type=True, render_as_batch=False)
    # Templates get `current_user` from errors.signed_in_user_context instead.
    login_manager.init_app(app, add_context_processor=False)
    csrf.init_app(app)

    choice.init_app(app)
    formats.init_app(app)
    stored.init_app(app)
    storage.init_app(app)
    errors.init_app(app)
    app.register_blueprint(health.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(notes.bp)
    app.register_blueprint(mypage.bp)
    app.register_blueprint(wordcount.bp)
    app.register_blueprint(search.bp)
    app.register_blueprint(attachments.bp)
    app.register_blueprint(i18n_routes.bp)
    if app.config["LOCAL_INBOX"]:  # development only: never in staging or production
        app.register_blueprint(inbox.bp)
    app.cli.add_command(storage_cli)
    app.cli.add_command(db_budget)
    app.cli.add_command(seed_demo)
    app.cli.add_command(worker)
    app.cli.add_command(jobs_cli)
    # Each feature declares its jobs; the worker runs them by the names the queue stores.
    jobs.register_tasks(
        objects.blueprint,
        auth_tasks.blueprint,
        mypage_tasks.blueprint,
        notes_tasks.blueprint,
        wordcount_tasks.blueprint,
    )

    app.add_template_global(photo_url)

    @app.context_processor
    def environment_name():
        return {"environment": app.config["ENVIRONMENT"]}

    return app
