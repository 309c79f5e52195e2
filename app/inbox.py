"""The local inbox: the mail the development SMTP server kept, readable in the browser.

Registered under DevelopmentConfig only (LOCAL_INBOX), never in staging or production, and
answering requests from this machine only. Like Mailpit: a new user can click the links of
a verification or reset mail without any mail account anywhere.
"""

import email
import email.policy
import ipaddress
import re
from pathlib import Path

from flask import Blueprint, abort, current_app, render_template, request
from markupsafe import Markup, escape

bp = Blueprint("inbox", __name__, url_prefix="/dev/inbox")
MESSAGE_NAME = re.compile(r"[0-9]+-[0-9a-f]{8}\.eml")
URL = re.compile(r"https?://[^\s<>\"]+")


def read_messages(folder):
    """Return (file name, message) for each .eml file in `folder`, oldest first."""
    paths = sorted(Path(folder).glob("*.eml")) if Path(folder).is_dir() else []
    return [(path.name, parse(path.read_bytes())) for path in paths]


def parse(raw):
    """Return the message in `raw` bytes, with headers as objects (the default policy)."""
    return email.message_from_bytes(raw, policy=email.policy.default)


def text_with_links(text):
    """Return plain text as HTML in which every web address is a link."""
    parts, last = [], 0
    for match in URL.finditer(text):
        parts += [
            escape(text[last : match.start()]),
            Markup('<a href="{0}">{0}</a>').format(match[0]),
        ]
        last = match.end()
    return Markup("").join([*parts, escape(text[last:])])


@bp.before_request
def from_this_machine_only():
    """Answer 404 to anyone but this machine: the inbox holds everyone's links."""
    if not ipaddress.ip_address(request.remote_addr or "0.0.0.0").is_loopback:  # noqa: S104
        abort(404)


def folder():
    """Return the folder the local SMTP server keeps mail in."""
    return Path(current_app.root_path).parent / current_app.config["LOCAL_MAIL_DIR"]


@bp.get("")
def index():
    """List the kept messages, newest first."""
    messages = list(reversed(read_messages(folder())))
    return render_template("inbox/index.html", messages=messages)


@bp.get("/<name>")
def message(name):
    """Show one message: its headers and its plain-text part, links clickable."""
    path = folder() / name
    if not MESSAGE_NAME.fullmatch(name) or not path.is_file():
        abort(404)
    kept = parse(path.read_bytes())
    text = kept.get_body(preferencelist=("plain",)).get_content()
    html = kept.get_body(preferencelist=("html",))
    return render_template(
        "inbox/message.html",
        name=name,
        message=kept,
        body=text_with_links(text),
        html=html.get_content() if html else "",
    )
