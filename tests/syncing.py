"""The sync client (client/, `memo_sync`) in tests: accounts with a token, a web editor that
stands in for the pages (the API), and runs of the client that may be cut after N requests."""

import uuid
from pathlib import Path

import requests
from memo_sync.api import Api
from memo_sync.engine import Sync
from memo_sync.folder import STATE_NAME, Folder
from memo_sync.notefile import read_draft

from app.extensions import db
from app.features.tokens.service import make_token
from app.models import User
from devenv.visitors import PASSWORD


class Cut(Exception):
    """The run was cut: the request before it reached the server, its answer never came back."""


def new_account(app, email=None):
    """Make an account with a write token; return (its id, the token's secret)."""
    nickname = f"sync-{uuid.uuid4().hex[:10]}"
    with app.app_context():
        user = User(
            email=email or f"{nickname}@example.com",
            nickname=nickname,
            language="en",
            time_zone="UTC",
        )
        user.set_password(PASSWORD)
        db.session.add(user)
        db.session.flush()
        _, secret = make_token(user, "sync", "write", 30)
        db.session.commit()
        return user.id, secret


class Web:
    """What a person does on the pages, through the API with the account's token."""

    def __init__(self, url, secret):
        self.url = url + "/api/v1"
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {secret}"

    def create(self, title, content, **fields):
        body = {"title": title, "content": content, **fields}
        response = self.session.post(f"{self.url}/notes", json=body, timeout=10)
        assert response.status_code == 201, response.text
        return response.json()

    def note(self, note_id):
        return self.session.get(f"{self.url}/notes/{note_id}", timeout=10).json()

    def change(self, note_id, **fields):
        note = self.note(note_id)
        headers = {"If-Match": f'"{note["revision"]}"'}
        url = f"{self.url}/notes/{note_id}"
        response = self.session.patch(url, json=fields, headers=headers, timeout=10)
        assert response.status_code == 200, response.text
        return response.json()

    def trash(self, note_id):
        headers = {"If-Match": "*"}
        response = self.session.delete(f"{self.url}/notes/{note_id}", headers=headers, timeout=10)
        assert response.status_code == 204, response.text

    def notes(self, trashed=False):
        """Return every note of the account out of the trash (in it, with `trashed`)."""
        shelves = (
            [{"trashed": "true"}] if trashed else [{"archived": "false"}, {"archived": "true"}]
        )
        return [note for shelf in shelves for note in self.shelf(shelf)]

    def shelf(self, query):
        """Return the notes of one shelf of the list, page after page."""
        found, cursor = [], None
        while True:
            asked = {**query, "limit": 100, **({"cursor": cursor} if cursor else {})}
            page = self.session.get(f"{self.url}/notes", params=asked, timeout=10).json()
            found += page["items"]
            cursor = page["next_cursor"]
            if cursor is None:
                return found

    def texts(self):
        """Return the sorted (title, content) of the notes out of the trash."""
        return sorted((note["title"], note["content"]) for note in self.notes())


def run(root, url, secret, steps=("pull", "push"), cut_after=None, full=False):
    """Run the client on folder `root`; with `cut_after`, the run stops (Cut) once that many
    requests were answered, the last answer lost. Return the Sync (its counts)."""
    api = Api(url, secret, say=lambda line: None, sleep=lambda seconds: None)
    if cut_after is not None:
        api.send = cut(api.send, cut_after)
    sync = Sync(Folder(root), api, say=lambda line: None)
    sync.prepare()
    if "pull" in steps:
        sync.pull(full=full)
    if "push" in steps:
        sync.push()
    return sync


def cut(send, after):
    """Return `send` that raises Cut once `after` requests were sent."""
    sent = []

    def send_then_cut(*args):
        answer = send(*args)
        sent.append(answer)
        if len(sent) >= after:
            raise Cut(f"cut after {after} requests")
        return answer

    return send_then_cut


def folder_texts(root):
    """Return the sorted (title, content) of the folder's notes."""
    return sorted(
        (draft.title, draft.content)
        for path in Path(root).rglob("*.md")
        if not any(part.startswith(".") for part in path.relative_to(root).parts)
        for draft in [read_draft(path.name, path.read_text(encoding="utf-8"))]
    )


def state_of(root):
    return Folder(root).state if (Path(root) / STATE_NAME).exists() else None
