"""A note's revision (the API's ETag) moves on every change a reader could see, and the
conditional headers compare it as RFC 9110 says: If-Match strongly (`*` matches, a weak tag
never), If-None-Match weakly (304)."""

import pytest

from tests.apiclients import is_problem


def tag_of(ann_api, note_id):
    response = ann_api.get(f"/notes/{note_id}")
    return response.headers["ETag"], response.get_json()


@pytest.mark.parametrize(
    "body",
    [{"pinned": True}, {"archived": True}, {"completed": True}, {"title": "Other"}],
)
def test_every_change_of_the_json_moves_the_etag(ann_api, body):
    note = ann_api.new_note()
    before_tag, before = tag_of(ann_api, note["id"])
    changed = ann_api.patch(f"/notes/{note['id']}", body, headers={"If-Match": before_tag})
    assert changed.status_code == 200
    after_tag, after = tag_of(ann_api, note["id"])
    assert after != before and after_tag != before_tag
    assert after["revision"] == before["revision"] + 1


def test_trash_restore_and_a_tick_move_the_etag_each(ann_api):
    note = ann_api.new_note()
    path = f"/notes/{note['id']}"
    tags = [tag_of(ann_api, note["id"])[0]]
    assert (
        ann_api.put(f"{path}/tasks/0", {"done": True}, headers={"If-Match": tags[-1]}).status_code
        == 200
    )
    tags.append(tag_of(ann_api, note["id"])[0])
    assert ann_api.delete(path, headers={"If-Match": tags[-1]}).status_code == 204
    tags.append(tag_of(ann_api, note["id"])[0])
    assert ann_api.post(f"{path}/restore").status_code == 200
    tags.append(tag_of(ann_api, note["id"])[0])
    assert tags == ['"1"', '"2"', '"3"', '"4"']


def test_a_pin_through_the_page_moves_the_etag(ann_api, user):
    note = ann_api.new_note()
    assert user.post(f"/notes/{note['id']}/pin").status_code == 302
    tag, body = tag_of(ann_api, note["id"])
    assert tag == '"2"' and body["pinned"] is True and body["version"] == 1


def test_a_change_that_changes_nothing_keeps_the_etag(ann_api):
    note = ann_api.new_note()
    same = ann_api.patch(f"/notes/{note['id']}", {"title": "Plans"}, headers={"If-Match": '"1"'})
    assert same.status_code == 200 and same.headers["ETag"] == '"1"'


def test_if_match_star_matches_the_current_note(ann_api):
    note = ann_api.new_note()
    changed = ann_api.patch(f"/notes/{note['id']}", {"pinned": True}, headers={"If-Match": "*"})
    assert changed.status_code == 200 and changed.get_json()["pinned"] is True


def test_if_match_lists_of_tags_match_when_one_is_current(ann_api):
    note = ann_api.new_note()
    sent = {"If-Match": '"7", "1"'}
    assert ann_api.patch(f"/notes/{note['id']}", {"pinned": True}, headers=sent).status_code == 200


@pytest.mark.parametrize("if_match", ['W/"1"', 'W/"1", W/"2"'])
def test_a_weak_if_match_never_matches(ann_api, if_match):
    note = ann_api.new_note()
    response = ann_api.patch(
        f"/notes/{note['id']}", {"title": "No"}, headers={"If-Match": if_match}
    )
    assert is_problem(response, 412, "version-mismatch")
    assert response.get_json()["note"]["title"] == "Plans"
    assert ann_api.delete(f"/notes/{note['id']}", headers={"If-Match": if_match}).status_code == 412


def test_a_read_with_the_current_tag_answers_304(ann_api):
    note = ann_api.new_note()
    path = f"/notes/{note['id']}"
    for sent in ('"1"', 'W/"1"', "*", '"5", "1"'):
        response = ann_api.get(path, headers={"If-None-Match": sent})
        assert response.status_code == 304 and response.get_data() == b""
        assert response.headers["ETag"] == '"1"'
    ann_api.patch(path, {"pinned": True}, headers={"If-Match": '"1"'})
    fresh = ann_api.get(path, headers={"If-None-Match": '"1"'})
    assert fresh.status_code == 200 and fresh.headers["ETag"] == '"2"'
