"""Who may use each route of the app (the authorization matrix), and Ann's world to try it on.

The matrix must name every route of the app (tests/test_authorization.py compares it with
app.url_map). `saved_world` and `world` are fixtures (registered in tests/conftest.py's
`pytest_plugins`), used by the authorization and hardening tests.
"""

import base64
import io
import re
from dataclasses import dataclass, replace

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AccessToken, Attachment, NoteShare, PushSubscription, User, WordCount
from config_parsing import P256_BASE
from devenv import pictures
from devenv.uploads import Attacher, Importer, PhotoSender
from devenv.visitors import PASSWORD, Browser
from tests import databases
from tests.webservers import Reply, serve_pages
from tests.workers import run_queued_jobs

PUBLIC = "public"  # anyone; no object of a user's in sight
ACCOUNT = "account"  # signed in; acts on the signed-in user's own account, whatever is sent
OWNER = "owner"  # signed in; the URL names an object, which must be the user's own
LINK = "link"  # anyone holding a mailed link's token; any other token is a 400 page
SHARED = "shared"  # anyone holding a share link's token; any other token is a 404
# The JSON API: a token only (tests/test_api_access.py); no cookie or CSRF token: 401 here.
TOKEN = "token"

NEW_PASSWORD = "another good passphrase"
SHARE_KEY = "0c6f6a4e-52d4-4d8e-9a51-7b1f3c2d9e10"  # a share ann's browser made
ANNS_PUSH_ENDPOINT = "https://push.example.com/send/zebracorn"
TOKEN_FORM = {"name": "mallory", "scope": "write", "expires_days": "30", "password": PASSWORD}
WEBHOOK = {"url": "https://hooks.example.com/mallory"}
HOOK_ACTS = ("test", "keep", "turn-on", "delete", "deliveries/<id:delivery_id>/again")
FEED_ACTS, FEEDS = ("revoke", "keep"), "/mypage/webhooks/feeds"
HOOK_IDS = re.compile(r"<id:(?:webhook|delivery|feed|rename)_id>")  # Ann has none: 999999


def photo(world):
    return {"photo": (io.BytesIO(pictures.png()), "photo.png")}


def push_subscription():
    """Return a browser's subscription to Ann's push endpoint (its key: the curve's base point)."""
    point = b"\x04" + b"".join(n.to_bytes(32, "big") for n in P256_BASE)
    keys = {"p256dh": base64.urlsafe_b64encode(point).rstrip(b"=").decode(), "auth": "A" * 22}
    return {"endpoint": ANNS_PUSH_ENDPOINT, **keys}


def text_file(world):
    return {"archive": (io.BytesIO(b"# Mallory's\n\nimported"), "mallory.md")}


@dataclass(frozen=True)
class Route:
    """Who may use a route, and for each method the form a successful request would send.

    A form is a dict, or a function of the World returning one.
    """

    access: str
    forms: dict
    anonymous_status: int | None = None  # what a public route answers a stranger, if not 200/400
    writes_nothing: bool = False  # a POST that needs no CSRF token: it changes nothing


