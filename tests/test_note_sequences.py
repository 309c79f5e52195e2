"""Every note operation, through the pages and the API (reminders set and fired too), in any
order, with two devices that each keep their own last-seen change number: a note's revision
moves exactly when its JSON changes, a device that applies the feed from its number ends with
the server's notes (deletions included), and nothing is written without spending one write
(the sweeper firing a reminder spends none)."""

import os

import hypothesis.strategies as st
from hypothesis import HealthCheck, settings
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import select

from app.extensions import db
from app.models import LoginThrottle
from tests.apiclients import ApiClient, token_for
from tests.noting import note_id_of
from tests.reminding import come_due, sweep, tomorrow_at

EXAMPLES = int(os.environ.get("MEMO_NOTE_SEQUENCE_EXAMPLES", "4"))
STEPS = int(os.environ.get("MEMO_NOTE_SEQUENCE_STEPS", "12"))
TEXTS = st.sampled_from(["- [ ] milk", "- [x] milk\n- [ ] eggs", "plain", "# Plans\n#work"])
FLAGS = st.sampled_from(["pinned", "archived", "completed"])
PAGE_FLAGS = {
    ("pinned", True): "pin",
    ("pinned", False): "unpin",
    ("archived", True): "archive",
    ("archived", False): "unarchive",
}


def without_revision(note):
    return {key: value for key, value in note.items() if key != "revision"}


class Device:
    """A device that keeps a copy of the account's notes and the number it read up to."""

    def __init__(self, api):
        self.api, self.since, self.notes = api, 0, {}

    def sync(self):
        """Apply the feed from the device's number, a page at a time."""
        while True:
            answer = self.api.get(f"/changes?since={self.since}&limit=3").get_json()
            for item in answer["items"]:
                if "note" in item:
                    self.notes[item["note"]["id"]] = item["note"]
                else:
                    self.notes.pop(item["deleted"]["id"], None)
            assert answer["next_since"] >= self.since
            if not answer["items"]:
                return
            self.since = answer["next_since"]


