"""Memo in the pocket, over HTTP: the manifest, the service worker, the offline page, which
pages the worker may keep and whose they are, the sign-out that empties the browser, a shared
page opening a new note, and a note sent twice by the outbox made once."""

import json
import re
from datetime import timedelta
from html import unescape

from sqlalchemy import func, select

from app.build import BUILD_VARIABLES, code_release
from app.extensions import db
from app.features.notes.tasks import purge_trash_and_history
from app.models import IdempotencyKey, Note
from tests.noting import make_link, note_id_of, page, save

OUTBOX_KEY = "4f2b7d9e-1c3a-4e5f-8a9b-0c1d2e3f4a5b"


def test_the_manifest_makes_memo_installable_with_a_share_target(browser):
    response = browser.get("/manifest.webmanifest?lang=ko")
    assert response.status_code == 200
    assert response.mimetype == "application/manifest+json"
    manifest = json.loads(response.get_data(as_text=True))
    assert (manifest["id"], manifest["scope"], manifest["start_url"]) == ("/", "/", "/")
    assert manifest["display"] == "standalone" and manifest["lang"] == "ko"
    sizes = {icon["sizes"] for icon in manifest["icons"]}
    assert {"192x192", "512x512"} <= sizes
    assert [icon["purpose"] for icon in manifest["icons"] if "purpose" in icon] == ["maskable"]
    assert {shot["form_factor"] for shot in manifest["screenshots"]} == {"narrow", "wide"}
    for entry in manifest["icons"] + manifest["screenshots"]:
        assert browser.client.get(entry["src"]).status_code == 200, entry["src"]
    target = manifest["share_target"]
    assert (target["action"], target["method"]) == ("/notes/shared", "POST")
    assert target["enctype"] == "multipart/form-data"
    params = target["params"]
    assert (params["title"], params["text"], params["url"]) == ("title", "text", "url")
    [files] = params["files"]
    assert files["name"] == "files" and {"image/*", "application/pdf", ".hwp"} <= {*files["accept"]}
    english = json.loads(browser.get("/manifest.webmanifest?lang=en").get_data(as_text=True))
    assert english["lang"] == "en" and english["description"] != manifest["description"]
    # Each language's install sheet shows its own interface.
    shots = [(shot["src"], shot["label"]) for shot in manifest["screenshots"]]
    assert all("-ko.png" in src for src, _ in shots), shots
    assert all("-en.png" in shot["src"] for shot in english["screenshots"])
    assert {label for _, label in shots}.isdisjoint(s["label"] for s in english["screenshots"])


def test_pages_link_the_manifest_in_their_language(browser):
    html = page(browser.get("/auth/login", headers={"Accept-Language": "ko"}))
    assert '<link rel="manifest" href="/manifest.webmanifest?lang=ko">' in html


def test_the_service_worker_is_served_from_the_root_and_never_kept_by_the_http_cache(browser):
    response = browser.get("/sw.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Cache-Control"] == "no-cache"
    script = response.get_data(as_text=True)
    assert "memo-static-${RELEASE}" in script and '"/offline?lang=ko"' in script
    # What a share may leave in the browser: the attachments' limits, and one full share.
    for budget in (
        "const SHARE_FILES = 10;",
        f"const SHARE_FILE_BYTES = {25 * 2**20};",
        "const SHARES_KEPT = 20;",
        f"const SHARED_BYTES = {250 * 2**20};",
        "const CONTENT_LENGTH = 20000;",
    ):
        assert budget in script


def test_the_offline_page_answers_anyone_without_account_data(browser, user):
    for visitor, path in (
        (browser, "/offline"),
        (user, "/offline"),
        (user, "/offline/unavailable"),
    ):
        response = visitor.get(f"{path}?lang=en")
        assert response.status_code == 200
        html = page(response)
        assert "You are offline" in html
        assert ">ann<" not in html and "ann@example.com" not in html and "Sign out" not in html
        assert "Memo-Offline-Account" not in response.headers


def test_only_note_pages_are_marked_keepable_and_each_names_its_sign_in(user, other_user):
    note = note_id_of(user.create_note("Kept", "for the flight"))
    for path in ("/", f"/notes/{note}", "/notes/new", f"/notes/{note}/edit"):
        response = user.get(path)
        assert response.headers["Memo-Offline-Keep"] == "1", path
        assert response.headers["Cache-Control"] == "no-store", path
    for path in ("/mypage", "/mypage/security", "/mypage/tokens", "/search?q=x", "/trash"):
        assert "Memo-Offline-Keep" not in user.get(path).headers, path
    anns, bobs = user.get("/").headers, other_user.get("/").headers
    assert anns["Memo-Offline-Account"] != bobs["Memo-Offline-Account"]
    assert user.get("/notes/999999").status_code == 404
    assert "Memo-Offline-Keep" not in user.get("/notes/999999").headers


