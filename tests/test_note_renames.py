"""Renames across notes: a renamed note's `[[Old title]]` links moved to its new title, and a
tag renamed or merged in every note that has it (a Korean particle after it kept), each note
a new version through the writer, in the request or in the worker's lane."""

import re
import time

from sqlalchemy import func, select

from app.extensions import db
from app.features.notes import renames
from app.models import Note, NoteEvent, NoteVersion
from tests.linking import write_notes
from tests.noting import content_of, note_id_of, page
from tests.workers import run_queued_jobs


def edit(user, note_id, title, content):
    """Save a note from its edit form; return where the save went."""
    html = page(user.get(f"/notes/{note_id}/edit"))
    version = re.search(r'name="version" type="hidden" value="(\d+)"', html)[1]
    saved = user.post(
        f"/notes/{note_id}/edit", {"title": title, "content": content, "version": version}
    )
    assert saved.status_code == 302
    return saved.headers["Location"]


def test_rewriting_a_tag_keeps_its_particle_and_leaves_other_words():
    stems = {"회의", "회의록"}
    text = "#회의에서 #회의 #회의록 #회의는 #Work a#회의 [x](#회의)"
    assert renames.rewrite_tag(text, "회의", "모임", stems) == (
        "#모임에서 #모임 #회의록 #모임은 #Work a#회의 [x](#모임)"
    )
    assert renames.rewrite_tag("#회의로 #회의를", "회의", "서울", {"회의"}) == "#서울로 #서울을"
    assert renames.rewrite_tag("#모임은 #모임과", "모임", "회의", {"모임"}) == "#회의는 #회의와"
    assert renames.rewrite_tag("#WORK! #worker", "work", "job", {"work"}) == "#job! #worker"


def test_a_title_change_offers_to_update_the_links_and_history_keeps_their_old_text(app, user):
    shopping = note_id_of(user.create_note("장보기", "우유"))
    first = note_id_of(user.create_note("월요일", "[[장보기]] 가기"))
    second = note_id_of(user.create_note("화요일", "[[장보기|목록]] 그리고 [[다른 것]]"))
    location = edit(user, shopping, "시장 보기", "우유")
    offer = page(user.get(location))
    assert "2 notes link to the old title “장보기”" in offer
    done = user.post(f"/notes/{shopping}/relink", {"from": "장보기"})
    assert done.status_code == 302
    assert content_of(user, first) == "[[시장 보기]] 가기"
    assert content_of(user, second) == "[[시장 보기|목록]] 그리고 [[다른 것]]"
    with app.app_context():
        kept = db.session.scalars(
            select(NoteVersion.content).where(NoteVersion.note_id.in_([first, second]))
        ).all()
        assert sorted(kept) == ["[[장보기]] 가기", "[[장보기|목록]] 그리고 [[다른 것]]"]
        events = db.session.scalars(
            select(NoteEvent.kind).where(NoteEvent.note_id.in_([first, second]))
        ).all()
        assert sorted(events) == ["content", "content", "created", "created"]
    assert "Linked from" in page(user.get(f"/notes/{shopping}"))
    assert "link to the old title" not in page(user.get(location))  # nothing left to move


def test_no_offer_when_another_note_has_the_old_title(user):
    renamed = note_id_of(user.create_note("Plan", "x"))
    user.create_note("Plan", "the other")
    user.create_note("Day", "[[Plan]]")
    location = edit(user, renamed, "Trip", "x")
    assert "link to the old title" not in page(user.get(location))
    refused = user.post(f"/notes/{renamed}/relink", {"from": "Trip"})
    assert refused.status_code == 400
    taken = user.post(f"/notes/{renamed}/relink", {"from": "Plan"})
    assert taken.status_code == 400 and "Another note has this title" in page(taken)


