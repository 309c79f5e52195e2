"""Memo's public API, as the sync client uses it: urllib, a token, and one clear error each.

Every request goes through `Api.send`, which a test may wrap (to cut a run after N requests).
A 429 or 503 is waited out as `Retry-After` says, within a bound; any other failure is an
ApiError whose message is one line a person can act on.
"""

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field

TIMEOUT_SECONDS = 30
RETRIES = 5  # waits for one request's 429 or 503 before giving up
LONGEST_WAIT_SECONDS = 60
FEED_LIMIT = 500
MAX_ANSWER_BYTES = 16 * 1024**2  # a feed page is about 2 MiB, a note at most 20,000 characters
USER_AGENT = "memo-sync/0.1"


class ApiError(Exception):
    """A request failed in a way this run cannot mend; the message says what to do."""


class Refused(ApiError):
    """The server refused one note's write (a field it will not take, the quota): the run goes
    on with the other notes."""


class Unsafe(Refused):
    """The server sent something the client will not act on (an id, a path, a link)."""


class BudgetSpent(ApiError):
    """This run wrote what one run may: it stops, and the next goes on where it stopped."""


class FeedForgotten(ApiError):
    """The change feed no longer holds what came after the folder's last sync (410)."""


@dataclass
class Answer:
    status: int
    headers: dict
    body: dict = field(default_factory=dict)