def test_anonymous_and_share_pages_are_never_marked_keepable(app, user):
    anonymous = app.test_client()
    for path in ("/auth/login", "/auth/signup", "/auth/reset"):
        response = anonymous.get(path)
        assert response.headers["Memo-Offline-Account"] == "-", path
        assert "Memo-Offline-Keep" not in response.headers, path
    shared = make_link(user, note_id_of(user.create_note("Shared", "with a friend")))
    for visitor in (anonymous, user.client):
        response = visitor.get(shared)
        assert response.status_code == 200 and "Memo-Offline-Keep" not in response.headers


def test_signing_out_empties_the_sites_storage_in_the_browser(user):
    response = user.post("/auth/logout")
    assert response.status_code == 302
    assert '"storage"' in response.headers["Clear-Site-Data"]
    assert '"cache"' in response.headers["Clear-Site-Data"]


def test_a_shared_page_opens_a_new_note_prefilled_and_saves_nothing(app, user):
    shared = {"title": "A good read", "text": "Worth keeping", "url": "https://example.com/a?b=1"}
    response = user.get("/notes/new", query_string=shared)
    assert response.status_code == 200
    html = page(response)
    assert 'value="A good read"' in html
    assert "Worth keeping\n\nhttps://example.com/a?b=1</textarea>" in html
    with app.app_context():
        assert db.session.scalar(select(func.count(Note.id))) == 0


def test_a_shared_link_inside_the_text_is_not_repeated_and_a_huge_share_is_cut(user):
    html = page(
        user.get(
            "/notes/new",
            query_string={"text": "see https://example.com/x", "url": "https://example.com/x"},
        )
    )
    textarea = re.search(r"<textarea[^>]*>(.*?)</textarea>", html, re.S)[1]
    assert textarea.strip() == "see https://example.com/x"
    html = page(user.get("/notes/new", query_string={"title": "t" * 5000, "text": "x" * 50_000}))
    assert re.search(r'name="title"[^>]*value="(t*)"', html)[1] == "t" * 200
    assert re.search(r"<textarea[^>]*>\s*(x*)</textarea>", html)[1] == "x" * 20_000


def test_a_note_sent_twice_with_one_key_is_made_once(app, user):
    fields = {
        "title": "From the plane",
        "content": "written offline",
        "idempotency_key": OUTBOX_KEY,
    }
    first = user.post("/notes/new", fields)
    again = user.post("/notes/new", fields)
    assert first.status_code == again.status_code == 302
    assert first.headers["Location"] == again.headers["Location"]
    with app.app_context():
        assert db.session.scalar(select(func.count(Note.id))) == 1


def test_a_key_sent_again_with_other_text_keeps_both_texts(app, user):
    user.post("/notes/new", {"title": "One", "content": "first", "idempotency_key": OUTBOX_KEY})
    user.post("/notes/new", {"title": "One", "content": "changed", "idempotency_key": OUTBOX_KEY})
    with app.app_context():
        assert sorted(db.session.scalars(select(Note.content))) == ["changed", "first"]


def test_another_accounts_outbox_key_answers_nothing_of_the_first(app, user, other_user):
    user.post("/notes/new", {"title": "Ann's", "content": "mine", "idempotency_key": OUTBOX_KEY})
    response = other_user.post(
        "/notes/new", {"title": "Bob's", "content": "his", "idempotency_key": OUTBOX_KEY}
    )
    assert "Ann's" not in page(other_user.get(response.headers["Location"]))
    with app.app_context():
        assert db.session.scalar(select(func.count(Note.id))) == 2


def test_a_malformed_key_is_no_key(app, user):
    for key in ("", "x" * 65, "bad key", "\x00"):
        response = user.post("/notes/new", {"title": "T", "content": "c", "idempotency_key": key})
        assert response.status_code == 302, key
    with app.app_context():
        assert db.session.scalar(select(func.count(Note.id))) == 4


def test_an_edit_sent_again_after_it_was_saved_is_not_a_conflict(user):
    note = note_id_of(user.create_note("Plan", "v1"))
    assert save(user, note, "from the plane").status_code == 302
    again = user.post(
        f"/notes/{note}/edit", {"title": "Plan", "content": "from the plane", "version": 1}
    )
    assert again.status_code == 302 and again.headers["Location"] == f"/notes/{note}"


def test_an_edit_sent_again_with_its_key_after_the_note_moved_on_answers_as_the_first(app, user):
    note = note_id_of(user.create_note("Plan", "v1"))
    edit = {"title": "Plan", "content": "from the plane", "version": 1}
    first = user.post(f"/notes/{note}/edit", {**edit, "idempotency_key": OUTBOX_KEY})
    save(user, note, "from the laptop")  # the note moves on before the answer is known
    again = user.post(f"/notes/{note}/edit", {**edit, "idempotency_key": OUTBOX_KEY})
    assert first.status_code == again.status_code == 302
    assert again.headers["Location"] == f"/notes/{note}"
    assert "Note updated." in page(user.get(again.headers["Location"]))
    with app.app_context():
        stored = db.session.get(Note, note)
        assert (stored.content, stored.version, stored.revision) == ("from the laptop", 3, 3)


