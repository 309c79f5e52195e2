"""A trashed note's share links: paused, listed, revocable, and live again on restore (#47).

Each test here failed on 36974c7: a trashed note's links were missing from My page, so
they could not be revoked there, and came back on restore unannounced.
"""

import re

from tests.noting import note_id_of, page


def shared(user, note_id):
    """Make a link to the note; return its path /s/<token>."""
    user.post(f"/notes/{note_id}/share", {"expires_days": ""})
    return re.search(r"/s/[\w-]+", page(user.get(f"/notes/{note_id}"))).group(0)


def test_trashing_a_note_says_its_links_are_paused_and_my_page_lists_them(user, client):
    note_id = note_id_of(user.create_note("Plan", "shared"))
    link = shared(user, note_id)
    trashed = user.post(f"/notes/{note_id}/delete")
    assert "Its share link is paused" in page(user.get(trashed.headers["Location"]))
    assert client.get(link).status_code == 404
    mine = page(user.get("/mypage"))
    assert "Paused: the note is in the trash" in mine and "Plan" in mine


def test_restoring_a_note_says_its_links_work_again(user, client):
    note_id = note_id_of(user.create_note("Plan", "shared"))
    link = shared(user, note_id)
    user.post(f"/notes/{note_id}/delete")
    restored = user.post(f"/trash/{note_id}/restore")
    assert "Its share link works again." in page(user.get(restored.headers["Location"]))
    assert user.get(link).status_code == 200


def test_a_paused_link_can_be_revoked_while_its_note_is_in_the_trash(user):
    note_id = note_id_of(user.create_note("Plan", "shared"))
    link = shared(user, note_id)
    user.post(f"/notes/{note_id}/delete")
    revoke = re.search(r'action="(/shares/\d+/revoke)"', page(user.get("/mypage"))).group(1)
    assert user.post(revoke).status_code == 302
    user.post(f"/trash/{note_id}/restore")
    assert user.get(link).status_code == 404
    assert "Paused" not in page(user.get("/mypage"))
