"""The sync client (client/, `memo_sync`) in tests: accounts with a token, a web editor that
stands in for the pages (the API), and runs of the client that may be cut after N requests."""

import contextlib
import json
import shutil
import tempfile
import uuid
from itertools import count
from pathlib import Path

import requests
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, rule
from memo_sync.api import Api
from memo_sync.engine import Sync
from memo_sync.folder import Folder, is_left_alone
from memo_sync.notefile import read_draft, read_front_matter, write_front_matter

from app.extensions import db
from app.features.tokens.service import make_token
from app.models import User
from devenv.uploads import send_to_store
from devenv.visitors import PASSWORD, Visitor

FLAGS = ("pinned", "archived", "completed")  # front matter fields the web may toggle


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
    """What a person does on the pages, through the API with the account's token; what the API
    does not do (empty the trash), on the pages themselves, signed in with `email`."""

    def __init__(self, url, secret, email=None):
        self.url = url + "/api/v1"
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {secret}"
        self.pages, self.email = Visitor(url), email  # for what only the pages do

    def empty_trash(self):
        """Delete every note in the trash for good, as the trash page's button does (the API
        only trashes): signed in with the account's password (`email` given) on first use."""
        if self.pages.token is None:
            assert self.pages.login(self.email).status == 302
        self.pages.get("/trash")
        assert self.pages.post("/trash/empty").status == 302

    def create(self, title, content, **fields):
        body = {"title": title, "content": content, **fields}
        response = self.session.post(f"{self.url}/notes", json=body, timeout=10)
        assert response.status_code == 201, response.text
        return response.json()

    def attach(self, note_id, name, data):
        """Attach a file as the pages do (start, send to the store, confirm); return its JSON."""
        url = f"{self.url}/notes/{note_id}/attachments"
        upload = self.session.post(url, json={"name": name, "size": len(data)}, timeout=10).json()
        assert send_to_store(upload["url"], upload["fields"], data, name).status_code == 201
        response = self.session.post(f"{url}/{upload['id']}/confirm", timeout=10)
        assert response.status_code == 200, response.text
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

    def flags(self):
        """Return the sorted (title, content, pinned, archived, completed) of the notes out of
        the trash: what a folder's front matter must agree with."""
        return sorted((note["title"], note["content"], *(note[flag] for flag in FLAGS))
                      for note in self.notes())  # fmt: skip


def run(root, url, secret, steps=("pull", "push"), cut_after=None, full=False, on_send=None):
    """Run the client on folder `root`; with `cut_after`, the run stops (Cut) once that many
    requests were answered, the last answer lost; `on_send(method, data)` runs after each
    request is answered, before the client reads the answer. Return the Sync (its counts)."""
    api = Api(url, secret, say=lambda line: None, sleep=lambda seconds: None)
    if cut_after is not None:
        api.send = cut(api.send, cut_after)
    if on_send is not None:
        api.send = meanwhile(api.send, on_send)
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


def meanwhile(send, on_send):
    """Return `send` that calls `on_send(method, data)` while each answer is on its way."""

    def send_and_meanwhile(method, url, headers, data):
        answer = send(method, url, headers, data)
        on_send(method, data)
        return answer

    return send_and_meanwhile


def folder_drafts(root):
    """Return the Drafts of the folder's notes."""
    return [
        read_draft(path.name, path.read_text(encoding="utf-8"))
        for path in Path(root).rglob("*.md")
        if not is_left_alone(path.relative_to(root).parts)
    ]


def folder_texts(root):
    """Return the sorted (title, content) of the folder's notes."""
    return sorted((draft.title, draft.content) for draft in folder_drafts(root))


def folder_flags(root):
    """Return the sorted (title, content, pinned, archived, completed) of the folder's notes,
    as their front matter says (Web.flags on the server)."""
    return sorted((draft.title, draft.content, *(getattr(draft, flag) for flag in FLAGS))
                  for draft in folder_drafts(root))  # fmt: skip


def holds_unsent(root, content):
    """Return whether the folder holds `content` in a file not in step with the server: new
    here (or moved, until the next run follows it), or edited since it was last in step."""
    if not root.exists():
        return False
    folder = Folder(root, readonly=True)
    for path, local in folder.scan().items():
        _, entry = folder.entry_at(path)
        if local.draft.content == content and (entry is None or entry["hash"] != local.hash):
            return True
    return False


SIDES = ("a", "b")


