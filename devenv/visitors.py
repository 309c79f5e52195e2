"""People who use Memo in tests and benchmarks: a Browser on the test client, a Visitor over HTTP.

Both fill in forms as a person does: open the page, keep the CSRF token it carries, submit.
"""

import io
import re
import time
from dataclasses import dataclass
from http.client import RemoteDisconnected
from http.cookiejar import DefaultCookiePolicy
from urllib.parse import urlsplit

import requests
from requests.structures import CaseInsensitiveDict
from requests.utils import cookiejar_from_dict

PASSWORD = "correct horse battery"
CSRF_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
NOTE_LOCATION = re.compile(r"^/notes/(\d+)$")
# The router speaks plain HTTP to the dyno. (Flask's test client would otherwise follow
# PREFERRED_URL_SCHEME, https in production, and skip the proxy headers' work.)
DYNO = "http://localhost"


class FormFiller:
    """What every visitor does with Memo's forms; subclasses send the requests."""

    token = None

    def keep_token(self, page):
        """Remember the CSRF token of a page that has a form."""
        match = CSRF_TOKEN.search(page)
        if match:
            self.token = match.group(1)

    def submit(self, url, data, **kwargs):
        """Open the form at `url` and submit it, as a person would."""
        self.get(url)
        return self.post(url, data, **kwargs)

    def signup(self, email="ann@example.com", nickname="ann", password=PASSWORD):
        """Sign up, then sign in as the signup page says to; return the last answer."""
        form = {"email": email, "nickname": nickname, "password": password}
        response = self.submit("/auth/signup", {**form, "password_confirm": password})
        if self.redirect_of(response) is None:
            return response
        return self.login(email, password)

    def login(self, email="ann@example.com", password=PASSWORD, **extra):
        return self.signed_in(
            self.submit("/auth/login", {"email": email, "password": password, **extra})
        )

    def signed_in(self, response):
        """Follow a sign-in's redirect as a browser does: the new session's page has its token."""
        location = self.redirect_of(response)
        if location is not None:
            self.token = None  # of the session that signing in replaced
            self.get(location)
        return response

    def upload_photo(self, data, filename="photo.jpg", content_type="image/jpeg"):
        """Choose `data` as the file in my page's photo form and submit it."""
        self.get("/mypage")
        return self.post_file("/mypage/photo", "photo", (filename, data, content_type))


class Browser(FormFiller):
    """A test client that sends the CSRF token a real browser would have from the page."""

    def __init__(self, client):
        self.client = client
        self.token = None

    def remember_token(self, response):
        self.keep_token(response.get_data(as_text=True))
        return response

    @staticmethod
    def redirect_of(response):
        """Return where a 302 points, or None."""
        return response.headers["Location"] if response.status_code == 302 else None

    def get(self, url, **kwargs):
        return self.remember_token(self.client.get(url, **kwargs))

    def post(self, url, data=None, csrf=True, **kwargs):
        """POST `data` with the page's CSRF token (fetched from a form page if none yet)."""
        data = dict(data or {})
        if csrf:
            if self.token is None:
                self.get("/auth/login")
            data.setdefault("csrf_token", self.token)
        return self.remember_token(self.client.post(url, data=data, **kwargs))

    def post_file(self, url, name, file):
        """POST one file, a (filename, data, content type) triple, with the page's CSRF token."""
        filename, data, content_type = file
        return self.post(url, {name: (io.BytesIO(data), filename, content_type)})

    def logout(self):
        response = self.post("/auth/logout")
        self.token = None
        return response

    def change_password(self, current, new, confirm=None):
        """Submit my page's password form."""
        return self.post(
            "/mypage/password",
            {
                "current_password": current,
                "new_password": new,
                "new_password_confirm": new if confirm is None else confirm,
            },
        )

    def create_note(self, title="Groceries", content="milk, eggs"):
        return self.submit("/notes/new", {"title": title, "content": content})


class RouterBrowser(Browser):
    """A browser at `address` reaching the app through the HTTPS router, as a browser would."""

    def __init__(self, client, address="203.0.113.7"):
        super().__init__(client)
        self.headers = {"X-Forwarded-Proto": "https", "X-Forwarded-For": address}

    def get(self, url, **kwargs):
        return super().get(url, headers=self.headers, base_url=DYNO, **kwargs)

    def post(self, url, data=None, csrf=True, **kwargs):
        # The page's own address as Referer: what strict-origin-when-cross-origin sends.
        headers = {**self.headers, "Referer": f"https://localhost{url}"}
        return super().post(url, data, csrf, headers=headers, base_url=DYNO, **kwargs)


