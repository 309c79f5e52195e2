"""Ticking a task item from the notes list: the note page's tick (`POST /notes/<id>/tasks/<n>`)
offered for a note's first open items, version-checked, back to the same list page and row.

Each attack on it is kept here: markup in a task's text, another account's note, a stale
tick, an item that is not there, a missing CSRF token (docs/security/notes.md).
"""

from html import unescape

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from selectolax.lexbor import LexborHTMLParser as HTMLParser

from app.markdown import OPEN_TASKS_LISTED, TASK_TEXT_LENGTH
from tests.databases import run_sql
from tests.note_writers import set_up_directly
from tests.noting import content_of, note_id_of


def list_ticks(browser, path="/"):
    """Return the list's task buttons as (note id, action, fields a browser sends, accessible
    name, visible text), each button's fields read from the form it names, as a browser does."""
    tree = HTMLParser(browser.get(path).get_data(as_text=True))
    found = []
    for button in tree.css("button[form^=tasks-]"):
        form = tree.css_first(f"form#{button.attributes['form']}")
        fields = {
            field.attributes["name"]: field.attributes["value"]
            for field in form.css("input[type=hidden]")
        }
        fields[button.attributes["name"]] = button.attributes["value"]
        note = int(button.attributes["form"].removeprefix("tasks-"))
        text = button.parent.text(deep=True).removeprefix("☐").strip()
        found.append(
            (note, button.attributes["formaction"], fields, button.attributes["aria-label"], text)
        )
    return found


def test_the_list_offers_a_notes_first_open_tasks_and_a_tick_saves_one(user):
    plain = note_id_of(user.create_note("Plain", "no tasks here"))
    shop = note_id_of(
        user.create_note("Shop", "- [x] bread\n- [ ] **milk**\n- [ ] eggs\n- [ ] tea\n- [ ] jam")
    )
    ticks = list_ticks(user)
    assert [(note, label, text) for note, _, _, label, text in ticks] == [
        (shop, "“milk”: not done", "milk"),
        (shop, "“eggs”: not done", "eggs"),
        (shop, "“tea”: not done", "tea"),
    ]
    assert len(ticks) == OPEN_TASKS_LISTED and plain not in {note for note, *_ in ticks}
    _, action, fields, _, _ = ticks[1]
    assert action == f"/notes/{shop}/tasks/2?item=eggs" and fields["done"] == "1"
    response = user.post(action, fields, csrf=False)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/#note-{shop}"  # back to its row
    assert "- [x] eggs" in content_of(user, shop)
    assert [text for *_, text in list_ticks(user)] == ["milk", "tea", "jam"]
    assert "2/5 done" in user.get("/").get_data(as_text=True)


def test_a_tick_from_the_list_returns_to_the_same_page_and_filters(user):
    note = note_id_of(user.create_note("Shop #home", "- [ ] milk"))
    user.create_note("Other", "- [ ] other")
    [(_, action, fields, _, _)] = list_ticks(user, "/?tag=home&sort=created")
    assert fields["next"] == f"/?tag=home&sort=created#note-{note}"
    response = user.post(action, fields, csrf=False)
    assert response.headers["Location"] == f"/?tag=home&sort=created#note-{note}"
    assert list_ticks(user, "/?tag=home&sort=created") == []


def test_a_tick_from_an_older_list_of_an_unchanged_item_applies_and_keeps_the_row(user):
    note = note_id_of(user.create_note("Shop", "- [ ] milk\n- [ ] eggs"))
    [_, (_, action, stale, _, _)] = list_ticks(user)
    edited = "- [ ] milk\n- [ ] eggs\n- [ ] 두부"  # another tab adds an item
    user.post(f"/notes/{note}/edit", {"title": "Shop", "content": edited, "version": "1"})
    response = user.post(action, stale, csrf=False)
    assert response.status_code == 302 and response.headers["Location"] == f"/#note-{note}"
    assert "The note had changed meanwhile" in user.get("/").get_data(as_text=True)
    assert content_of(user, note) == "- [ ] milk\n- [x] eggs\n- [ ] 두부"


def test_a_stale_tick_from_the_list_gets_the_conflict_page_and_overwrites_nothing(user):
    note = note_id_of(user.create_note("Shop", "- [ ] milk\n- [ ] eggs"))
    [(_, action, stale, _, _), _] = list_ticks(user)
    edited = "- [ ] oat milk\n- [ ] eggs"
    user.post(f"/notes/{note}/edit", {"title": "Shop", "content": edited, "version": "1"})
    response = user.post(action, stale, csrf=False)
    assert response.status_code == 409
    assert "This note was changed meanwhile" in response.get_data(as_text=True)
    assert content_of(user, note) == edited


@pytest.mark.parametrize(
    "text",
    [
        '<script>alert("x")</script>',
        '"><img src=x onerror=alert(1)>',
        "' onfocus='alert(1)",
        "{{ 7 * 7 }} %(item)s",
        "[link](javascript:alert(1))",
    ],
)
def test_markup_in_a_task_is_text_in_the_list_and_its_label(user, text):
    user.create_note("Shop", f"- [ ] {text}")
    rows = HTMLParser(user.get("/").get_data(as_text=True)).css_first("ul.notes")
    elements = rows.css("*")
    assert {element.tag for element in elements} <= {"ul", "li", "span", "button", "a", "time"}
    assert not [name for element in elements for name in element.attributes if name[:2] == "on"]
    [(_, _, _, label, shown)] = list_ticks(user)
    # A javascript: link is no link (markdown-it refuses it): its text is all there is.
    assert label == f"“{text}”: not done" and unescape(shown) == text