MATRIX = {
    "/static/<path:filename>": Route(PUBLIC, {"GET": {}}),
    "/healthz": Route(PUBLIC, {"GET": {}}),
    "/manifest.webmanifest": Route(PUBLIC, {"GET": {}}),
    "/sw.js": Route(PUBLIC, {"GET": {}}),
    "/offline": Route(PUBLIC, {"GET": {}}),
    "/offline/unavailable": Route(PUBLIC, {"GET": {}}),
    "/offline/token": Route(ACCOUNT, {"GET": {}}),
    "/language": Route(PUBLIC, {"POST": {"language": "ko", "next": "/"}}),
    "/readyz": Route(PUBLIC, {"GET": {}}),
    "/auth/signup": Route(
        PUBLIC,
        {
            "GET": {},
            "POST": {
                "email": "carol@example.com",
                "nickname": "carol",
                "password": PASSWORD,
                "password_confirm": PASSWORD,
            },
        },
    ),
    "/auth/login": Route(
        PUBLIC, {"GET": {}, "POST": {"email": "ann@example.com", "password": PASSWORD}}
    ),
    "/auth/logout": Route(ACCOUNT, {"POST": {}}),
    # The front asks it before reading an upload: 204 for a live session, 401 for a stranger.
    "/auth/signed-in": Route(PUBLIC, {"GET": {}}, anonymous_status=401),
    "/auth/verify": Route(ACCOUNT, {"POST": {}}),
    "/auth/verify/<secret:token>": Route(LINK, {"GET": {}, "POST": {}}),
    "/auth/reset": Route(PUBLIC, {"GET": {}, "POST": {"email": "ann@example.com"}}),
    "/auth/secure/<secret:token>": Route(
        LINK,
        {"GET": {}, "POST": {"new_password": NEW_PASSWORD, "new_password_confirm": NEW_PASSWORD}},
    ),
    "/auth/remove/<secret:token>": Route(LINK, {"GET": {}, "POST": {}}),
    "/auth/reset/<secret:token>": Route(
        LINK,
        {"GET": {}, "POST": {"new_password": NEW_PASSWORD, "new_password_confirm": NEW_PASSWORD}},
    ),
    "/": Route(ACCOUNT, {"GET": {}}),
    "/notes/new": Route(ACCOUNT, {"GET": {}, "POST": {"title": "New", "content": "x"}}),
    # The share sheet's POST (no CSRF token) writes nothing and sends on to the new-note form.
    "/notes/shared": Route(
        PUBLIC, {"POST": {"title": "x", "text": "y"}}, anonymous_status=303, writes_nothing=True
    ),
    # A share's page, save and discard: by the browser's key, always the signed-in user's own.
    "/notes/shared/<uuid:share>": Route(
        ACCOUNT, {"GET": {}, "POST": {"title": "Shared", "content": "x"}}
    ),
    "/notes/shared/<uuid:share>/discard": Route(ACCOUNT, {"POST": {}}),
    "/notes/preview": Route(ACCOUNT, {"POST": {"content": "**x**"}}),
    "/notes/<id:note_id>": Route(OWNER, {"GET": {}}),
    "/notes/<id:note_id>/edit": Route(
        OWNER, {"GET": {}, "POST": {"title": "Taken over", "content": "mine now"}}
    ),
    "/notes/<id:note_id>/toggle": Route(OWNER, {"POST": {"next": "/"}}),
    # The list's one form: the note is named by the pressed button, `toggle=ID`.
    "/notes/toggle": Route(OWNER, {"POST": lambda world: {"toggle": world.note_id, "next": "/"}}),
    "/notes/<id:note_id>/delete": Route(OWNER, {"POST": {}}),
    "/notes/<id:note_id>/wordcount": Route(OWNER, {"GET": {}}),
    "/notes/<id:note_id>/resolve": Route(
        OWNER, {"POST": {"title": "Taken over", "content": "mine", "version": 1, "choice": "mine"}}
    ),
    "/notes/<id:note_id>/history": Route(OWNER, {"GET": {}}),
    # No version of Ann's note exists yet: the note is what must not be reached.
    "/notes/<id:note_id>/history/<id:version_id>": Route(OWNER, {"GET": {}}),
    "/notes/<id:note_id>/history/<id:version_id>/restore": Route(OWNER, {"POST": {}}),
    "/trash": Route(ACCOUNT, {"GET": {}}),
    "/trash/<id:note_id>/restore": Route(OWNER, {"POST": {}}),
    "/trash/empty": Route(ACCOUNT, {"POST": {}}),
    "/notes/<id:note_id>/pin": Route(OWNER, {"POST": {"next": "/"}}),
    "/notes/<id:note_id>/tasks/<int(max=9999):number>": Route(
        OWNER, {"POST": {"done": "1", "version": "1", "next": "/"}}
    ),
    "/notes/<id:note_id>/unpin": Route(OWNER, {"POST": {"next": "/"}}),
    "/notes/<id:note_id>/archive": Route(OWNER, {"POST": {"next": "/"}}),
    "/notes/<id:note_id>/unarchive": Route(OWNER, {"POST": {"next": "/"}}),
    "/archive": Route(ACCOUNT, {"GET": {}}),
    "/tags": Route(ACCOUNT, {"GET": {}}),
    "/tags/names": Route(ACCOUNT, {"GET": {}}),
    "/tags/rename": Route(ACCOUNT, {"GET": {}, "POST": {"from": "shop", "to": "buy"}}),
    "/notes/<id:note_id>/relink": Route(OWNER, {"POST": {"from": "Old plans"}}),
    "/notes/<id:note_id>/share": Route(OWNER, {"POST": {"expires_days": "7"}}),
    "/s/<secret:token>": Route(SHARED, {"GET": {}}),
    "/shares/<id:link_id>/revoke": Route(OWNER, {"POST": {}}),
    "/shares/<id:link_id>/resume": Route(OWNER, {"POST": {}}),
    "/notes/<id:note_id>/reminder": Route(
        OWNER, {"POST": {"at": "2099-01-01T09:00", "repeat": "daily"}}
    ),
    "/notes/<id:note_id>/reminder/delete": Route(OWNER, {"POST": {}}),
    "/reminders": Route(ACCOUNT, {"GET": {}}),
    # No occurrence of Ann's exists: any id but one's own is a 404 (tests/test_reminders.py).
    "/reminders/<id:occurrence_id>/done": Route(OWNER, {"POST": {}}),
    # A mail's done and snooze page: the signed token is the key; GET changes nothing.
    "/reminders/act/<secret:token>": Route(LINK, {"GET": {}, "POST": {"action": "done"}}),
    # Push browsers: each account's own (Ann's stays hers); without VAPID keys, a 404.
    "/reminders/push": Route(ACCOUNT, {"POST": lambda world: push_subscription()}),
    "/reminders/push/delete": Route(ACCOUNT, {"POST": {"endpoint": ANNS_PUSH_ENDPOINT}}),
    "/reminders/push/delete-all": Route(ACCOUNT, {"POST": {}}),
    "/mypage": Route(ACCOUNT, {"GET": {}}),
    "/mypage/photo": Route(ACCOUNT, {"POST": photo}),
    "/mypage/photo/delete": Route(ACCOUNT, {"POST": {}}),
    "/mypage/photo/status": Route(ACCOUNT, {"GET": {}}),
    "/mypage/email/cancel": Route(ACCOUNT, {"POST": {}}),
    "/mypage/nickname": Route(ACCOUNT, {"POST": {"nickname": "mallory"}}),
    "/mypage/email": Route(
        ACCOUNT, {"POST": {"email": "mallory@example.com", "password": PASSWORD}}
    ),
    "/mypage/password": Route(
        ACCOUNT,
        {
            "POST": {
                "current_password": PASSWORD,
                "new_password": NEW_PASSWORD,
                "new_password_confirm": NEW_PASSWORD,
            }
        },
    ),
    "/mypage/export": Route(ACCOUNT, {"GET": {}, "POST": {}}),
    "/mypage/import": Route(ACCOUNT, {"POST": text_file}),
    "/mypage/import/status": Route(ACCOUNT, {"GET": {}}),
    # Ann's file is in the store, not yet confirmed: her signed upload is what is sent.
    "/mypage/import/arrived": Route(ACCOUNT, {"GET": lambda world: {"upload": world.upload}}),
    "/mypage/import/confirm": Route(ACCOUNT, {"POST": lambda world: {"upload": world.upload}}),
    "/mypage/photo/arrived": Route(ACCOUNT, {"GET": lambda world: {"upload": world.photo}}),
    "/mypage/photo/confirm": Route(ACCOUNT, {"POST": lambda world: {"upload": world.photo}}),
    "/mypage/export/download": Route(ACCOUNT, {"GET": {}}),
    "/mypage/settings": Route(ACCOUNT, {"POST": {"language": "ko", "timezone": "Asia/Seoul"}}),
    "/mypage/delete": Route(ACCOUNT, {"POST": {"password": PASSWORD}}),
    # Without a pending sign-in (a right password) or a session, it sends to sign in.
    "/auth/two-step": Route(PUBLIC, {"GET": {}, "POST": {"code": "123456"}}, anonymous_status=302),
    "/auth/two-step/lost": Route(PUBLIC, {"POST": {}}, anonymous_status=302),
    "/mypage/security": Route(ACCOUNT, {"GET": {}}),
    "/mypage/totp": Route(ACCOUNT, {"GET": {}, "POST": {"code": "123456", "password": PASSWORD}}),
    "/mypage/totp/disable": Route(ACCOUNT, {"POST": {"password": PASSWORD}}),
    "/mypage/security/recovery-codes": Route(ACCOUNT, {"POST": {"password": PASSWORD}}),
    # Passkeys: options are JSON to anyone (nothing written); no answer sends back to sign in.
    "/auth/passkey/options": Route(PUBLIC, {"POST": {}}, anonymous_status=200),
    "/auth/passkey": Route(PUBLIC, {"POST": {"answer": "{}"}}, anonymous_status=302),
    "/mypage/passkeys/options": Route(ACCOUNT, {"POST": {"name": "laptop", "password": PASSWORD}}),
    "/mypage/passkeys": Route(
        ACCOUNT, {"POST": {"name": "laptop", "password": PASSWORD, "answer": "{}"}}
    ),
    "/mypage/passkeys/<id:passkey_id>/rename": Route(OWNER, {"POST": {"name": "mallory"}}),
    "/mypage/passkeys/<id:passkey_id>/delete": Route(OWNER, {"POST": {}}),
    "/mypage/tokens": Route(ACCOUNT, {"GET": {}, "POST": TOKEN_FORM}),
    "/mypage/tokens/<id:token_id>/revoke": Route(OWNER, {"POST": {}}),
    # Webhooks and feeds: Ann has none (an id is a 404); a token not a feed's is a 404.
    "/mypage/webhooks": Route(ACCOUNT, {"GET": {}, "POST": {**WEBHOOK, "events": "note.created"}}),
    **{f"/mypage/webhooks/<id:webhook_id>/{act}": Route(OWNER, {"POST": {}}) for act in HOOK_ACTS},
    FEEDS: Route(ACCOUNT, {"POST": {"tag": ""}}),
    **{f"{FEEDS}/<id:feed_id>/{act}": Route(OWNER, {"POST": {}}) for act in FEED_ACTS},
    "/feeds/<secret:token>": Route(SHARED, {"GET": {}}),
    "/wordcount": Route(ACCOUNT, {"GET": {}, "POST": lambda world: {"url": world.page_url}}),
    "/wordcount/<id:word_count_id>": Route(OWNER, {"GET": {}}),
    # "plans" is in Ann's note title, next to her secret: a search that crossed users shows it.
    "/search": Route(ACCOUNT, {"GET": {"q": "plans"}}),
    "/notes/<id:note_id>/attachments/upload": Route(
        OWNER, {"POST": {"name": "a.txt", "size": "9"}}
    ),
    "/notes/<id:note_id>/attachments/confirm": Route(OWNER, {"GET": {}}),
    "/attachments/<id:attachment_id>": Route(OWNER, {"GET": {}}),
    "/attachments/<id:attachment_id>/delete": Route(OWNER, {"POST": {}}),
    "/api/docs": Route(PUBLIC, {"GET": {}}),
    "/api/problems/<problem>": Route(PUBLIC, {"GET": {}}, anonymous_status=302),
    "/api/v1/openapi.json": Route(PUBLIC, {"GET": {}}),
    "/api/v1/me": Route(TOKEN, {"GET": {}}),
    "/api/v1/notes": Route(TOKEN, {"GET": {}, "POST": {"title": "x"}}),
    "/api/v1/notes/<id:note_id>": Route(TOKEN, {"GET": {}, "PATCH": {"title": "x"}, "DELETE": {}}),
    "/api/v1/notes/<id:note_id>/restore": Route(TOKEN, {"POST": {}}),
    "/api/v1/notes/<id:note_id>/tasks/<int(max=9999):number>": Route(
        TOKEN, {"PUT": {"done": True}}
    ),
    "/api/v1/notes/<id:note_id>/history": Route(TOKEN, {"GET": {}}),
    "/api/v1/notes/<id:note_id>/backlinks": Route(TOKEN, {"GET": {}}),
    "/api/v1/tags/<name>": Route(TOKEN, {"PATCH": {"name": "buy"}}),
    "/api/v1/renames/<id:rename_id>": Route(TOKEN, {"GET": {}}),
    "/api/v1/search": Route(TOKEN, {"GET": {"q": "plans"}}),
    "/api/v1/tags": Route(TOKEN, {"GET": {}}),
    "/api/v1/changes": Route(TOKEN, {"GET": {"since": "0"}}),
    "/api/v1/notes/<id:note_id>/attachments": Route(
        TOKEN, {"GET": {}, "POST": {"name": "a.txt", "size": 9}}
    ),
    "/api/v1/notes/<id:note_id>/attachments/<id:attachment_id>/confirm": Route(TOKEN, {"POST": {}}),
    "/api/v1/attachments/<id:attachment_id>": Route(TOKEN, {"GET": {}, "DELETE": {}}),
    "/api/v1/export": Route(TOKEN, {"GET": {}, "POST": {}}),
    "/api/v1/webhooks": Route(TOKEN, {"GET": {}, "POST": {**WEBHOOK, "events": ["note.created"]}}),
    "/api/v1/webhooks/<id:webhook_id>": Route(TOKEN, {"DELETE": {}}),
}
CASES = [(rule, method) for rule, route in MATRIX.items() for method in route.forms]
IDS = [f"{method} {rule}" for rule, method in CASES]
POSTS = [(rule, method) for rule, method in CASES if method == "POST"]
SIGNED_IN = [
    (rule, method) for rule, method in CASES if MATRIX[rule].access not in (PUBLIC, LINK, SHARED)
]


