"""Who may do what through the API: another account's ids answer 404 on every route and change
nothing, a read token changes nothing (403), secrets stay out of logs and answers, and the
write rates hold, with their headers: a token's, its account's tokens' together, apart from the
person's pages."""

import logging

from sqlalchemy import select

from app.extensions import db
from app.features.tokens.service import revoke_all
from app.models import Attachment, Note, User
from tests.apiclients import ApiClient, attached, is_problem, token_for

ANY = '"1"'


def every_route(note_id, attachment_id):
    """Every API route that names an object, with a body it would take."""
    note, tick = f"/notes/{note_id}", {"done": True}
    return [
        ("GET", note, None),
        ("PATCH", note, {"title": "mine now"}),
        ("DELETE", note, None),
        ("POST", f"{note}/restore", None),
        ("PUT", f"{note}/tasks/0", tick),
        ("GET", f"{note}/history", None),
        ("GET", f"{note}/attachments", None),
        ("POST", f"{note}/attachments", {"name": "x.pdf", "size": 10}),
        ("POST", f"{note}/attachments/{attachment_id}/confirm", None),
        ("GET", f"/attachments/{attachment_id}", None),
        ("DELETE", f"/attachments/{attachment_id}", None),
    ]


def snapshot(app):
    """Return every note's and attachment's state, to show that nothing changed."""
    with app.app_context():
        notes = db.session.execute(
            select(Note.id, Note.title, Note.version, Note.pinned, Note.deleted_at)
        ).all()
        files = db.session.execute(select(Attachment.id, Attachment.state)).all()
        return sorted(notes), sorted(files)


def test_another_accounts_ids_answer_404_on_every_route_and_change_nothing(app, ann_api, bob_api):
    note = ann_api.new_note()
    attachment = attached(ann_api, note["id"])
    before = snapshot(app)
    for method, path, body in every_route(note["id"], attachment["id"]):
        response = bob_api.call(method, path, json=body, headers={"If-Match": ANY})
        assert is_problem(response, 404, "not-found"), (method, path, response.status_code)
        assert str(note["id"]) not in response.get_data(as_text=True).replace(path, "")
    assert snapshot(app) == before
    with_cursor = ann_api.get("/notes?limit=1")
    assert with_cursor.status_code == 200


def test_a_trashed_notes_routes_are_404_for_another_account_too(app, ann_api, bob_api):
    note = ann_api.new_note()
    ann_api.delete(f"/notes/{note['id']}", headers={"If-Match": ANY})
    for method in ("GET", "POST"):
        path = f"/notes/{note['id']}" + ("/restore" if method == "POST" else "")
        assert is_problem(bob_api.call(method, path), 404, "not-found")
    assert bob_api.get("/notes?trashed=true").get_json()["items"] == []


def test_a_read_token_gets_403_on_every_write_and_changes_nothing(app, ann_api):
    note = ann_api.new_note()
    attachment = attached(ann_api, note["id"])
    reader = ApiClient(app, token_for(app, scope="read"))
    before = snapshot(app)
    writes = [route for route in every_route(note["id"], attachment["id"]) if route[0] != "GET"]
    writes += [("POST", "/notes", {"title": "new"}), ("POST", "/export", None)]
    for method, path, body in writes:
        response = reader.call(method, path, json=body, headers={"If-Match": ANY})
        assert is_problem(response, 403, "insufficient-scope"), (method, path)
        assert 'error="insufficient_scope"' in response.headers["WWW-Authenticate"]
    assert snapshot(app) == before
    assert reader.get(f"/notes/{note['id']}").status_code == 200
    assert reader.get("/export").get_json()["state"] == "none"


def test_a_revoked_token_opens_nothing(app, ann_api):
    assert ann_api.get("/me").status_code == 200
    with app.app_context():
        revoke_all(db.session.scalar(select(User.id).where(User.email == "ann@example.com")))
        db.session.commit()
    response = ann_api.get("/me")
    assert is_problem(response, 401, "unauthorized")
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_secrets_never_reach_the_log_or_an_answer(app, ann_api, caplog):
    caplog.set_level(logging.DEBUG)
    wrong = ann_api.secret[:-4] + "abcd"
    answers = [
        ann_api.get("/me"),
        ann_api.post("/notes", {"title": ann_api.secret, "bogus": 1}),
        ann_api.get(f"/notes?cursor={ann_api.secret}"),
        ApiClient(app, wrong).get("/me"),
        ann_api.call("PATCH", "/notes/1", headers={"If-Match": ann_api.secret}),
    ]
    for response in answers:
        body = response.get_data(as_text=True)
        assert ann_api.secret not in body and wrong not in body
        assert ann_api.secret not in str(response.headers)
    assert ann_api.secret not in caplog.text and wrong not in caplog.text


def test_writes_past_the_rate_get_429_with_retry_after_and_rate_headers(app, ann_api):
    limit = app.config["TOKEN_WRITES_PER_MINUTE"]
    first = ann_api.post("/notes", {"title": "0"})
    assert first.headers["RateLimit-Limit"] == str(limit)
    assert first.headers["RateLimit-Remaining"] == str(limit - 1)
    assert 0 < int(first.headers["RateLimit-Reset"]) <= 60
    for number in range(1, limit):
        assert ann_api.post("/notes", {"title": str(number)}).status_code == 201
    refused = ann_api.post("/notes", {"title": "one too many"})
    assert is_problem(refused, 429, "too-many-requests")
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    assert refused.headers["RateLimit-Remaining"] == "0"
    assert len(ann_api.get("/notes?limit=100").get_json()["items"]) == limit


def test_150_api_writes_never_make_the_persons_page_save_a_429(app, user, ann_api):
    answers = [ann_api.post("/notes", {"title": f"file {n}"}).status_code for n in range(150)]
    assert set(answers) == {201, 429}  # a sync pushing a folder, past its own budget
    saved = user.create_note("From the phone")
    assert saved.status_code == 302
    assert user.get(saved.headers["Location"]).status_code == 200


def test_a_tokens_429_names_it_and_more_tokens_do_not_raise_the_accounts_ceiling(
    app, user, monkeypatch
):
    monkeypatch.setitem(app.config, "TOKEN_WRITES_PER_MINUTE", 3)
    monkeypatch.setitem(app.config, "API_WRITES_PER_MINUTE", 5)
    laptop, script = ApiClient(app, token_for(app)), ApiClient(app, token_for(app, scope="write"))
    for number in range(3):
        assert laptop.post("/notes", {"title": f"laptop {number}"}).status_code == 201
    refused = laptop.post("/notes", {"title": "laptop, one too many"})
    assert is_problem(refused, 429, "too-many-requests")
    assert "“write token”" in refused.get_json()["detail"]
    assert [script.post("/notes", {"title": f"script {n}"}).status_code for n in range(3)] == [
        201,
        201,
        429,
    ]  # the account's tokens together: 5
    assert user.create_note("By hand").status_code == 302  # the pages' own budget
    with app.app_context():
        assert len(db.session.scalars(select(Note)).all()) == 6


def test_a_full_account_gets_409_and_nothing_is_saved(app, ann_api):
    note = ann_api.new_note()
    app.config["NOTE_BYTES_PER_USER"], kept = 100, app.config["NOTE_BYTES_PER_USER"]
    try:
        response = ann_api.patch(
            f"/notes/{note['id']}", {"content": "x" * 200}, headers={"If-Match": ANY}
        )
    finally:
        app.config["NOTE_BYTES_PER_USER"] = kept
    assert is_problem(response, 409, "quota-full")
    assert ann_api.get(f"/notes/{note['id']}").get_json()["version"] == 1