def read_body(raw):
    """Return a JSON body as a dict ({} when empty or not JSON)."""
    try:
        value = json.loads(raw or b"{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def origin(url):
    """Return (scheme, host, port) of an http(s) URL; Unsafe for any other."""
    parts = urllib.parse.urlsplit(url if isinstance(url, str) else "")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Unsafe(f"{str(url)[:80]!r} is no http(s) address")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise Unsafe(f"{url[:80]!r} has no valid port") from None
    return parts.scheme, parts.hostname.lower(), port


class OnlyTo(urllib.request.HTTPRedirectHandler):
    """Follow a redirect only to the origins allowed: the token (or a download) never goes to
    another host (urllib would send the request's headers, Authorization too, anywhere)."""

    def __init__(self, allowed):
        self.allowed = allowed

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        if origin(newurl) not in self.allowed:
            host = urllib.parse.urlsplit(newurl).netloc
            raise Unsafe(f"the server redirected to another host ({host}): not followed")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def opener(*urls):
    """Return an opener of http(s) alone (through the environment's proxy, if any) that
    follows redirects only to the origins of `urls`."""
    handlers = [
        urllib.request.ProxyHandler,
        urllib.request.HTTPHandler,
        urllib.request.HTTPSHandler,
        urllib.request.HTTPErrorProcessor,
    ]
    director = urllib.request.OpenerDirector()
    for handler in [*handlers, urllib.request.HTTPDefaultErrorHandler]:
        director.add_handler(handler())
    director.add_handler(OnlyTo({origin(url) for url in urls}))
    return director


def read_bounded(response):
    """Return an answer's body, read only up to MAX_ANSWER_BYTES: ApiError past them (a server
    that sends without end fills no memory)."""
    raw = response.read(MAX_ANSWER_BYTES + 1)
    if len(raw) > MAX_ANSWER_BYTES:
        raise ApiError(
            f"the server's answer is larger than {MAX_ANSWER_BYTES // 1024**2} MiB, "
            "more than any page or note it may send: not read"
        )
    return read_body(raw)


def urllib_send(method, url, headers, data):
    """Send one request with urllib; return its Answer (an HTTP error status is an Answer too).
    A redirect is followed only to the same origin."""
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with opener(url).open(request, timeout=TIMEOUT_SECONDS) as response:
            return Answer(response.status, dict(response.headers), read_bounded(response))
    except urllib.error.HTTPError as error:
        return Answer(error.code, dict(error.headers), read_bounded(error))


def retry_after(answer):
    """Return the seconds a 429 or 503 asks to wait, bounded."""
    try:
        seconds = int(answer.headers.get("Retry-After", "1"))
    except ValueError:
        seconds = 1
    return min(max(seconds, 1), LONGEST_WAIT_SECONDS)


class Api:
    """The API of one server with one token."""

    def __init__(self, url, token, say=print, sleep=time.sleep):
        self.url = url.rstrip("/")
        self.token = token
        self.say = say
        self.sleep = sleep
        self.send = urllib_send

    def call(self, method, path, body=None, headers=None):
        """Send a request, waiting out 429 and 503 within RETRIES; return its Answer."""
        sent = {"Authorization": f"Bearer {self.token}", "User-Agent": USER_AGENT}
        sent.update(headers or {})
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            sent["Content-Type"] = "application/json"
        for _ in range(RETRIES):
            answer = self.reach(method, path, sent, data)
            if answer.status not in (429, 503):
                return self.checked(answer)
            seconds = retry_after(answer)
            self.say(f"memo: the server asks to wait {seconds} s ({answer.status})")
            self.sleep(seconds)
        raise ApiError(
            f"the server is still busy ({answer.status}) after {RETRIES} waits: try later"
        )

    def reach(self, method, path, headers, data):
        """Send once; a server that does not answer is an ApiError."""
        try:
            return self.send(method, self.url + path, headers, data)
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise ApiError(f"cannot reach {self.url}: {reason}") from None

    def checked(self, answer):
        """Return the answer, or raise the one-line error of a status no caller handles."""
        if answer.status == 401:
            raise ApiError(
                "the server refused the token (401): make a new one on My page "
                "(/mypage/tokens), then set MEMO_TOKEN or run `memo login` again"
            )
        if answer.status == 403:
            raise ApiError("the token may only read (403): make a `write` token on My page")
        if answer.status >= 500:
            raise ApiError(f"the server failed ({answer.status}): try again later")
        return answer

    def me(self):
        """Return the token's account."""
        return self.expect(self.call("GET", "/api/v1/me"), 200)

    def changes(self, since):
        """Return a page of the change feed after `since`; FeedForgotten on 410."""
        answer = self.call("GET", f"/api/v1/changes?since={since}&limit={FEED_LIMIT}")
        if answer.status == 410:
            raise FeedForgotten(
                "the server no longer keeps the changes since this folder's last sync (410): "
                "a full pull is needed; run the command again with --full"
            )
        return self.expect(answer, 200)

    def create(self, body, key):
        """Write a new note under an Idempotency-Key; return the note."""
        answer = self.call("POST", "/api/v1/notes", body, {"Idempotency-Key": key})
        return self.expect(answer, 201)

    def change(self, note_id, body, revision, key):
        """PATCH a note on top of `revision`; return the Answer (200, 404 or 412)."""
        headers = {"If-Match": f'"{revision}"', "Idempotency-Key": key}
        answer = self.call("PATCH", f"/api/v1/notes/{note_id}", body, headers)
        return self.expect_one_of(answer, (200, 404, 412))

    def trash(self, note_id, revision, key):
        """DELETE (to the trash) a note on top of `revision`; return the Answer (204, 404, 412)."""
        headers = {"If-Match": f'"{revision}"', "Idempotency-Key": key}
        answer = self.call("DELETE", f"/api/v1/notes/{note_id}", headers=headers)
        return self.expect_one_of(answer, (204, 404, 412))

    def attachments(self, note_id):
        """Return a note's attachments ([] for a note no longer there)."""
        answer = self.call("GET", f"/api/v1/notes/{note_id}/attachments")
        answer = self.expect_one_of(answer, (200, 404))
        items = answer.body.get("items") if answer.status == 200 else []
        if not isinstance(items, list):
            raise ApiError(f"the server's list of note {note_id}'s attachments is no list")
        return items

    def download(self, attachment_id):
        """Return an attachment's file, open to read (None when it is gone), from the short-lived
        signed link the API gives: only over http(s), redirects only to this server or the
        link's own host, and the token is not sent there."""
        answer = self.call("GET", f"/api/v1/attachments/{attachment_id}")
        if self.expect_one_of(answer, (200, 404)).status == 404:
            return None
        link = answer.body.get("download_url")
        origin(link)  # Unsafe: file://, data:, no host
        request = urllib.request.Request(link, headers={"User-Agent": USER_AGENT})
        try:
            return opener(self.url, link).open(request, timeout=TIMEOUT_SECONDS)
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise ApiError(f"cannot download attachment {attachment_id}: {reason}") from None

    def expect(self, answer, status):
        """Return the body of an answer of `status`; anything else is an ApiError."""
        return self.expect_one_of(answer, (status,)).body

    def expect_one_of(self, answer, statuses):
        if answer.status in statuses:
            return answer
        detail = answer.body.get("detail") or answer.body.get("title") or ""
        if answer.status in (409, 413, 422):
            raise Refused(f"the server refused it ({answer.status}): {detail}".rstrip(": "))
        raise ApiError(f"the server answered {answer.status}: {detail}".rstrip(": "))