def test_a_tag_rename_rewrites_every_note_keeping_particles_and_merges(app, user):
    one = note_id_of(user.create_note("회의 #회의", "#회의에서 정했다"))
    two = note_id_of(user.create_note("둘", "#모임 그리고 #회의"))
    other = note_id_of(user.create_note("셋", "#회의록은 따로"))
    assert "#회의" in page(user.get("/tags"))
    done = user.post("/tags/rename", {"from": "#회의", "to": "모임"})
    assert done.status_code == 302
    assert "2 notes changed." in page(user.get("/tags"))
    assert content_of(user, one) == "#모임에서 정했다"
    assert "회의 #모임" in page(user.get(f"/notes/{one}"))
    assert content_of(user, two) == "#모임 그리고 #모임"
    assert content_of(user, other) == "#회의록은 따로"
    with app.app_context():
        tags = dict(db.session.execute(select(Note.id, Note.tags)).all())
        assert tags[one] == ["모임"] and tags[two] == ["모임"] and tags[other] == ["회의록"]


def test_a_bad_tag_rename_is_refused_with_a_message(user):
    user.create_note("a", "#work")
    for asked in ({"from": "work", "to": "a b"}, {"from": "work", "to": "work"}, {"to": "x"}):
        refused = user.post("/tags/rename", asked)
        assert refused.status_code == 400
        assert 'role="alert"' in page(refused)


def test_a_tag_merge_over_2000_notes_runs_in_the_worker_all_at_once(app, user):
    write_notes(app, [(f"n{n}", "#회의에서 보자" if n % 2 else "#모임 #회의") for n in range(2000)])
    with app.app_context():
        events_before = db.session.scalar(select(func.count()).select_from(NoteEvent))
    started = user.post("/tags/rename", {"from": "회의", "to": "모임"})
    assert started.status_code == 302
    assert 'data-progress-url="/tags/rename"' in page(user.get("/tags"))
    started_at = time.monotonic()
    run_queued_jobs(app)
    print(f"the worker renamed 2,000 notes in {time.monotonic() - started_at:.1f} s")
    with app.app_context():
        tags = db.session.scalars(select(Note.tags)).all()
        assert len(tags) == 2000 and all(found == ["모임"] for found in tags)
        events = db.session.scalar(select(func.count()).select_from(NoteEvent))
        assert events - events_before == 2000
        contents = set(db.session.scalars(select(Note.content)))
        assert contents == {"#모임에서 보자", "#모임 #모임"}
    shown = page(user.get("/tags"))
    assert "The last rename changed 2000 notes." in shown, shown[shown.find("<h1") :][:900]


def test_the_api_renames_and_merges_a_tag_and_refuses_bad_names(ann_api, bob_api):
    first = ann_api.new_note("a", "#회의에서 #work")
    ann_api.new_note("b", "#모임")
    bobs = bob_api.new_note("c", "#회의")
    renamed = ann_api.patch("/tags/회의", json={"name": "모임"})
    assert renamed.status_code == 200
    assert renamed.get_json() == {"name": "모임", "notes_changed": 1}
    again = ann_api.get(f"/notes/{first['id']}").get_json()
    assert again["content"] == "#모임에서 #work" and again["tags"] == ["모임", "work"]
    assert bob_api.get(f"/notes/{bobs['id']}").get_json()["content"] == "#회의"
    assert ann_api.patch("/tags/회의", json={"name": "x"}).status_code == 404
    assert ann_api.patch("/tags/work", json={"name": "a b"}).status_code == 422
    assert ann_api.patch("/tags/work", json={}).status_code == 422


def test_a_large_api_rename_answers_202_with_where_to_follow_it(app, user, ann_api):
    write_notes(app, [(f"n{n}", "#old") for n in range(renames.INLINE_NOTES + 1)])
    started = ann_api.patch("/tags/old", json={"name": "new"})
    assert started.status_code == 202
    status_url = started.get_json()["status_url"]
    assert ann_api.get(status_url.removeprefix("/api/v1")).get_json()["status"] == "queued"
    assert ann_api.patch("/tags/new", json={"name": "newer"}).status_code == 409
    run_queued_jobs(app)
    state = ann_api.get(status_url.removeprefix("/api/v1")).get_json()
    assert state["status"] == "done" and state["notes_changed"] == renames.INLINE_NOTES + 1
