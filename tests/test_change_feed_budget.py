"""What one page of the change feed may spend (issue 78): about 2 MiB of JSON whatever its
`limit`, a fixed number of statements however many items, and two pages of an account's
heavy reads at once (429 past them)."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from app.extensions import db
from app.features.notes import changes, service
from tests.apiclients import ApiClient, hold_slots, is_problem, statements_run, token_for

# The largest note: 20,000 Hangul syllables, 60,000 bytes of UTF-8 (a page of 500 was 28.7 MiB).
LARGEST = "가나다라마바사아자차" * 2000
FAR_AHEAD = "2099-01-01T09:00:00+09:00"


def write_notes(app, count, content="words", user_id=1):
    """Give the account `count` notes as the one writer makes them (an import's way)."""
    with app.app_context():
        service.create_many(
            user_id, [{"title": f"n{number}", "content": content} for number in range(count)]
        )
        db.session.commit()


def walk(api, limit=500):
    """Read the whole feed from 0; return each page's (bytes, items)."""
    pages, since = [], 0
    while True:
        response = api.get(f"/changes?since={since}&limit={limit}")
        assert response.status_code == 200, response.get_json()
        page = response.get_json()
        if not page["items"]:
            return pages
        pages.append((len(response.get_data()), page["items"]))
        since = page["next_since"]
        assert since == page["items"][-1]["seq"]


def test_a_page_of_the_largest_notes_stops_before_its_bytes_and_the_walk_misses_none(app, ann_api):
    write_notes(app, 500, LARGEST)
    budget = app.config["CHANGES_PAGE_BYTES"]
    pages = walk(ann_api)
    assert all(size <= budget for size, _ in pages), [size for size, _ in pages]
    assert all(len(items) < 500 for _, items in pages)
    assert min(size for size, _ in pages[:-1]) > budget - 70_000  # full, but for one note
    seqs = [item["seq"] for _, items in pages for item in items]
    assert seqs == sorted(seqs) and len(set(seqs)) == 500


def test_a_page_holds_at_least_one_item_however_small_its_bytes(app, ann_api, monkeypatch):
    write_notes(app, 3, LARGEST)
    ann_api.delete("/notes/1", headers={"If-Match": '"1"'})
    monkeypatch.setitem(app.config, "CHANGES_PAGE_BYTES", 1)
    pages = walk(ann_api)
    assert [len(items) for _, items in pages] == [1, 1, 1]
    assert [item["note"]["id"] for _, items in pages for item in items] == [2, 3, 1]


def test_a_page_of_one_and_of_500_run_the_same_few_statements(app, ann_api):
    def count(limit):
        ann_api.get(f"/changes?since=0&limit={limit}")  # the token's last use written once
        with statements_run(app) as seen:
            response = ann_api.get(f"/changes?since=0&limit={limit}")
        assert response.status_code == 200
        return len(response.get_json()["items"]), len(seen)

    write_notes(app, 1)
    one = count(1)
    write_notes(app, 499)
    for note_id in (2, 250, 500):  # reminders on notes of the page: read once, not per item
        reminder = {"reminder": {"at": FAR_AHEAD, "repeat": "daily"}}
        changed = ann_api.patch(f"/notes/{note_id}", json=reminder, headers={"If-Match": "*"})
        assert changed.status_code == 200, changed.get_json()
    many = count(500)
    assert one[0] == 1 and many[0] == 500
    # The token's account, the slot, the forgotten number, the page with its notes, their
    # reminders: the same for 1 item or 500 (it was 502 for 500).
    assert one[1] == many[1] <= 7, (one, many)


@pytest.mark.parametrize("path", ["/changes?since=0", "/notes?limit=100"])
def test_a_third_heavy_read_at_once_waits_with_429(app, ann_api, path):
    ann_api.new_note()
    reader = ApiClient(app, token_for(app, scope="read"))  # another token: the account counts
    *others, last = range(app.config["API_READS_IN_FLIGHT_PER_USER"])
    held = hold_slots(app, 1, others)
    try:
        assert reader.get(path).status_code == 200  # one slot left
        full = hold_slots(app, 1, [last])
        try:
            refused = reader.get(path)
            assert is_problem(refused, 429, "too-many-requests"), refused.get_json()
            assert refused.headers["Retry-After"] == "2"
        finally:
            full.close()
    finally:
        held.close()
    assert reader.get(path).status_code == 200


def test_another_accounts_heavy_reads_take_none_of_its_slots(app, ann_api, bob_api):
    bob_api.new_note()
    held = hold_slots(app, 1, range(app.config["API_READS_IN_FLIGHT_PER_USER"]))
    try:
        assert bob_api.get("/changes?since=0").status_code == 200
    finally:
        held.close()


def test_sixteen_pages_at_once_from_one_token_run_two_at_a_time(app, ann_api, monkeypatch):
    write_notes(app, 40, LARGEST)
    running, most, lock = [0], [0], threading.Lock()
    feed = changes.feed

    def slow_feed(*args):  # each page holds its slot a while, as a page of the did
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        try:
            time.sleep(0.5)
            return feed(*args)
        finally:
            with lock:
                running[0] -= 1

    monkeypatch.setattr(changes, "feed", slow_feed)
    reader = ApiClient(app, token_for(app, scope="read"))
    reader.get("/changes?since=0&limit=1")  # the token's last use written once, before

    def page(_):
        response = ApiClient(app, reader.secret).get("/changes?since=0&limit=500")
        return response.status_code, len(response.get_data())

    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(page, range(16)))
    statuses = [status for status, _ in answers]
    assert set(statuses) == {200, 429}, statuses
    assert most[0] == app.config["API_READS_IN_FLIGHT_PER_USER"]
    assert all(size <= app.config["CHANGES_PAGE_BYTES"] for _, size in answers)