@dataclass
class World:
    """Ann, with a note, an attachment, a word count and a photo, and what only she may see."""

    ann: Browser
    note_id: int
    word_count_id: int
    attachment_id: int
    share_id: int
    secrets: list
    page_url: str  # a web page on 127.0.0.1 that a word count would fetch
    upload: str = ""  # Ann's signed upload to import: her file is in the store, unconfirmed
    token_id: int = 0  # Ann's access token, named after her secret word
    # No passkey of Ann's: one would make her sign-in ask for it. Others' passkeys are tried
    # in tests/test_passkeys.py (test_someone_elses_passkey_cannot_be_renamed_or_removed).
    passkey_id: int = 999_999
    photo: str = ""  # Ann's signed photo upload: her photo is in the store, unconfirmed
    occurrence_id: int = 999_999  # a reminder's occurrence: Ann's world fires none
    bob: Browser | None = None  # another user, signed in

    def url(self, rule):
        """Return the URL of a route, naming Ann's objects."""
        return (
            HOOK_IDS.sub("999999", rule)
            .replace("<path:filename>", "style.css")
            .replace("<id:note_id>", str(self.note_id))
            .replace("<id:word_count_id>", str(self.word_count_id))
            .replace("<id:attachment_id>", str(self.attachment_id))
            .replace("<id:version_id>", "1")
            .replace("<int(max=9999):number>", "0")
            .replace("<id:link_id>", str(self.share_id))
            .replace("<id:token_id>", str(self.token_id))
            .replace("<id:passkey_id>", str(self.passkey_id))
            .replace("<id:occurrence_id>", str(self.occurrence_id))
            .replace("<secret:token>", "a-token-nobody-was-mailed")
            .replace("<problem>", "not-found")
            .replace("<name>", "shop")
            .replace("<uuid:share>", SHARE_KEY)
        )

    def form(self, rule, method):
        """Return the form a successful request to a route would send."""
        form = MATRIX[rule].forms[method]
        return form(self) if callable(form) else dict(form)


