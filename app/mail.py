"""Outgoing mail: compose a message from templates and hand it to the SMTP server.

The only module that speaks SMTP. It uses the standard library (email.message to compose,
smtplib to send; docs/mail.md says why), runs in worker jobs only, and names no address
in what it raises: a server's reply is logged with addresses masked.
"""

import hashlib
import re
import ssl
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from functools import cache

from flask import current_app, render_template

from app.models import comparison_key

# Anything that looks like an address in a server's reply, masked before it is logged.
ADDRESS = re.compile(r"[^\s<>@]+@[^\s<>]+")


class MailError(Exception):
    """The SMTP server did not take a message; the text names no address."""


class TemporaryMailError(MailError):
    """Worth another try later: the server is down, unreachable, or answered 4xx."""


class PermanentMailError(MailError):
    """The server refused the message for good (5xx): another try would fail the same way."""


def redact(text):
    """Return `text` with every address in it masked."""
    return ADDRESS.sub("<address>", text)


def recipient_id(address):
    """Return a short digest that names a recipient in logs without the address."""
    return hashlib.sha256(comparison_key(address).encode()).hexdigest()[:12]


def link(endpoint, **values):
    """Return the absolute URL of `endpoint` on PUBLIC_URL, never on a request's Host."""
    path = current_app.url_map.bind("public.invalid").build(endpoint, values)
    return current_app.config["PUBLIC_URL"] + path


def compose(to, subject, template, **context):
    """Return the message `template` (mail/<template>.txt and .html) for address `to`.

    email.message refuses a header value with a line break, and Address() anything but
    one address, so neither an address nor a nickname can add a header.
    """
    sender = current_app.config["MAIL_FROM"]
    message = EmailMessage()
    message["From"] = sender
    message["To"] = Address(addr_spec=to)
    message["Subject"] = subject
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain=parseaddr(sender)[1].rpartition("@")[2])
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies, please
    context = {"subject": subject, "public_url": current_app.config["PUBLIC_URL"], **context}
    message.set_content(render_template(f"mail/{template}.txt", **context))
    message.add_alternative(render_template(f"mail/{template}.html", **context), subtype="html")
    return message


def refusal(code, reply, recipient):
    """Return the error for an SMTP reply `code`: temporary for 4xx, permanent otherwise."""
    text = reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
    kind = TemporaryMailError if 400 <= code < 500 else PermanentMailError
    return kind(f"SMTP {code} for recipient {recipient}: {redact(text)}")


@cache
def tls_context():
    """Return the TLS settings of every connection to the SMTP server, made once a process.

    Making them loads the system's certificate authorities: about 20 ms of CPU, for each mail
    when it was made per connection. A context is meant to be shared by many connections.
    """
    return ssl.create_default_context()


def connect(settings):
    """Return an SMTP connection to the server of SMTP_URL, secured and logged in as it says."""
    import smtplib  # the worker's: the web, which composes and queues mail, never sends it

    timeout = current_app.config["SMTP_TIMEOUT_SECONDS"]
    host, port = settings["host"], settings["port"]
    if settings["security"] == "tls":
        smtp = smtplib.SMTP_SSL(host, port, timeout=timeout, context=tls_context())
    else:
        smtp = smtplib.SMTP(host, port, timeout=timeout)
    try:
        if settings["security"] == "starttls":
            smtp.starttls(context=tls_context())
        if settings["username"]:
            smtp.login(settings["username"], settings["password"])
    except BaseException:
        smtp.close()
        raise
    return smtp


def send(message):
    """Hand `message` to the SMTP server; raise TemporaryMailError or PermanentMailError."""
    import smtplib  # sending is the worker's: the web never loads smtplib

    settings = current_app.config["SMTP"]
    recipient = recipient_id(message["To"].addresses[0].addr_spec)
    if settings is None:
        raise TemporaryMailError("SMTP_URL is not set: no server to send mail to")
    try:
        with connect(settings) as smtp:
            smtp.send_message(message)
    except smtplib.SMTPRecipientsRefused as error:
        code, reply = next(iter(error.recipients.values()))
        raise refusal(code, reply, recipient) from None
    except smtplib.SMTPResponseException as error:
        raise refusal(error.smtp_code, error.smtp_error, recipient) from None
    except (OSError, smtplib.SMTPException) as error:  # refused, timed out, dropped, TLS
        raise TemporaryMailError(f"{type(error).__name__}: {redact(str(error))}") from None
