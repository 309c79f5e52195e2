"""What a Korean phone user met, third pass (issue 61), as pages answer it: a trashed note's
address says where it is, search hits show when a note was last edited, every page has a
skip link, sign-up and sign-in put the focus and the words where a person looks."""

import re

from tests.noting import note_id_of


def test_a_trashed_notes_address_says_it_is_in_the_trash_and_links_there(user, other_user):
    note = note_id_of(user.create_note("Old plans", "words"))
    user.post(f"/notes/{note}/delete")
    answer = user.get(f"/notes/{note}")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 404
    assert "This note is in the trash. You can restore it from there." in page
    assert '<a class="button" href="/trash">Open the trash</a>' in page
    # Another account's note, trashed or not, is as missing as one that never was.
    theirs = other_user.get(f"/notes/{note}").get_data(as_text=True)
    assert "trash" not in theirs.split("<main")[1].lower()


def test_a_search_hit_shows_when_the_note_was_last_edited(user):
    note = note_id_of(user.create_note("Budget", "quarterly budget"))
    user.create_note("Other budget", "budget again")
    user.post(
        f"/notes/{note}/edit", {"title": "Budget", "content": "quarterly budget!", "version": "1"}
    )
    page = user.get("/search?q=budget").get_data(as_text=True)
    whens = re.findall(r'<span class="when">(\w+) <time', page)
    assert sorted(whens) == ["Edited", "Written"]


def test_the_archive_box_sits_beside_its_label(user):
    page = user.get("/search").get_data(as_text=True)
    assert '<div class="field check"><input id="archived"' in page


def test_every_page_starts_with_a_skip_link_to_its_content(app, user):
    for path in ("/", "/search", "/mypage"):
        page = user.get(path).get_data(as_text=True)
        body = page.split("<body", 1)[1]
        assert body.split("\n", 2)[1].strip().startswith('<a class="skip" href="#main">')
        assert '<main id="main" tabindex="-1">' in page
    signed_out = app.test_client().get("/auth/login").get_data(as_text=True)
    assert 'href="#main">Skip to the content</a>' in signed_out


def test_sign_up_shows_the_password_rule_before_and_focuses_the_field_in_error(app, browser):
    page = browser.get("/auth/signup").get_data(as_text=True)
    assert "Password must be 8 to " in page.split('id="password-rule"')[1][:80]
    form = {
        "email": "min@example.com",
        "nickname": "민지",
        "password": "short",
        "password_confirm": "short",
        "timezone": "Asia/Seoul",
    }
    answer = browser.post("/auth/signup", form).get_data(as_text=True)
    focused = re.findall(r"<input[^>]*autofocus[^>]*>", answer)
    assert len(focused) == 1 and 'name="password"' in focused[0], focused


def test_a_failed_sign_in_shows_its_error_before_any_intro(app, browser):
    answer = browser.post("/auth/login", {"email": "nobody@example.com", "password": "wrong pw"})
    page = answer.get_data(as_text=True)
    assert 'class="card narrow intro"' not in page
    assert "<h1>Sign in</h1>" in page
    assert "intro" in browser.get("/auth/login").get_data(as_text=True)  # a first visit has it