@pytest.fixture(scope="module")
def saved_world(app, postgres, object_store):
    """Ann's world, made once for the module (its jobs make a photo and an export), and Bob,
    another user, each signed in; saved with their sessions."""
    with serve_pages({"/page": Reply(b"<p>words words words</p>")}) as site:
        ann = Browser(app.test_client())
        assert ann.signup().status_code == 302
        world = make_world(app, ann, f"http://127.0.0.1:{site.port}/page")
        bob = Browser(app.test_client())
        assert bob.signup("bob@example.com", "bob").status_code == 302
        saved = databases.SavedState(postgres, app, object_store)
        yield replace(world, bob=bob), saved
    saved.discard()  # its tests leave the world in place for the next (conftest.py)


@pytest.fixture
def world(app, saved_world):
    """Ann's world as it was made, Ann and Bob signed in to it in browsers of their own (their
    saved sessions: the rows that hold them are put back with the rest)."""
    world, saved = saved_world
    saved.restore()
    return replace(world, ann=resumed(app, world.ann), bob=resumed(app, world.bob))


def resumed(app, browser):
    """A new browser holding `browser`'s session cookie and CSRF token, as a second tab."""
    name = app.config["SESSION_COOKIE_NAME"]
    again = Browser(app.test_client())
    again.client.set_cookie(name, browser.client.get_cookie(name).value)
    again.token = browser.token
    return again