class NoteSequences(RuleBasedStateMachine):
    """The server's notes, read back after each step, against what the step should do."""

    def __init__(self, app, user):
        super().__init__()
        self.app, self.user = app, user
        self.api = ApiClient(app, token_for(app))
        self.devices = [Device(self.api), Device(self.api)]
        self.notes = self.server_notes()
        self.spent = self.writes_spent()
        self.changed = None  # whether the last step should have changed a note (None: unsure)
        self.spends = None  # whether it should have spent a write

    def server_notes(self):
        """Return every note of the account (trashed too), as the API shows each."""
        found, since = {}, 0
        while items := self.api.get(f"/changes?since={since}&limit=500").get_json()["items"]:
            found.update({item["note"]["id"]: item["note"] for item in items if "note" in item})
            since = items[-1]["seq"]
        return found

    def writes_spent(self):
        """Return the account's write counts, its pages' and its tokens' (app/throttle.py),
        each with when its window started."""
        counted = (LoginThrottle.subject, LoginThrottle.failures, LoginThrottle.window_started_at)
        with self.app.app_context():
            rows = db.session.execute(
                select(*counted).where(
                    LoginThrottle.scope == "note-writes",
                    LoginThrottle.subject.in_(["1", "tokens-1"]),
                )
            ).all()
            db.session.remove()
        return {subject: (failures, started) for subject, failures, started in rows}

    def writes_since(self, spent):
        """Return the writes counted since self.spent (a window that began again counts whole)."""
        writes = 0
        for subject, (failures, started) in spent.items():
            before, began = self.spent.get(subject, (0, None))
            writes += failures - before if began == started else failures
        return writes

    def pick(self, data, **state):
        """Draw one of the server's notes in `state` (trashed=..., ...), or None."""
        ids = sorted(
            note_id
            for note_id, note in self.notes.items()
            if all(note[key] == value for key, value in state.items())
        )
        return data.draw(st.sampled_from(ids)) if ids else None

    def expect(self, changed, spends=None):
        self.changed = changed
        self.spends = changed if spends is None else spends

    @initialize()
    def a_note_with_a_daily_reminder(self):
        """Start with a reminder waiting, so that firing it is a step from the first one."""
        note = self.api.new_note(title="Standup", content="- [ ] notes")
        at = f"{tomorrow_at(9, 'UTC')}:00+00:00"
        body = {"reminder": {"at": at, "repeat": "daily"}}
        answer = self.api.patch(f"/notes/{note['id']}", body, headers={"If-Match": "*"})
        assert answer.status_code == 200, answer.get_json()

    # --- the pages ---------------------------------------------------------------------------

    @rule(text=TEXTS)
    def page_create(self, text):
        note_id_of(self.user.create_note("Plan", text))
        self.expect(True)

    @rule(data=st.data(), text=TEXTS)
    def page_edit(self, data, text):
        note_id = self.pick(data, trashed=False)
        if note_id is None:
            return self.expect(False)
        note = self.notes[note_id]
        form = {"title": note["title"], "content": text, "version": str(note["version"])}
        assert self.user.post(f"/notes/{note_id}/edit", form).status_code == 302
        self.expect(text != note["content"])

    @rule(data=st.data(), text=TEXTS)
    def page_edit_from_an_old_form(self, data, text):
        note_id = self.pick(data, trashed=False)
        if note_id is None or self.notes[note_id]["version"] == 1:
            return self.expect(False)
        note = self.notes[note_id]
        form = {"title": "Old", "content": text, "version": str(note["version"] - 1)}
        assert self.user.post(f"/notes/{note_id}/edit", form).status_code == 409
        self.expect(False)

    @rule(data=st.data(), flag=FLAGS)
    def page_flag(self, data, flag):
        note_id = self.pick(data, trashed=False)
        if note_id is None:
            return self.expect(False)
        value = not self.notes[note_id][flag]
        path = "toggle" if flag == "completed" else PAGE_FLAGS[(flag, value)]
        assert self.user.post(f"/notes/{note_id}/{path}").status_code == 302
        self.expect(True)

    @rule(data=st.data())
    def page_tick(self, data):
        note_id = self.pick(data, trashed=False)
        if note_id is None or "- [" not in self.notes[note_id]["content"]:
            return self.expect(False)
        note = self.notes[note_id]
        fields = {"done": "1", "version": str(note["version"])}
        assert self.user.post(f"/notes/{note_id}/tasks/0", fields).status_code == 302
        self.expect(not note["content"].startswith("- [x]"))

    @rule(data=st.data())
    def page_trash(self, data):
        note_id = self.pick(data, trashed=False)
        if note_id is None:
            return self.expect(False)
        assert self.user.post(f"/notes/{note_id}/delete").status_code == 302
        self.expect(True)

    @rule(data=st.data())
    def page_restore(self, data):
        note_id = self.pick(data, trashed=True)
        if note_id is None:
            return self.expect(False)
        assert self.user.post(f"/trash/{note_id}/restore").status_code == 302
        self.expect(True)

    @rule()
    def page_empty_trash(self):
        assert self.user.post("/trash/empty").status_code == 302
        self.expect(any(note["trashed"] for note in self.notes.values()))

    # --- the API -----------------------------------------------------------------------------

    @rule(text=TEXTS)
    def api_create(self, text):
        assert self.api.post("/notes", {"title": "API", "content": text}).status_code == 201
        self.expect(True)

    @rule(data=st.data(), text=TEXTS, flag=FLAGS, stale=st.booleans())
    def api_patch(self, data, text, flag, stale):
        note_id = self.pick(data, trashed=False)
        if note_id is None:
            return self.expect(False)
        note = self.notes[note_id]
        body = {"content": text, flag: not note[flag]}
        tag = f'"{note["revision"] - 1}"' if stale else f'"{note["revision"]}"'
        answer = self.api.patch(f"/notes/{note_id}", body, headers={"If-Match": tag})
        assert answer.status_code == (412 if stale else 200)
        self.expect(not stale)

    @rule(data=st.data(), done=st.booleans())
    def api_tick(self, data, done):
        note_id = self.pick(data, trashed=False)
        if note_id is None or "- [" not in self.notes[note_id]["content"]:
            return self.expect(False)
        note = self.notes[note_id]
        headers = {"If-Match": f'"{note["revision"]}"'}
        assert (
            self.api.put(f"/notes/{note_id}/tasks/0", {"done": done}, headers=headers).status_code
            == 200
        )
        self.expect(note["content"].startswith("- [x]") != done)

    @rule(data=st.data())
    def api_trash(self, data):
        note_id = self.pick(data, trashed=False)
        if note_id is None:
            return self.expect(False)
        headers = {"If-Match": "*"}
        assert self.api.delete(f"/notes/{note_id}", headers=headers).status_code == 204
        self.expect(True)

    @rule(data=st.data())
    def api_restore(self, data):
        note_id = self.pick(data, trashed=True)
        if note_id is None:
            return self.expect(False)
        assert self.api.post(f"/notes/{note_id}/restore").status_code == 200
        self.expect(True)

    @rule(data=st.data(), hour=st.integers(8, 10), repeat=st.sampled_from(["none", "daily"]))
    def api_set_reminder(self, data, hour, repeat):
        note_id = self.pick(data, trashed=False)
        at = f"{tomorrow_at(hour, 'UTC')}:00+00:00"
        if note_id is None or (self.notes[note_id]["reminder"] or {}).get("at") == at:
            return self.expect(False)
        body = {"reminder": {"at": at, "repeat": repeat}}
        answer = self.api.patch(f"/notes/{note_id}", body, headers={"If-Match": "*"})
        assert answer.status_code == 200, answer.get_json()
        self.expect(True)

    @rule(data=st.data())
    def reminder_fires(self, data):
        waiting = [
            note_id
            for note_id, note in self.notes.items()
            if note["reminder"] and note["reminder"]["next_at"] and not note["trashed"]
        ]
        if not waiting:
            return self.expect(False)
        note_id = data.draw(st.sampled_from(sorted(waiting)))
        come_due(self.app, note_id)  # its time came: the JSON shows it due now
        self.notes = self.server_notes()
        assert sweep(self.app) == 1
        self.expect(True, spends=False)  # the sweeper's change spends none of her writes

    @rule(device=st.integers(0, 1))
    def device_syncs(self, device):
        self.devices[device].sync()
        assert self.devices[device].notes == self.server_notes()
        self.expect(False)

    # --- what holds after every step ---------------------------------------------------------

    @invariant()
    def revisions_move_exactly_when_the_json_changes_and_each_write_spends_once(self):
        now, before = self.server_notes(), self.notes
        moved = 0
        for note_id in before.keys() | now.keys():
            old, new = before.get(note_id), now.get(note_id)
            if old is None or new is None:
                moved += 1  # made, or deleted for good
                continue
            if without_revision(old) == without_revision(new):
                assert new["revision"] == old["revision"], note_id
            else:
                assert new["revision"] == old["revision"] + 1, note_id
                moved += 1
        spent = self.writes_spent()
        writes = self.writes_since(spent)
        if self.changed is not None:
            assert writes == (1 if self.spends else 0)
            assert (moved > 0) == self.changed
        self.notes, self.spent, self.changed = now, spent, None


def test_every_order_of_note_operations_keeps_revisions_feed_and_writes_true(
    app, user, monkeypatch
):
    for limit in ("NOTE_WRITES_PER_MINUTE", "TOKEN_WRITES_PER_MINUTE", "API_WRITES_PER_MINUTE"):
        monkeypatch.setitem(app.config, limit, 100_000)
    run_state_machine_as_test(
        lambda: NoteSequences(app, user),
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=STEPS,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        ),
    )
