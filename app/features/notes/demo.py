"""`flask seed-demo`: an account with a few notes, for trying Memo locally."""

import os

import click
from flask.cli import with_appcontext
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.features.notes import service
from app.models import User, utcnow

DEMO_NOTES = [
    ("Welcome to Memo", "This is a review app. Notes, my page and the word counter all work."),
    ("Things to try", "Add a photo on my page, count the words of a page, edit this note."),
]


@click.command("seed-demo")
@click.option("--email", default="demo@example.com", show_default=True)
@click.option(
    "--password",
    default=lambda: os.environ.get("DEMO_PASSWORD", ""),
    show_default="DEMO_PASSWORD",
    help="The demo account's password, 8 characters or more.",
)
@with_appcontext
def seed_demo(email, password):
    """Create a demo account with a few notes (a review app's postdeploy); rerunning is a no-op."""
    if len(password) < 8:
        raise click.UsageError("set DEMO_PASSWORD (or --password) to 8 characters or more")
    if User.find_by_email(email) is not None:
        click.echo(f"The demo account {email} exists already; nothing changed")
        return
    user = User(email=email, nickname="demo", email_verified_at=utcnow())
    user.set_password(password)
    db.session.add(user)
    try:
        db.session.flush()
        drafts = [{"title": title, "content": content} for title, content in DEMO_NOTES]
        service.create_many(user.id, drafts)
        db.session.commit()
    except IntegrityError:
        # A run at the same moment, or someone already called "demo", got there first.
        db.session.rollback()
        raise click.ClickException(
            f"could not create {email}: the email or nickname is taken"
        ) from None
    click.echo(f"Created the demo account {email} with {len(DEMO_NOTES)} notes")