def test_a_restored_draft_sent_on_its_own_version_over_a_newer_note_is_the_conflict_page(app, user):
    note = note_id_of(user.create_note("Plan", "v1"))
    save(user, note, "from the phone")  # version 2, while the laptop's draft sat on version 1
    draft = {"title": "Plan", "content": "the laptop's draft", "version": 1}
    answer = user.post(f"/notes/{note}/edit", {**draft, "idempotency_key": OUTBOX_KEY})
    assert answer.status_code == 409
    shown = page(answer)
    assert "the laptop's draft" in shown and "from the phone" in shown
    with app.app_context():
        stored = db.session.get(Note, note)
        assert (stored.content, stored.version) == ("from the phone", 2)


def test_an_edit_typed_on_and_sent_again_with_its_key_goes_on_top_of_its_first_text(app, user):
    note = note_id_of(user.create_note("Plan", "v1"))
    edit = {"title": "Plan", "version": 1, "idempotency_key": OUTBOX_KEY}
    assert user.post(f"/notes/{note}/edit", {**edit, "content": "first"}).status_code == 302
    longer = user.post(f"/notes/{note}/edit", {**edit, "content": "first, then more"})
    assert longer.status_code == 302
    with app.app_context():
        assert db.session.get(Note, note).content == "first, then more"


def test_another_accounts_edit_key_is_no_key_for_its_note(user, other_user):
    note = note_id_of(user.create_note("Plan", "v1"))
    edit = {"title": "Plan", "content": "mine", "version": 1, "idempotency_key": OUTBOX_KEY}
    assert user.post(f"/notes/{note}/edit", edit).status_code == 302
    assert other_user.post(f"/notes/{note}/edit", edit).status_code == 404


def test_a_tick_sent_again_with_its_key_after_the_note_moved_on_changes_nothing(app, user):
    note = note_id_of(user.create_note("Shop", "- [ ] milk\n- [ ] oat"))
    tick = {"done": "1", "version": "1", "idempotency_key": OUTBOX_KEY}
    assert user.post(f"/notes/{note}/tasks/0", tick).status_code == 302
    save(user, note, "- [x] milk\n- [ ] oat\n- [ ] tea", title="Shop")
    again = user.post(f"/notes/{note}/tasks/0", tick)
    assert again.status_code == 302 and again.headers["Location"].endswith(f"/notes/{note}#task-0")
    with app.app_context():
        assert db.session.get(Note, note).revision == 3  # made, tick, save: nothing more


def test_keys_past_their_24_hours_are_purged_by_the_hourly_job(app, user):
    note = note_id_of(user.create_note("Plan", "v1"))
    edit = {"title": "Plan", "content": "v2", "version": 1, "idempotency_key": OUTBOX_KEY}
    user.post(f"/notes/{note}/edit", edit)
    user.post("/notes/new", {"title": "Two", "content": "x", "idempotency_key": OUTBOX_KEY})
    with app.app_context():
        kept = db.session.scalars(select(IdempotencyKey)).all()
        assert len(kept) == 2
        kept[0].created_at -= timedelta(hours=25)
        db.session.commit()
        purge_trash_and_history(0)
        assert db.session.scalar(select(func.count(IdempotencyKey.id))) == 1


def test_an_edit_on_an_old_version_with_other_text_still_shows_both(user):
    note = note_id_of(user.create_note("Plan", "v1"))
    assert save(user, note, "from the laptop").status_code == 302
    stale = user.post(
        f"/notes/{note}/edit", {"title": "Plan", "content": "from the plane", "version": 1}
    )
    assert stale.status_code == 409
    html = unescape(stale.get_data(as_text=True))
    assert "from the laptop" in html and "from the plane" in html


def test_the_outbox_token_is_of_this_sign_in_and_never_kept(user, browser):
    response = user.get("/offline/token")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert response.get_json()["csrf_token"]
    user.logout()
    assert user.get("/offline/token").status_code == 302


def test_a_kept_pages_token_does_not_sign_another_accounts_form(app, user, other_user):
    user.get("/notes/new")
    anns_token = user.token  # what a page kept for ann carries
    response = other_user.post(
        "/notes/new", {"title": "Forged", "content": "x", "csrf_token": anns_token}, csrf=False
    )
    assert response.status_code == 400
    with app.app_context():
        assert db.session.scalar(select(func.count(Note.id))) == 0


def test_a_huge_offline_note_is_refused_whole_and_its_key_stays_free(app, user):
    fields = {"title": "Huge", "content": "x" * 20_001, "idempotency_key": OUTBOX_KEY}
    refused = user.post("/notes/new", fields)
    assert refused.status_code == 400
    assert "Content must be at most 20,000 characters." in page(refused)
    fields["content"] = "x" * 20_000  # cut to fit, sent again with the same key
    assert user.post("/notes/new", fields).status_code == 302
    with app.app_context():
        assert db.session.scalar(select(func.count(Note.id))) == 1


def test_the_workers_caches_are_named_by_the_release(browser, monkeypatch):
    for name in BUILD_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SOURCE_VERSION", "0123456789abcdef")
    code_release.cache_clear()
    try:
        assert 'const RELEASE = "0123456789ab";' in browser.get("/sw.js").get_data(as_text=True)
    finally:
        code_release.cache_clear()
