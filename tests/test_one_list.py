"""The pages and the API list notes with one query, one vocabulary of orders and one cursor
codec (app/features/notes/paging.py): `updated` (the API's name) and `edited` (the pages') are one
order; the same data lists in the same order on both; a walk with the cursor visits each note
once while others write; the API's search pages by keyset."""

import re
from html import unescape

import hypothesis.strategies as st
from hypothesis import HealthCheck, settings
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    precondition,
    rule,
    run_state_machine_as_test,
)

from app.features.api.cursors import serializer
from tests.noting import NOTE_LINK, listed, note_id_of, save


def test_both_names_of_the_edited_order_work_on_the_pages_and_in_the_api(app, user, ann_api):
    for title in ("one", "two", "three"):
        note_id_of(user.create_note(title, "x"))
    by_api = {
        name: [note["title"] for note in ann_api.get(f"/notes?sort={name}").get_json()["items"]]
        for name in ("updated", "edited")
    }
    assert by_api["updated"] == by_api["edited"] == ["three", "two", "one"]
    assert listed(user, "/?sort=updated") == listed(user, "/?sort=edited") == by_api["edited"]


def test_the_apis_cursor_carries_the_pages_cursor(app, user, ann_api):
    for title in ("one", "two", "three"):
        note_id_of(user.create_note(title, "x"))
    first = ann_api.get("/notes?limit=2").get_json()
    with app.app_context():
        _, _, position = serializer().loads(first["next_cursor"])
    assert re.fullmatch(r"0-[0-9]+-2", position)  # pinned, micros, id: the pages' codec
    rest = ann_api.get(f"/notes?limit=2&cursor={first['next_cursor']}").get_json()
    assert [note["title"] for note in rest["items"]] == ["one"]


def test_a_cursor_of_the_release_before_still_continues(app, user, ann_api):
    for title in ("one", "two", "three"):
        note_id_of(user.create_note(title, "x"))
    first = ann_api.get("/notes?limit=2").get_json()
    with app.app_context():
        owner, digest, position = serializer().loads(first["next_cursor"])
        pinned, micros, note_id = position.split("-")
        old = serializer().dumps([owner, digest, [pinned == "1", int(micros), int(note_id)]])
    rest = ann_api.get(f"/notes?limit=2&cursor={old}").get_json()
    assert [note["title"] for note in rest["items"]] == ["one"]


def walk_pages(user, start):
    """Return the titles every list page shows from `start`, following its "Older" links."""
    seen, path = [], start
    while path:
        html = user.get(path).get_data(as_text=True)
        seen += [unescape(title) for _, title in NOTE_LINK.findall(html)]
        older = re.search(r'rel="next" href="([^"]+)"', html)
        path = older and unescape(older[1])
    return seen


def walk_api(api, query):
    """Return the titles the API's list gives from `query` on, following its cursors."""
    seen, cursor = [], None
    while True:
        answer = api.get(query + (f"&cursor={cursor}" if cursor else "")).get_json()
        seen += [note["title"] for note in answer["items"]]
        cursor = answer["next_cursor"]
        if cursor is None:
            return seen


def test_the_pages_and_the_api_list_the_same_notes_in_the_same_order(
    app, user, monkeypatch, ann_api
):
    monkeypatch.setitem(app.config, "NOTES_PER_PAGE", 3)
    for rate in ("NOTE_WRITES_PER_MINUTE", "TOKEN_WRITES_PER_MINUTE", "API_WRITES_PER_MINUTE"):
        monkeypatch.setitem(app.config, rate, 1000)
    notes = {
        title: note_id_of(user.create_note(title, "#work" if title in "BDFG" else "x"))
        for title in "ABCDEFGH"
    }
    save(user, notes["C"], "edited #work", title="C")  # last edited first, created in its place
    for title in ("B", "G"):
        assert user.post(f"/notes/{notes[title]}/pin").status_code == 302
    assert user.post(f"/notes/{notes['E']}/archive").status_code == 302
    expected = {
        "": ["G", "B", "C", "H", "F", "D", "A"],
        "sort=created": ["G", "B", "H", "F", "D", "C", "A"],
        "tag=work": ["G", "B", "C", "F", "D"],
        "tag=work&sort=created": ["G", "B", "F", "D", "C"],
    }
    for query, titles in expected.items():
        assert walk_pages(user, f"/?{query}") == titles, query
        assert walk_api(ann_api, f"/notes?limit=2&{query}") == titles, query
    assert walk_api(ann_api, "/notes?limit=2&sort=updated") == expected[""]
    assert walk_api(ann_api, "/notes?limit=2&archived=true") == ["E"]


def walk_search(api, query, between=lambda: None):
    """Return the ids a search gives through the API, following its cursors; `between` runs
    after each page."""
    seen, cursor = [], None
    while True:
        answer = api.get(query + (f"&cursor={cursor}" if cursor else "")).get_json()
        seen += [hit["id"] for hit in answer["items"]]
        cursor = answer["next_cursor"]
        if cursor is None:
            return seen
        between()


