"""The pages and the API list notes in one vocabulary of orders and one cursor codec
(app/notes/paging.py): `updated` (the API's name) and `edited` (the pages') are one order."""

import re

from app.api.cursors import serializer
from tests.apiclients import ApiClient, token_for
from tests.noting import listed, note_id_of


def test_both_names_of_the_edited_order_work_on_the_pages_and_in_the_api(app, user):
    for title in ("one", "two", "three"):
        note_id_of(user.create_note(title, "x"))
    api = ApiClient(app, token_for(app))
    by_api = {
        name: [note["title"] for note in api.get(f"/notes?sort={name}").get_json()["items"]]
        for name in ("updated", "edited")
    }
    assert by_api["updated"] == by_api["edited"] == ["three", "two", "one"]
    assert listed(user, "/?sort=updated") == listed(user, "/?sort=edited") == by_api["edited"]


def test_the_apis_cursor_carries_the_pages_cursor(app, user):
    for title in ("one", "two", "three"):
        note_id_of(user.create_note(title, "x"))
    api = ApiClient(app, token_for(app))
    first = api.get("/notes?limit=2").get_json()
    with app.app_context():
        _, _, position = serializer().loads(first["next_cursor"])
    assert re.fullmatch(r"0-[0-9]+-2", position)  # pinned, micros, id: the pages' codec
    rest = api.get(f"/notes?limit=2&cursor={first['next_cursor']}").get_json()
    assert [note["title"] for note in rest["items"]] == ["one"]


def test_a_cursor_of_the_release_before_still_continues(app, user):
    for title in ("one", "two", "three"):
        note_id_of(user.create_note(title, "x"))
    api = ApiClient(app, token_for(app))
    first = api.get("/notes?limit=2").get_json()
    with app.app_context():
        owner, digest, position = serializer().loads(first["next_cursor"])
        pinned, micros, note_id = position.split("-")
        old = serializer().dumps([owner, digest, [pinned == "1", int(micros), int(note_id)]])
    rest = api.get(f"/notes?limit=2&cursor={old}").get_json()
    assert [note["title"] for note in rest["items"]] == ["one"]