def make_world(app, user, page_url):
    """Give Ann a note, a photo, an attachment and a word count, all naming a word only she has."""
    content = "only for ann: zebracorn\n\n- [ ] a task"
    assert user.create_note("Ann's zebracorn plans", content).status_code == 302
    assert user.upload_photo(pictures.jpeg()).status_code == 302
    attached = Attacher(user).attach(1, b"zebracorn\n", "zebracorn.txt")
    assert attached.status_code == 302
    assert user.post("/notes/1/share", {"expires_days": "7"}).status_code == 302
    user.get("/mypage/export")
    assert user.post("/mypage/export").status_code == 302  # an archive of Ann's, in the store
    run_queued_jobs(app)
    importer = Importer(user)
    _, upload = importer.arrived(importer.upload(b"# zebracorn\n", "zebracorn.md"))
    sender = PhotoSender(user)
    _, photo = sender.arrived(sender.upload(pictures.jpeg(), "zebracorn.jpg"))
    assert user.submit("/mypage/tokens", {**TOKEN_FORM, "name": "zebracorn"}).status_code == 200
    with app.app_context():
        ann = db.session.scalar(select(User).where(User.email == "ann@example.com"))
        count = {"total": 1, "distinct": 1, "top": [["zebracorn", 1]]}
        word_count = WordCount(
            url="https://ann.example/zebracorn",
            all_words=count,
            without_stop_words=count,
            user_id=ann.id,
        )
        db.session.add(word_count)
        subscribed = push_subscription()
        db.session.add(
            PushSubscription(
                user_id=ann.id,
                endpoint=subscribed["endpoint"],
                p256dh_public_key=subscribed["p256dh"],
                auth_secret=subscribed["auth"],
            )
        )
        db.session.commit()
        secrets = ["zebracorn", ann.email, ann.image_url]
        attachment_id = db.session.scalar(select(Attachment.id))
        share_id = db.session.scalar(select(NoteShare.id))
        token_id = db.session.scalar(select(AccessToken.id))
        return World(
            user,
            ann.notes[0].id,
            word_count.id,
            attachment_id,
            share_id,
            secrets,
            page_url,
            upload,
            token_id,
            photo=photo,
        )