class TwoFoldersAndTheWeb(RuleBasedStateMachine):
    """Two folders synced with one account while the web edits the same notes, in any order.

    Every edit writes a text never seen before; `required` holds the texts nobody has edited
    or deleted since (whoever wrote them, on whichever side, however stale the side was), and
    `vanished` those the web trashed or deleted for good while no folder held them unsent.
    The web also pins, archives and completes notes, and back. After each side syncs twice,
    both folders and the server hold the same notes, each once, with the same pinned, archived
    and completed; every required text is among them, no vanished one. `app` and `url` are
    set by the test."""

    app = url = None

    def __init__(self):
        super().__init__()
        email = f"sync-{uuid.uuid4().hex[:10]}@example.com"
        _, self.secret = new_account(self.app, email)
        self.web = Web(self.url, self.secret, email)
        self.root = Path(tempfile.mkdtemp(prefix="memo-sync-"))
        self.required, self.vanished, self.made = set(), set(), count(1)

    def fresh(self, kind):
        return f"{kind}{next(self.made)}"

    def files(self, side):
        return sorted((self.root / side).rglob("*.md")) if (self.root / side).exists() else []

    def pick(self, items, n):
        return items[n % len(items)] if items else None

    def replace(self, old, new):
        self.required.discard(old)
        if new is not None:
            self.required.add(new)

    def deleted_there(self, note):
        """The web deleted `note`: its text is no longer required, and it must vanish unless
        a folder holds it in a file not in step (new, or edited since), which comes back."""
        self.replace(note["content"], None)
        if not any(holds_unsent(self.root / side, note["content"]) for side in SIDES):
            self.vanished.add(note["content"])

    def rewrite(self, path, new):
        """Write `new` as a file's text, its front matter and heading kept; return the old."""
        fields, _ = read_front_matter(path.read_text())
        draft = read_draft(path.name, path.read_text())
        end = "\n" if fields else ""  # the line end the front matter's writer adds
        path.write_text(
            f"{write_front_matter(fields) if fields else ''}# {draft.title}\n\n{new}{end}"
        )
        self.replace(draft.content, new)
        return draft.content

    @rule(side=st.sampled_from(SIDES), n=st.integers(0, 50), tag=st.booleans())
    def edit_a_file(self, side, n, tag):
        path = self.pick(self.files(side), n)
        if path is not None:
            content = read_draft(path.name, path.read_text()).content
            self.rewrite(path, f"{content} #{self.fresh('tag')}" if tag else self.fresh("here"))

    @rule(side=st.sampled_from(SIDES), n=st.integers(0, 50))
    def a_file_saved_during_a_send(self, side, n):
        """A file edited, then saved again by its editor while the sync sends it (its PATCH or
        POST on the way): the newer text is kept in the file and goes with a later sync."""
        path = self.pick(self.files(side), n)
        if path is None:
            return
        sent = self.rewrite(path, self.fresh("sent"))

        def saved_again(method, data):
            body = json.loads(data) if data else {}
            sending = method in ("PATCH", "POST") and body.get("content") == sent
            if (
                sending
                and path.exists()
                and read_draft(path.name, path.read_text()).content == sent
            ):
                self.rewrite(path, self.fresh("newer"))

        run(self.root / side, self.url, self.secret, on_send=saved_again)

    @rule(side=st.sampled_from(SIDES))
    def write_a_file(self, side):
        title, content = self.fresh("t"), self.fresh("new")
        (self.root / side).mkdir(exist_ok=True)
        (self.root / side / f"{title}.md").write_text(f"# {title}\n\n{content}")
        self.replace(None, content)

    @rule(side=st.sampled_from(SIDES), n=st.integers(0, 50), rename=st.booleans())
    def delete_or_rename_a_file(self, side, n, rename):
        path = self.pick(self.files(side), n)
        if path is not None and rename:
            path.rename(path.with_name(f"{self.fresh('moved')}.md"))
        elif path is not None:
            self.replace(read_draft(path.name, path.read_text()).content, None)
            path.unlink()

    @rule(n=st.integers(0, 50), what=st.sampled_from(["edit", "tag", "retitle", "trash", "new"]))
    def web_changes_a_note(self, n, what):
        note = self.pick(self.web.notes(), n)
        if what == "new" or note is None:
            self.replace(None, self.web.create(self.fresh("w"), self.fresh("web"))["content"])
        elif what == "trash":
            self.web.trash(note["id"])
            self.deleted_there(note)
        elif what == "retitle":
            self.web.change(note["id"], title=self.fresh("r"))
        else:
            new = f"{note['content']} #{self.fresh('tag')}" if what == "tag" else self.fresh("web")
            self.replace(note["content"], self.web.change(note["id"], content=new)["content"])

    @rule(n=st.integers(0, 50), flag=st.sampled_from(FLAGS))
    def web_toggles_a_flag(self, n, flag):
        """Pin or unpin, archive or unarchive, complete or reopen a note on the web."""
        note = self.pick(self.web.notes(), n)
        if note is not None:
            self.web.change(note["id"], **{flag: not note[flag]})

    @rule(n=st.integers(0, 50), trash_first=st.booleans())
    def web_deletes_for_good(self, n, trash_first):
        """Empty the trash on the web (a note trashed first, or the notes already there):
        every note in it is deleted for good, a tombstone in the feed."""
        note = self.pick(self.web.notes(), n) if trash_first else None
        if note is not None:
            self.web.trash(note["id"])
            self.deleted_there(note)
        self.web.empty_trash()

    @rule(side=st.sampled_from(SIDES), steps=st.sampled_from([("pull", "push"), ("pull",)]))
    def sync(self, side, steps):
        run(self.root / side, self.url, self.secret, steps)

    @rule(side=st.sampled_from(SIDES), after=st.integers(1, 8))
    def a_sync_cut_short(self, side, after):
        with contextlib.suppress(Cut):
            run(self.root / side, self.url, self.secret, cut_after=after)

    def teardown(self):
        for side in (*SIDES, *SIDES):
            run(self.root / side, self.url, self.secret)
        server = self.web.flags()
        contents = [content for _, content, *_ in server]
        assert folder_flags(self.root / "a") == server == folder_flags(self.root / "b")
        assert len(set(contents)) == len(contents), server
        assert self.required <= set(contents), (self.required, server)
        assert not self.vanished & set(contents), (self.vanished, server)
        shutil.rmtree(self.root)