def test_the_apis_search_pages_by_keyset_and_a_better_match_written_meanwhile_shifts_nothing(
    app, user, monkeypatch, ann_api
):
    for rate in ("NOTE_WRITES_PER_MINUTE", "TOKEN_WRITES_PER_MINUTE", "API_WRITES_PER_MINUTE"):
        monkeypatch.setitem(app.config, rate, 1000)
    for words in ("milk", "milk milk", "milk and eggs", "oat milk", "milk", "no match"):
        ann_api.new_note(title="Shopping", content=words)
    best_first = [hit["id"] for hit in ann_api.get("/search?q=milk&limit=100").get_json()["items"]]
    assert len(best_first) == 5
    assert walk_search(ann_api, "/search?q=milk&limit=2") == best_first
    written = []
    # A note that ranks first, written after each page: an OFFSET would show the last hit of
    # the page before again; the keyset's place is after that hit, whatever comes before it.
    walked = walk_search(
        ann_api,
        "/search?q=milk&limit=2",
        lambda: written.append(ann_api.new_note(title="milk", content="milk milk milk")["id"]),
    )
    assert walked == best_first and written
    first = ann_api.get("/search?q=milk&limit=2").get_json()
    with app.app_context():
        owner, digest, (rank, _, note_id) = serializer().loads(first["next_cursor"])
        assert isinstance(rank, float) and note_id == first["items"][1]["id"]
        # A cursor of the release before held the next page's number: it still continues.
        old = serializer().dumps([owner, digest, [2]])
    again = ann_api.get(f"/search?q=milk&limit=2&cursor={old}").get_json()
    assert len(again["items"]) == 2 and again["next_cursor"] is not None


class WalkWhileWriting(RuleBasedStateMachine):
    """One device walks a list with its cursor, a page at a time, while another writes: new
    notes, edits, pins and ticks between the pages. Each example lists notes of a tag of its
    own, so the examples share one account without seeing each other's notes."""

    examples = 0

    def __init__(self, user, api):
        super().__init__()
        WalkWhileWriting.examples += 1
        self.user, self.api = user, api
        self.tag = f"walk{WalkWhileWriting.examples}"
        self.visited, self.moved, self.ended = [], set(), False
        self.cursor = self.path = None

    def write(self, title):
        """Write a note of this example's; return its id."""
        return self.api.new_note(title=title, content=f"#{self.tag}")["id"]

    @initialize(
        count=st.integers(2, 7),
        sort=st.sampled_from(["edited", "updated", "created"]),
        via=st.sampled_from(["api", "pages"]),
        limit=st.integers(1, 3),
    )
    def start(self, count, sort, via, limit):
        self.at_start = [self.write(f"old {number}") for number in range(count)]
        self.notes = list(self.at_start)
        self.sort, self.via, self.limit = sort, via, limit
        self.path = f"/?tag={self.tag}&sort={sort}"

    @precondition(lambda self: not self.ended)
    @rule()
    def next_page(self):
        if self.via == "api":
            query = f"/notes?tag={self.tag}&sort={self.sort}&limit={self.limit}"
            answer = self.api.get(query + (f"&cursor={self.cursor}" if self.cursor else ""))
            page = answer.get_json()
            self.visited += [note["id"] for note in page["items"]]
            self.cursor = page["next_cursor"]
            self.ended = self.cursor is None
        else:
            html = self.user.get(self.path).get_data(as_text=True)
            self.visited += [int(note_id) for note_id, _ in NOTE_LINK.findall(html)]
            older = re.search(r'rel="next" href="([^"]+)"', html)
            self.path = older and unescape(older[1])
            self.ended = self.path is None

    @rule(title=st.sampled_from(["new", "newer"]))
    def insert(self, title):
        self.notes.append(self.write(title))

    @rule(data=st.data())
    def edit(self, data):
        note = data.draw(st.sampled_from(self.notes))
        changed = self.api.patch(
            f"/notes/{note}", {"content": f"edited #{self.tag}"}, headers={"If-Match": "*"}
        )
        assert changed.status_code == 200
        if self.sort != "created" and note not in self.visited:
            self.moved.add(note)  # last edited now: before the walker's place, not after

    @rule(data=st.data(), flag=st.sampled_from(["pinned", "completed"]))
    def flag(self, data, flag):
        note = data.draw(st.sampled_from(self.notes))
        changed = self.api.patch(f"/notes/{note}", {flag: True}, headers={"If-Match": "*"})
        assert changed.status_code == 200
        if flag == "pinned" and note not in self.visited:
            self.moved.add(note)  # pinned now: before the walker's place, not after

    def teardown(self):
        if not hasattr(self, "notes"):
            return
        while not self.ended:  # the walk ends with nobody writing
            self.next_page()
        assert len(self.visited) == len(set(self.visited)), self.visited  # never twice
        for note in self.at_start:
            if note not in self.moved:
                assert note in self.visited, (note, self.visited)  # none left out


def test_walking_a_list_while_notes_are_written_visits_each_note_once(
    app, user, monkeypatch, ann_api
):
    for rate in ("NOTE_WRITES_PER_MINUTE", "TOKEN_WRITES_PER_MINUTE", "API_WRITES_PER_MINUTE"):
        monkeypatch.setitem(app.config, rate, 100_000)
    monkeypatch.setitem(app.config, "NOTES_PER_PAGE", 2)
    WalkWhileWriting.examples = 0
    run_state_machine_as_test(
        lambda: WalkWhileWriting(user, ann_api),
        settings=settings(
            max_examples=12,
            stateful_step_count=10,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        ),
    )
