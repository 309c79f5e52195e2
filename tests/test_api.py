"""The JSON API (/api/v1/, docs/api.md) against the real database and store: every route,
its token, its versions, its errors."""

import threading

import pytest

from tests.apiclients import ApiClient, is_problem, token_for


def test_me_answers_who_the_token_is_for(ann_api):
    response = ann_api.get("/me")
    assert response.status_code == 200
    me = response.get_json()
    assert (me["email"], me["nickname"], me["timezone"]) == ("ann@example.com", "ann", "UTC")
    assert me["image_url"].startswith("http")
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer nope", "Basic YW5uOnB3", "Bearer memo_pat_" + "A" * 49],
)
def test_without_a_valid_token_the_api_answers_401_with_a_bearer_challenge(app, authorization):
    client = app.test_client()
    headers = {} if authorization is None else {"Authorization": authorization}
    response = client.get("/api/v1/notes", headers=headers)
    assert is_problem(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_signed_in_browsers_cookie_never_opens_the_api(app, user):
    response = user.client.get("/api/v1/me")
    assert is_problem(response, 401, "unauthorized")
    with_token = user.client.get(
        "/api/v1/me", headers={"Authorization": f"Bearer {token_for(app)}"}
    )
    assert with_token.status_code == 200 and "Set-Cookie" not in with_token.headers


def test_a_token_never_opens_a_page(app, ann_api):
    response = app.test_client(use_cookies=False).get(
        "/", headers={"Authorization": f"Bearer {ann_api.secret}"}
    )
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_a_note_made_through_the_api_is_the_contracts_json(ann_api):
    response = ann_api.post("/notes", {"title": "Plans", "content": "- [x] milk\n- [ ] eggs #shop"})
    assert response.status_code == 201
    note = response.get_json()
    assert set(note) == {
        "id", "title", "content", "completed", "pinned", "archived", "archived_at", "trashed",
        "tags", "links", "tasks", "created_at", "updated_at", "version", "revision", "reminder",
    }  # fmt: skip
    assert note["tasks"] == {"done": 1, "total": 2} and note["tags"] == ["shop"]
    assert note["reminder"] is None
    assert note["created_at"].endswith("+00:00") and note["version"] == 1
    assert response.headers["ETag"] == '"1"'
    assert response.headers["Location"].endswith(f"/api/v1/notes/{note['id']}")
    assert ann_api.get(f"/notes/{note['id']}").get_json() == note


def test_the_page_shows_a_note_made_through_the_api(user, ann_api):
    note = ann_api.new_note(title="From a script")
    assert "From a script" in user.client.get(f"/notes/{note['id']}").get_data(as_text=True)


def test_unknown_fields_are_refused_with_their_names(ann_api):
    response = ann_api.post("/notes", {"title": "x", "user_id": 2, "version": 9})
    assert is_problem(response, 422, "invalid-fields")
    names = {field["name"] for field in response.get_json()["invalid_params"]}
    assert names == {"user_id", "version"}


@pytest.mark.parametrize(
    "body",
    [{}, {"title": ""}, {"title": "   "}, {"title": "x" * 201}, {"title": "a\x00b"},
     {"title": "x", "content": "y" * 20_001}, {"title": 5}, {"title": "x", "pinned": "maybe"}],
)  # fmt: skip
def test_invalid_fields_get_422_and_nothing_is_saved(ann_api, body):
    response = ann_api.post("/notes", body)
    assert is_problem(response, 422, "invalid-fields")
    assert response.get_json()["invalid_params"]
    assert ann_api.get("/notes").get_json()["items"] == []


def test_a_body_not_json_gets_415(ann_api):
    response = ann_api.post(
        "/notes", data="title=x", content_type="application/x-www-form-urlencoded"
    )
    assert is_problem(response, 415, "not-json")
    response = ann_api.call("POST", "/notes")
    assert is_problem(response, 415, "not-json")


def test_broken_json_gets_400(ann_api):
    response = ann_api.post("/notes", data='{"title": ', content_type="application/json")
    assert is_problem(response, 400, "bad-request")


def test_a_body_over_the_budget_gets_413(ann_api):
    response = ann_api.post("/notes", {"title": "x", "content": "y" * 300_000})
    assert is_problem(response, 413, "too-large")


def test_change_needs_if_match_and_a_stale_one_gets_412_with_the_note(ann_api):
    note = ann_api.new_note()
    path = f"/notes/{note['id']}"
    assert is_problem(ann_api.patch(path, {"title": "New"}), 428, "version-required")
    changed = ann_api.patch(path, {"title": "New"}, headers={"If-Match": '"1"'})
    assert changed.status_code == 200 and changed.headers["ETag"] == '"2"'
    assert changed.get_json()["title"] == "New"
    stale = ann_api.patch(path, {"title": "Older"}, headers={"If-Match": '"1"'})
    assert is_problem(stale, 412, "version-mismatch")
    assert stale.get_json()["note"]["title"] == "New"
    assert stale.headers["ETag"] == '"2"'
    assert ann_api.get(path).get_json()["title"] == "New"
    assert ann_api.get(f"{path}/history").get_json()["items"][0]["title"] == "Plans"


@pytest.mark.parametrize(
    "if_match", ["2", 'W/"1"', "garbage", '"99999999999999999999"', '""', '"7", *']
)
def test_an_if_match_that_is_not_the_version_changes_nothing(ann_api, if_match):
    note = ann_api.new_note()
    response = ann_api.patch(
        f"/notes/{note['id']}", {"title": "No"}, headers={"If-Match": if_match}
    )
    assert is_problem(response, 412, "version-mismatch")
    assert ann_api.get(f"/notes/{note['id']}").get_json()["title"] == "Plans"


def test_pin_archive_and_complete_through_patch(ann_api):
    note = ann_api.new_note()
    path = f"/notes/{note['id']}"
    body = {"pinned": True, "archived": True, "completed": True}
    changed = ann_api.patch(path, body, headers={"If-Match": '"1"'}).get_json()
    assert (changed["pinned"], changed["archived"], changed["completed"]) == (True, True, True)
    assert ann_api.get("/notes").get_json()["items"] == []
    assert [n["id"] for n in ann_api.get("/notes?archived=true").get_json()["items"]] == [
        note["id"]
    ]


def test_delete_moves_to_the_trash_and_restore_brings_it_back(ann_api):
    note = ann_api.new_note()
    path = f"/notes/{note['id']}"
    assert is_problem(ann_api.delete(path), 428, "version-required")
    assert ann_api.delete(path, headers={"If-Match": '"1"'}).status_code == 204
    assert ann_api.get("/notes").get_json()["items"] == []
    trashed = ann_api.get("/notes?trashed=true").get_json()["items"]
    assert [n["trashed"] for n in trashed] == [True]
    assert is_problem(
        ann_api.patch(path, {"title": "x"}, headers={"If-Match": '"1"'}), 404, "not-found"
    )
    restored = ann_api.post(f"{path}/restore")
    assert restored.status_code == 200 and restored.get_json()["trashed"] is False


def test_ticking_a_task_needs_the_version_and_saves_the_text(ann_api):
    note = ann_api.new_note()
    path = f"/notes/{note['id']}/tasks/1"
    assert is_problem(ann_api.put(path, {"done": True}), 428, "version-required")
    ticked = ann_api.put(path, {"done": True}, headers={"If-Match": '"1"'})
    assert ticked.status_code == 200
    assert ticked.get_json()["content"] == "- [ ] milk\n- [x] eggs #shop"
    assert ticked.get_json()["tasks"] == {"done": 1, "total": 2}
    assert is_problem(
        ann_api.put(path, {"done": False}, headers={"If-Match": '"1"'}), 412, "version-mismatch"
    )
    missing = ann_api.put(
        f"/notes/{note['id']}/tasks/7", {"done": True}, headers={"If-Match": '"2"'}
    )
    assert is_problem(missing, 404, "not-found")


def test_the_same_idempotency_key_answers_the_same_note(ann_api):
    body = {"title": "Once", "content": ""}
    first = ann_api.post("/notes", body, headers={"Idempotency-Key": "k-1"})
    again = ann_api.post("/notes", body, headers={"Idempotency-Key": "k-1"})
    assert first.status_code == again.status_code == 201
    assert first.get_json()["id"] == again.get_json()["id"]
    assert len(ann_api.get("/notes").get_json()["items"]) == 1
    other = ann_api.post("/notes", {"title": "Other"}, headers={"Idempotency-Key": "k-1"})
    assert is_problem(other, 422, "idempotency-key-reused")
    assert (
        ann_api.post("/notes", body, headers={"Idempotency-Key": "k-2"}).get_json()["id"]
        != (first.get_json()["id"])
    )


def test_another_accounts_idempotency_key_is_its_own(ann_api, bob_api):
    mine = ann_api.post("/notes", {"title": "Mine"}, headers={"Idempotency-Key": "same"})
    theirs = bob_api.post("/notes", {"title": "Mine"}, headers={"Idempotency-Key": "same"})
    assert mine.get_json()["id"] != theirs.get_json()["id"]


def test_the_list_pages_with_a_cursor_to_the_end(ann_api):
    made = [ann_api.new_note(title=f"n{i}")["id"] for i in range(5)]
    seen, cursor = [], None
    while True:
        query = "/notes?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = ann_api.get(query).get_json()
        seen += [note["id"] for note in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == made[::-1]


def test_a_cursor_is_refused_on_another_account_another_query_or_altered(ann_api, bob_api):
    for i in range(3):
        ann_api.new_note(title=f"n{i}")
        bob_api.new_note(title=f"b{i}")
    cursor = ann_api.get("/notes?limit=1").get_json()["next_cursor"]
    assert ann_api.get(f"/notes?limit=1&cursor={cursor}").status_code == 200
    assert is_problem(bob_api.get(f"/notes?limit=1&cursor={cursor}"), 400, "invalid-cursor")
    assert is_problem(ann_api.get(f"/notes?sort=created&cursor={cursor}"), 400, "invalid-cursor")
    assert is_problem(ann_api.get(f"/search?q=n0&cursor={cursor}"), 400, "invalid-cursor")
    altered = cursor[:-2] + ("AA" if not cursor.endswith("AA") else "BB")
    assert is_problem(ann_api.get(f"/notes?cursor={altered}"), 400, "invalid-cursor")


def test_list_filters(ann_api):
    work = ann_api.new_note(title="w", content="#work")
    ann_api.new_note(title="p", content="#play")
    assert [n["id"] for n in ann_api.get("/notes?tag=work").get_json()["items"]] == [work["id"]]
    assert ann_api.get("/notes?tag=work&tag=play").get_json()["items"] == []
    ann_api.patch(f"/notes/{work['id']}", {"pinned": True}, headers={"If-Match": '"1"'})
    assert [n["id"] for n in ann_api.get("/notes?pinned=true").get_json()["items"]] == [work["id"]]
    assert is_problem(ann_api.get("/notes?tag=%23%23"), 422, "invalid-fields")
    assert is_problem(ann_api.get("/notes?limit=0"), 422, "invalid-fields")
    assert is_problem(ann_api.get("/notes?sort=title"), 422, "invalid-fields")
    assert is_problem(ann_api.get("/notes?owner=2"), 422, "invalid-fields")


def test_search_finds_notes_with_a_snippet(ann_api):
    ann_api.new_note(title="Groceries", content="buy oat milk")
    ann_api.new_note(title="Other", content="nothing")
    found = ann_api.get("/search?q=milk").get_json()
    assert [hit["title"] for hit in found["items"]] == ["Groceries"]
    assert "<mark>milk</mark>" in found["items"][0]["snippet"]
    assert is_problem(ann_api.get("/search"), 422, "invalid-fields")
    assert is_problem(ann_api.get("/search?q=tag:shop"), 400, "search-refused")


def test_tags_count_the_listed_notes(ann_api):
    ann_api.new_note(content="#work #shop")
    ann_api.new_note(content="#work")
    assert ann_api.get("/tags").get_json()["items"] == [
        {"name": "work", "count": 2},
        {"name": "shop", "count": 1},
    ]


def test_unknown_addresses_and_methods_are_problems(ann_api):
    assert is_problem(ann_api.get("/nothing"), 404, "not-found")
    assert is_problem(ann_api.put("/me", {}), 405, "method-not-allowed")


def test_one_idempotency_key_sent_five_times_at_once_makes_one_note(app, ann_api):
    barrier, answers = threading.Barrier(5), []

    def send():
        client = ApiClient(app, ann_api.secret)
        barrier.wait()
        answers.append(client.post("/notes", {"title": "Once"}, headers={"Idempotency-Key": "x"}))

    threads = [threading.Thread(target=send) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [answer.status_code for answer in answers] == [201] * 5
    assert len({answer.get_json()["id"] for answer in answers}) == 1
    assert len(ann_api.get("/notes").get_json()["items"]) == 1
