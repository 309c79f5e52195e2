"""A Memo server in this process, speaking the API routes `memo sync` uses (docs/api.md), for the
client's tests that need no real server: notes with revisions, the change feed, If-Match,
Idempotency-Key, attachments and their downloads. Its hooks make it hostile: `feed` answers the
change feed instead, `on_patch` / `on_create` run before a write is answered (an editor saving
the file meanwhile), `redirects` answers a path with a redirect, and `seen` keeps every request."""

import datetime
import json
import re
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from memo_sync.api import Api
from memo_sync.engine import Sync
from memo_sync.folder import Folder

TOKEN = "memo_pat_fake"
NOTE = re.compile(r"/api/v1/notes/(\d+)$")
ATTACHMENTS = re.compile(r"/api/v1/notes/(\d+)/attachments$")
ATTACHMENT = re.compile(r"/api/v1/attachments/(\w+)$")


def now():
    return datetime.datetime.now(datetime.UTC).isoformat()


class FakeMemo:
    """The server's state, and its HTTP server on 127.0.0.1 in a thread."""

    def __init__(self, timezone="UTC"):
        self.account = {"id": 1, "email": "ann@example.com", "timezone": timezone}
        self.notes, self.changes, self.keys = {}, [], {}
        self.attachments, self.links, self.files = {}, {}, {}
        self.feed = self.on_patch = self.on_create = None
        self.redirects, self.seen = {}, []
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def answer(self, method):
                fake.seen.append((method, self.path, dict(self.headers)))
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"null") if length else None
                status, headers, data = fake.route(method, self.path, self.headers, body)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                raw = data if isinstance(data, bytes) else json.dumps(data).encode()
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def do_GET(self):  # noqa: N802 (http.server's names)
                self.answer("GET")

            def do_POST(self):  # noqa: N802
                self.answer("POST")

            def do_PATCH(self):  # noqa: N802
                self.answer("PATCH")

            def do_DELETE(self):  # noqa: N802
                self.answer("DELETE")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    # The notes

    def add(self, title, content, **fields):
        """Make a note as the web would; return it."""
        with self.lock:
            note_id = max(self.notes, default=0) + 1
            note = {"id": note_id, "title": title, "content": content, "pinned": False,
                    "completed": False, "archived": False, "archived_at": None,
                    "trashed": False, "tags": [], "created_at": now(), "updated_at": now(),
                    "revision": 0}  # fmt: skip
            self.notes[note_id] = note
        return self.edit(note_id, **fields)

    def edit(self, note_id, **fields):
        """Change a note as the web would: a new revision, a new change in the feed."""
        with self.lock:
            note = self.notes[note_id]
            note.update(fields, revision=note["revision"] + 1, updated_at=now())
            if "archived" in fields:
                note["archived_at"] = now() if fields["archived"] else None
            self.changes.append(note_id)
            return dict(note)

    def route(self, method, path, headers, body):
        if path in self.redirects:
            return 302, {"Location": self.redirects[path]}, {}
        if path.startswith("/files/"):
            return 200, {}, self.files[path]
        if headers.get("Authorization") != f"Bearer {TOKEN}":
            return 401, {}, {"title": "Unauthorized"}
        url = urllib.parse.urlsplit(path)
        query = dict(urllib.parse.parse_qsl(url.query))
        if url.path == "/api/v1/me":
            return 200, {}, self.account
        if url.path == "/api/v1/changes":
            since = int(query["since"])
            return 200, {}, (self.feed or self.feed_after)(since)
        if url.path == "/api/v1/notes" and method == "POST":
            return self.create(body, headers.get("Idempotency-Key"))
        if match := NOTE.fullmatch(url.path):
            return self.write(method, int(match[1]), body, headers)
        if match := ATTACHMENTS.fullmatch(url.path):
            return 200, {}, {"items": self.attachments.get(int(match[1]), [])}
        if match := ATTACHMENT.fullmatch(url.path):
            return 200, {}, {"id": match[1], "download_url": self.links[match[1]]}
        return 404, {}, {"title": "Not Found"}

    def feed_after(self, since):
        items = [{"seq": seq, "note": dict(self.notes[note_id])}
                 for seq, note_id in enumerate(self.changes, 1) if seq > since]  # fmt: skip
        items = items[:500]
        return {"items": items, "next_since": items[-1]["seq"] if items else since}

    def create(self, body, key):
        if key in self.keys:
            return 201, {}, dict(self.notes[self.keys[key]])
        if self.on_create:
            self.on_create(body)
        fields = {k: v for k, v in body.items() if k not in ("title", "content")}
        note = self.add(body["title"], body["content"], **fields)
        self.keys[key] = note["id"]
        return 201, {}, note

    def write(self, method, note_id, body, headers):
        note = self.notes.get(note_id)
        if note is None:
            return 404, {}, {"title": "Not Found"}
        if headers.get("If-Match") not in (f'"{note["revision"]}"', "*"):
            return 412, {}, {"title": "Precondition Failed", "note": dict(note)}
        if method == "GET":
            return 200, {}, dict(note)
        if method == "DELETE":
            self.edit(note_id, trashed=True)
            return 204, {}, b""
        if self.on_patch:
            self.on_patch(note_id, body)
        return 200, {}, self.edit(note_id, **body)


def run(fake, root, steps=("pull", "push"), budget=None, said=None):
    """Run the client on folder `root` against `fake`; return the Sync (its counts)."""
    say = said.append if said is not None else lambda line: None
    api = Api(fake.url, TOKEN, say=say, sleep=lambda seconds: None)
    folder = Folder(root)
    if budget is not None:
        folder.budget = budget
    sync = Sync(folder, api, say=say)
    sync.prepare()
    if "pull" in steps:
        sync.pull()
    if "push" in steps:
        sync.push()
    return sync