def test_a_long_task_is_cut_short_in_the_list(user):
    user.create_note("Long", "- [ ] " + "word " * 100)
    [(_, _, _, _, text)] = list_ticks(user)
    assert len(text) == TASK_TEXT_LENGTH and text.endswith("…")


def test_another_users_list_never_shows_nor_ticks_my_tasks(user, other_user):
    note = note_id_of(user.create_note("Mine", "- [ ] secret"))
    [(_, action, fields, _, _)] = list_ticks(user)
    assert list_ticks(other_user) == []
    # Their own token and the version, as the list would send it for a note of theirs.
    response = other_user.post(action, {k: v for k, v in fields.items() if k != "csrf_token"})
    assert response.status_code == 404
    assert content_of(user, note) == "- [ ] secret"


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"csrf_token": None}, 400),  # no CSRF token
        ({"csrf_token": "forged"}, 400),
        ({"version": None}, 400),
        ({"done": "yes"}, 400),
        ({"action": "/tasks/1"}, 404),  # an item the note does not have
        ({"action": "/tasks/10000"}, 404),
    ],
)
def test_a_tampered_tick_from_the_list_is_refused_and_changes_nothing(user, change, status):
    note = note_id_of(user.create_note("Shop", "- [ ] milk"))
    [(_, action, fields, _, _)] = list_ticks(user)
    if "action" in change:
        action = f"/notes/{note}{change.pop('action')}"
    fields = {k: v for k, v in {**fields, **change}.items() if v is not None}
    assert user.post(action, fields, csrf=False).status_code == status
    assert content_of(user, note) == "- [ ] milk"


def test_the_previous_releases_saves_offer_no_tick_until_the_worker_reads_them(app, user):
    note = note_id_of(user.create_note("Shop", "- [ ] milk"))
    # The release before open tasks saves the text and its version, nothing of theirs.
    with set_up_directly():  # the previous release's save
        run_sql(app, "UPDATE note SET content = '- [ ] bread', version = version + 1")
    assert list_ticks(user) == []
    with app.app_context():
        from app.features.notes.tasks import retag_notes

        retag_notes(timestamp=0)
    [(listed, _, fields, _, text)] = list_ticks(user)
    assert (listed, text, fields["version"]) == (note, "bread", "2")


class ListTicks(RuleBasedStateMachine):
    """A checklist note ticked from list pages shown at different times, while the note is
    also edited: a tick from the page of the current version is applied, one from an older
    page too when its item's line is unchanged, else it gets the conflict page; the note is
    always the model's text."""

    def __init__(self, user):
        super().__init__()
        self.user, self.items, self.version, self.pages = user, [("a0", False)], 1, []
        self.note = note_id_of(user.create_note("Checklist", self.text()))

    def text(self):
        return "\n".join(f"- [{'x' if done else ' '}] {name}" for name, done in self.items)

    @rule()
    def show_the_list(self):
        ticks = [tick for tick in list_ticks(self.user) if tick[0] == self.note]
        open_items = [name for name, done in self.items if not done][:OPEN_TASKS_LISTED]
        assert [text for *_, text in ticks] == open_items
        if ticks:
            self.pages.append((self.version, ticks))

    @rule(name=st.sampled_from(["b", "c", "d"]))
    def edit_elsewhere(self, name):
        self.items.append((f"{name}{len(self.items)}", False))
        answer = self.user.post(
            f"/notes/{self.note}/edit",
            {"title": "Checklist", "content": self.text(), "version": str(self.version)},
        )
        assert answer.status_code == 302
        self.version += 1

    @precondition(lambda self: self.pages)
    @rule(data=st.data())
    def tick_from_a_page(self, data):
        shown_at, ticks = data.draw(st.sampled_from(self.pages))
        _, action, fields, _, text = data.draw(st.sampled_from(ticks))
        answer = self.user.post(action, fields, csrf=False)
        number = int(action.partition("?")[0].rsplit("/", 1)[1])
        if shown_at == self.version or self.items[number][0] == text:
            # The page is current, or the item's line is as it showed it: a tick is a
            # change of that one line.
            assert answer.status_code == 302
            self.version += self.items[number] != (text, True)
            self.items[number] = (text, True)
        else:
            assert answer.status_code == 409  # its line changed: never a silent overwrite

    @rule(data=st.data())
    def rename_elsewhere(self, data):
        number = data.draw(st.integers(0, len(self.items) - 1))
        name, done = self.items[number]
        self.items[number] = (f"{name}'", done)
        answer = self.user.post(
            f"/notes/{self.note}/edit",
            {"title": "Checklist", "content": self.text(), "version": str(self.version)},
        )
        assert answer.status_code == 302
        self.version += 1

    @invariant()
    def the_note_is_the_models_text(self):
        assert content_of(self.user, self.note) == self.text()


def test_ticks_from_list_pages_old_and_new_never_overwrite_unasked(app, user, monkeypatch):
    monkeypatch.setitem(app.config, "NOTE_WRITES_PER_MINUTE", 10_000)
    run_state_machine_as_test(
        lambda: ListTicks(user),
        settings=settings(
            max_examples=12,
            stateful_step_count=8,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        ),
    )
