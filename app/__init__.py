"""Memo: personal notes, a word counter and a profile page, as a Flask app.

This module imports nothing at its top: importing one module of the package (the word
counter's fork server importing its counting child, say) loads that module alone.
"""


def create_app(settings=None, overrides=None):
    """Create the app for the config class `settings` (default: APP_SETTINGS).

    Everything is imported in the factory's steps, as microblog's factory does, not at the
    module's top: a process that imports one module of app/ (the word counter's child) loads
    neither Flask nor the features.
    """
    from flask import Flask

    from app import errors
    from app.urls import IdConverter, Proxied, SecretConverter
    from config import load_config

    app = Flask(__name__)
    app.config.from_object(load_config(settings))
    app.config.update(overrides or {})
    app.url_map.converters["id"] = IdConverter
    app.url_map.converters["secret"] = SecretConverter
    app.wsgi_app = Proxied(app.wsgi_app, app.config["TRUSTED_PROXY_HOPS"])
    init_extensions(app)
    register_blueprints(app)
    # After the API's: flask-smorest sets an app-wide handler of HTTP errors, the pages' replaces.
    errors.init_app(app)
    register_tasks()
    add_template_globals(app)
    return app


def init_extensions(app):
    """Wire the request log, security headers, database, sessions, CSRF, languages and the store."""
    from app import migrating, pooling, requestlog, roundtrips, security, storage
    from app.extensions import csrf, db, login_manager
    from app.i18n import choice, formats, stored
    from app.offline import marks

    requestlog.init_app(app)
    security.init_app(app)
    marks.init_app(app)  # after: it runs first, and loads no user security has not seen
    db.init_app(app)
    pooling.init_app(app)
    if migrating.loaded_by_the_command_line():  # never the web
        migrating.init_app(app)
    # Templates get `current_user` from errors.signed_in_user_context instead.
    login_manager.init_app(app, add_context_processor=False)
    csrf.init_app(app)
    choice.init_app(app)
    formats.init_app(app)
    stored.init_app(app)
    storage.init_app(app)
    roundtrips.init_app(app)
    if app.config["SENTRY_DSN"]:  # unset, sentry_sdk is never imported (the web's memory)
        from app import error_reports

        error_reports.init_app(app)


def register_blueprints(app):
    """Register each feature's pages, the API, the health probes and the flask commands."""
    from app import commands, health, inbox
    from app.features.api import wiring as api_wiring
    from app.features.attachments.routes import bp as attachments_bp
    from app.features.auth import mailed  # noqa: F401  (routes on auth.bp)
    from app.features.auth.routes import bp as auth_bp
    from app.features.mypage import import_news, photo_routes, transfers  # noqa: F401  (on mypage.bp)
    from app.features.mypage import language as i18n_routes
    from app.features.mypage.routes import bp as mypage_bp
    from app.features.note_page import attachments, reminder, shares, view  # noqa: F401  (on their bps)
    from app.features.notes import checklists, renaming, share_sheet, shelves, versions  # noqa: F401  (on notes.bp)
    from app.features.notes.demo import seed_demo
    from app.features.notes.routes import bp as notes_bp
    from app.features.reminders.routes import bp as reminders_bp
    from app.features.search.routes import bp as search_bp
    from app.features.second_step.passkey_routes import bp as passkeys_bp
    from app.features.second_step.routes import bp as two_step_bp
    from app.features.shares.routes import bp as shares_bp
    from app.features.tokens.routes import bp as tokens_bp
    from app.features.webhooks import api as webhooks_api  # noqa: F401  (routes on the API's bp)
    from app.features.webhooks import feeds
    from app.features.webhooks.routes import bp as webhooks_bp
    from app.features.wordcount.routes import bp as wordcount_bp
    from app.offline import routes as offline_routes

    for blueprint in (
        health.bp,
        auth_bp,
        notes_bp,
        mypage_bp,
        wordcount_bp,
        search_bp,
        shares_bp,
        tokens_bp,
        attachments_bp,
        two_step_bp,
        passkeys_bp,
        reminders_bp,
        webhooks_bp,
        feeds.bp,
        i18n_routes.bp,
        offline_routes.bp,
    ):
        app.register_blueprint(blueprint)
    api_wiring.init_app(app)  # the API and /api/docs, through flask-smorest
    if app.config["LOCAL_INBOX"]:  # development only: never in staging or production
        app.register_blueprint(inbox.bp)
    commands.init_app(app)
    app.cli.add_command(seed_demo)


def register_tasks():
    """Record each feature's tasks; the worker runs them by the names the queue stores."""
    from app import jobs, objects
    from app.accounts import tasks as accounts_tasks
    from app.features.mypage import tasks as mypage_tasks
    from app.features.notes import tasks as notes_tasks
    from app.features.reminders import tasks as reminders_tasks
    from app.features.tokens import tasks as tokens_tasks
    from app.features.webhooks import tasks as webhooks_tasks
    from app.features.wordcount import tasks as wordcount_tasks

    jobs.register_tasks(
        jobs.blueprint,
        objects.blueprint,
        accounts_tasks.blueprint,
        mypage_tasks.blueprint,
        notes_tasks.blueprint,
        reminders_tasks.blueprint,
        tokens_tasks.blueprint,
        webhooks_tasks.blueprint,
        wordcount_tasks.blueprint,
    )


def add_template_globals(app):
    """Give every template the photo's URL, Markdown and the environment's name."""
    from app.markdown import html_of
    from app.markdown import render as render_markdown
    from app.urls import photo_url

    app.add_template_global(photo_url)
    app.add_template_global(render_markdown, "markdown")
    app.add_template_global(html_of, "note_html")

    @app.context_processor
    def environment_name():
        return {"environment": app.config["ENVIRONMENT"]}