@dataclass
class Response:
    """What a visitor got back: status, headers and body, and when it was asked and answered."""

    status: int
    headers: CaseInsensitiveDict
    text: str
    started: float
    ended: float

    @property
    def location(self):
        """Return the path a redirect points to (the router's host stripped)."""
        return urlsplit(self.headers.get("Location", "")).path


class LoopbackCookiePolicy(DefaultCookiePolicy):
    """Let `Secure` cookies from 127.0.0.1 go back over plain HTTP, as browsers do for loopback."""

    def set_ok(self, cookie, request):
        if urlsplit(request.get_full_url()).hostname in ("127.0.0.1", "localhost"):
            # requests checks what to send against a jar of its own, without this policy.
            cookie.secure = False
        return super().set_ok(cookie, request)


def cookie_jar(cookies=None):
    """Return `cookies` (a jar to share, or a dict to copy) as a jar that trusts loopback."""
    if cookies is not None and not isinstance(cookies, dict):
        return cookies
    jar = cookiejar_from_dict(cookies or {})
    jar.set_policy(LoopbackCookiePolicy())
    return jar


def dropped(error):
    """Return whether a request failed because the server closed the connection unanswered."""
    reason = error.args[0] if error.args else None
    cause = reason.args[-1] if getattr(reason, "args", None) else reason
    return isinstance(cause, (RemoteDisconnected, ConnectionResetError, BrokenPipeError))


class Visitor(FormFiller):
    """One person's browser over HTTP: a kept-alive connection, cookies, the CSRF token.

    With `behind_router`, every request comes as through the platform's HTTPS router
    (`X-Forwarded-Proto: https`, and the page's own https address as a POST's Referer).
    """

    def __init__(self, base_url, timeout=30, cookies=None, behind_router=False):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()
        self.session.cookies = cookie_jar(cookies)
        self.session.headers["Accept"] = "text/html"
        if behind_router:
            self.session.headers["X-Forwarded-Proto"] = "https"
        self.behind_router = behind_router
        self.token = None
        self.kept_alive = False
        self.retries = 0

    @staticmethod
    def redirect_of(response):
        """Return the path a 302 points to, or None."""
        return response.location if response.status == 302 else None

    @property
    def cookies(self):
        return self.session.cookies

    def cookie_header(self):
        """Return the cookies as a `Cookie` header's value, for tools that send their own."""
        return "; ".join(f"{name}={value}" for name, value in self.cookies.items())

    def request(self, method, path, **kwargs):
        """Send one request (no redirects followed) and return its Response."""
        started = time.monotonic()
        answer = self.send(method, self.base_url + path, **kwargs)
        text = answer.content.decode("utf-8", errors="replace")
        self.keep_token(text)
        return Response(answer.status_code, answer.headers, text, started, time.monotonic())

    def send(self, method, url, **kwargs):
        """Send a request; resend it once if a kept-alive connection was closed unanswered."""
        kwargs.update(timeout=self.timeout, allow_redirects=False)
        reused, self.kept_alive = self.kept_alive, False
        try:
            answer = self.session.request(method, url, **kwargs)
        except requests.ConnectionError as error:
            # Like a browser: a worker recycled, say, closed the connection we kept.
            if not (reused and dropped(error)):
                raise
            self.retries += 1
            answer = self.session.request(method, url, **kwargs)
        self.kept_alive = answer.headers.get("Connection", "").lower() != "close"
        return answer

    def close(self):
        self.session.close()

    def get(self, path):
        return self.request("GET", path)

    def post(self, path, form=None, files=None):
        """POST a form with the CSRF token of the last page (fetched from a form if none yet)."""
        if self.token is None:
            self.get("/auth/login")
        data = {"csrf_token": self.token, **(form or {})}
        return self.request("POST", path, data=data, files=files, headers=self.referer(path))

    def referer(self, path):
        """Return the page's https address as Referer behind the router (Flask-WTF checks it)."""
        if not self.behind_router:
            return None
        return {"Referer": "https" + self.base_url.removeprefix("http") + path}

    def post_file(self, path, name, file):
        """POST one file, a (filename, data, content type) triple, with the last page's token."""
        return self.post(path, files={name: file})

    def create_note(self, title, content=""):
        """Write a note; return the Response and the id the server confirmed (or None)."""
        response = self.submit("/notes/new", {"title": title, "content": content})
        match = NOTE_LOCATION.match(response.location) if response.status == 302 else None
        return response, int(match.group(1)) if match else None
