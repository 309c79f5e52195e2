"""HEAD answers what GET would (RFC 9110 §9.3.2): the same status and headers, the body's
length in Content-Length, and no body. A template or view that reads the method would make
the two differ; this walks every page without arguments that a stranger or an account reaches
(the authorization matrix's PUBLIC, ACCOUNT and OWNER routes)."""

import re

import pytest

from tests.mailbox import path_of, text_of
from tests.reminding import come_due, deliver, note_with_reminder, reminder_mails, sweep
from tests.routematrix import ACCOUNT, MATRIX, OWNER, PUBLIC

ARGUMENT = re.compile(r"<[^>]+>")
PAGES = sorted(
    rule
    for rule, route in MATRIX.items()
    if "GET" in route.forms
    and not ARGUMENT.search(rule)
    and route.access in (PUBLIC, ACCOUNT, OWNER)
)
# Answers that differ from one request to the next by design, whatever the method: the
# health checks' timings, and the app's set-up page (a new secret and its QR code each time).
CHANGING = {"/readyz", "/healthz", "/mypage/totp"}


def same_answer(client, path):
    client.get(path)  # shows, and so ends, any message flashed before
    got = client.get(path)
    head = client.head(path)
    assert head.status_code == got.status_code, path
    assert head.get_data() == b"", f"HEAD {path} sent a body"
    if got.status_code == 200 and path not in CHANGING:
        body = got.get_data()
        assert int(head.headers["Content-Length"]) == len(body), (
            f"HEAD {path} says {head.headers['Content-Length']} bytes; GET sends {len(body)}"
        )
    for name in ("Content-Type", "Cache-Control", "Vary"):
        assert head.headers.get(name) == got.headers.get(name), f"{name} of {path}"


@pytest.mark.parametrize("path", [p for p in PAGES if MATRIX[p].access == PUBLIC])
def test_a_stranger_gets_from_head_what_get_would_give(app, path):
    same_answer(app.test_client(), path)


def test_a_signed_in_account_gets_from_head_what_get_would_give(verified):
    for path in PAGES:
        same_answer(verified.client, path)


def test_head_of_a_reminders_mailed_link_answers_as_its_get(app, verified, mail_server):
    note_with_reminder(verified, title="Dentist")
    come_due(app)
    sweep(app)
    deliver(app)
    (mailed,) = reminder_mails(mail_server)
    (link,) = set(re.findall(r"https?://\S+/reminders/act/[A-Za-z0-9_.\-]+", text_of(mailed)))
    same_answer(verified.client, path_of(link))
