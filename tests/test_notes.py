"""Notes belong to their owner: list, create, view, edit, delete."""

import re

import pytest

from devenv.visitors import Browser


def note_id(response):
    """Return the id of the note a create or edit redirected to."""
    return int(re.fullmatch(r"/notes/(\d+)", response.headers["Location"]).group(1))


def test_anonymous_visitor_keeps_the_query_in_next(client):
    response = client.get("/notes/new?draft=1")
    assert response.headers["Location"].startswith("/auth/login?next=/notes/new")


def test_create_then_view_a_note(user):
    response = user.create_note("Groceries", "milk <b>eggs</b>")
    assert response.status_code == 302
    page = user.get(response.headers["Location"]).get_data(as_text=True)
    assert "Groceries" in page
    assert "milk &lt;b&gt;eggs&lt;/b&gt;" in page


def test_list_shows_newest_first(user):
    for title in ("first", "second", "third"):
        user.create_note(title)
    page = user.get("/").get_data(as_text=True)
    assert page.index("third") < page.index("second") < page.index("first")


def titles_on(page):
    return re.findall(r">(note-\d\d)<", page)


def link(page, text):
    """Return the href of the pager link labelled `text`, or None."""
    match = re.search(r'href="([^"]+)">' + re.escape(text), page)
    return match.group(1).replace("&amp;", "&") if match else None


def test_list_pages_hold_twenty_notes_and_link_to_each_other(app, user, monkeypatch):
    monkeypatch.setitem(app.config, "NOTE_WRITES_PER_MINUTE", 100)  # faster than a person
    for number in range(45):
        user.create_note(f"note-{number:02d}")
    first = user.get("/").get_data(as_text=True)
    assert titles_on(first) == [f"note-{n:02d}" for n in range(44, 24, -1)]
    assert link(first, "&larr; Newer") is None
    second = user.get(link(first, "Older &rarr;")).get_data(as_text=True)
    assert titles_on(second) == [f"note-{n:02d}" for n in range(24, 4, -1)]
    third = user.get(link(second, "Older &rarr;")).get_data(as_text=True)
    assert titles_on(third) == [f"note-{n:02d}" for n in range(4, -1, -1)]
    assert link(third, "Older &rarr;") is None
    back = user.get(link(third, "&larr; Newer")).get_data(as_text=True)
    assert titles_on(back) == titles_on(second)
    oldest = user.get(link(first, "Oldest &raquo;")).get_data(as_text=True)
    assert titles_on(oldest) == [f"note-{n:02d}" for n in range(19, -1, -1)]


def test_page_numbers_from_the_contract_still_work(user):
    for number in range(25):
        user.create_note(f"note-{number:02d}")
    second = user.get("/?page=2").get_data(as_text=True)
    assert titles_on(second) == [f"note-{n:02d}" for n in range(4, -1, -1)]


@pytest.mark.parametrize("query", ["before=garbage", "after=12-x", "before=" + "9" * 50 + "-1"])
def test_a_broken_page_link_is_404(user, query):
    user.create_note()
    assert user.get(f"/?{query}").status_code == 404


@pytest.mark.parametrize("page", ["0", "3", "-1", "abc"])
def test_a_page_that_does_not_exist_is_404(user, page):
    user.create_note()
    assert user.get(f"/?page={page}").status_code == 404


def test_edit_a_note(user):
    location = user.create_note("Draft", "old").headers["Location"]
    response = user.submit(f"{location}/edit", {"title": "Final", "content": "new"})
    assert response.status_code == 302
    assert response.headers["Location"] == location
    page = user.get(location).get_data(as_text=True)
    assert "Final" in page and "new" in page and "Draft" not in page


def test_delete_a_note_moves_it_to_the_trash(user, count_rows):
    location = user.create_note().headers["Location"]
    user.get(location)
    response = user.post(f"{location}/delete")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert "Note moved to the trash" in user.get("/").get_data(as_text=True)
    assert user.get(location).status_code == 404
    assert count_rows("note") == 1  # until the trash is emptied or 30 days pass


def test_delete_by_get_is_not_allowed(user, count_rows):
    location = user.create_note().headers["Location"]
    assert user.get(f"{location}/delete").status_code == 405
    assert count_rows("note") == 1


def test_other_users_note_is_404_for_every_action(user, other_user, count_rows):
    location = user.create_note("Secret", "mine only").headers["Location"]
    assert other_user.get(location).status_code == 404
    assert other_user.get(f"{location}/edit").status_code == 404
    edit = other_user.post(f"{location}/edit", {"title": "pwned", "content": "x"})
    assert edit.status_code == 404
    assert other_user.post(f"{location}/delete").status_code == 404
    assert count_rows("note") == 1
    assert "Secret" in user.get(location).get_data(as_text=True)
    assert "Secret" not in other_user.get("/").get_data(as_text=True)


@pytest.mark.parametrize("path", ["/notes/999", "/notes/0", "/notes/99999999999999999999"])
def test_missing_note_is_404(user, path):
    assert user.get(path).status_code == 404


@pytest.mark.parametrize(
    ("title", "content", "message"),
    [
        ("", "body", "Give the note a title."),
        ("   ", "body", "Give the note a title."),
        ("t" * 201, "body", "Title must be at most 200 characters."),
        ("ok", "c" * 20_001, "Content must be at most 20,000 characters."),
        ("nul\x00byte", "body", "control characters"),
        ("ok", "nul\x00byte", "control characters"),
    ],
    ids=["empty-title", "blank-title", "long-title", "long-content", "nul-title", "nul-content"],
)
def test_invalid_note_is_a_400_and_nothing_is_written(user, title, content, message, count_rows):
    response = user.create_note(title, content)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert count_rows("note") == 0


@pytest.mark.parametrize("text", ["🫨 흔들", "🪿 goose", "\U000e0000"], ids=["u15", "u15b", "cn"])
def test_a_character_newer_than_this_pythons_unicode_is_text(user, text):
    # 🫨 (U+1FAE8) and 🪿 are Unicode 15.0, on phones' keyboards; Python 3.11 knows 14.0 and
    # calls them unassigned: the form said "remove control characters" of an emoji.
    response = user.create_note(text, f"오늘 {text}")
    assert response.status_code == 302
    assert text in user.get(response.headers["Location"]).get_data(as_text=True)


@pytest.mark.parametrize("text", ["a\x01b", "a\ufffeb", "a\U0010ffffb", "a\x9bb"])
def test_what_is_never_text_is_refused_in_a_title(user, text, count_rows):
    response = user.create_note(text, "body")
    assert response.status_code == 400
    assert "control characters" in response.get_data(as_text=True)
    assert count_rows("note") == 0


def test_invalid_edit_leaves_the_note_unchanged(user):
    location = user.create_note("Keep", "me").headers["Location"]
    response = user.submit(f"{location}/edit", {"title": "", "content": "changed"})
    assert response.status_code == 400
    page = user.get(location).get_data(as_text=True)
    assert "Keep" in page and "changed" not in page


def test_limits_are_inclusive(user):
    response = user.create_note("t" * 200, "c" * 20_000)
    assert response.status_code == 302
    assert note_id(response) > 0


def test_notes_survive_sign_out_and_back_in(app, user):
    user.create_note("Persistent")
    user.logout()
    again = Browser(app.test_client())
    again.login()
    assert "Persistent" in again.get("/").get_data(as_text=True)


def test_new_notes_are_open_and_can_be_ticked_off_and_back(user):
    location = user.create_note("Call the bank").headers["Location"]
    page = user.get(location).get_data(as_text=True)
    assert 'aria-pressed="false"' in page
    response = user.post(f"{location}/toggle", {"next": location})
    assert response.status_code == 302
    assert response.headers["Location"] == location
    assert 'aria-pressed="true"' in user.get(location).get_data(as_text=True)
    user.post(f"{location}/toggle")
    assert 'aria-pressed="false"' in user.get(location).get_data(as_text=True)


def test_ticking_from_the_list_returns_to_the_same_page(user):
    for number in range(21):
        user.create_note(f"task-{number}")
    page = user.get("/?page=2").get_data(as_text=True)
    [(_, action, fields, _, _)] = tick_boxes(page)
    response = user.post(action, fields, csrf=False)
    assert response.headers["Location"] == "/?page=2"
    assert 'class="completed"' in user.get("/?page=2").get_data(as_text=True)


LIST_FORM = re.compile(
    r'<form class="ticks" method="post" action="([^"]+)">\s*'
    r'<input type="hidden" name="csrf_token" value="([^"]+)">\s*'
    r'<input type="hidden" name="next" value="([^"]+)">'
)
TICK_BOX = re.compile(
    r'<li id="note-\d+"(?: data-refresh)?( class="completed")?>\s*'
    r'<span><button type="submit" name="toggle" value="(\d+:[01])"'
    r'.*?<a href="([^"]+)">([^<]+)</a>',
    re.DOTALL,
)


def tick_boxes(page):
    """Return each listed note's (done, form action, form fields, link, title), in list order:
    the list's one form, with the pressed button's name and value."""
    action, token, back = LIST_FORM.search(page).groups()
    return [
        (bool(done), action, {"csrf_token": token, "next": back, "toggle": note}, link, title)
        for done, note, link, title in TICK_BOX.findall(page)
    ]


def test_every_tick_box_on_a_list_page_works_as_served_without_javascript(user):
    for number in range(25):
        user.create_note(f"task-{number}")
    boxes = tick_boxes(user.get("/?page=2").get_data(as_text=True))
    assert [title for *_, title in boxes] == [f"task-{number}" for number in range(4, -1, -1)]
    for done, action, fields, link, _ in boxes:
        assert not done and action == "/notes/toggle"
        assert fields["toggle"] == f"{link.rsplit('/', 1)[1]}:1", "the press asks for done"
        # Exactly what a browser sends: the form's own fields, its own CSRF token.
        response = user.post(action, fields, csrf=False)
        assert response.status_code == 302 and response.headers["Location"] == "/?page=2"
    ticked = tick_boxes(user.get("/?page=2").get_data(as_text=True))
    assert [done for done, *_ in ticked] == [True] * 5
    for *_, link, title in ticked:
        note_page = user.get(link).get_data(as_text=True)
        assert '<h1 class="completed">' in note_page and title in note_page


def test_the_lists_one_form_ticks_only_the_users_own_notes(user, other_user):
    location = user.create_note("Ann's").headers["Location"]
    page = other_user.get("/").get_data(as_text=True)  # Bob's list form and token
    for value in (location.rsplit("/", 1)[1], "0", "-1", "1e3", "９", "9" * 25, ""):
        response = other_user.post("/notes/toggle", {"toggle": value, "next": "/"})
        assert response.status_code == 404, value
    assert 'name="toggle"' not in page  # Bob lists none of Ann's notes
    assert "completed" not in user.get(location).get_data(as_text=True).split("<h1", 1)[1][:30]


def test_a_tick_sent_again_after_its_answer_was_lost_changes_nothing_more(user):
    location = user.create_note("Ship it").headers["Location"]
    note_id = location.rsplit("/", 1)[1]
    for _ in range(2):  # the press, then the same press again: its answer never arrived
        assert user.post(f"{location}/toggle", {"completed": "1"}).status_code == 302
        assert user.post("/notes/toggle", {"toggle": f"{note_id}:1"}).status_code == 302
    assert '<h1 class="completed">' in user.get(location).get_data(as_text=True)
    user.post(f"{location}/toggle", {"completed": "0"})
    assert '<h1 class="completed">' not in user.get(location).get_data(as_text=True)


def test_toggle_ignores_an_offsite_next(user):
    location = user.create_note().headers["Location"]
    response = user.post(f"{location}/toggle", {"next": "https://evil.example/"})
    assert response.headers["Location"] == location


def test_other_users_note_cannot_be_ticked(user, other_user):
    location = user.create_note().headers["Location"]
    assert other_user.post(f"{location}/toggle").status_code == 404
    assert 'aria-pressed="false"' in user.get(location).get_data(as_text=True)


def test_toggle_needs_post_and_csrf(user):
    location = user.create_note().headers["Location"]
    assert user.get(f"{location}/toggle").status_code == 405
    assert user.post(f"{location}/toggle", csrf=False).status_code == 400
    assert 'aria-pressed="false"' in user.get(location).get_data(as_text=True)


@pytest.mark.parametrize(
    ("path", "intro"),
    [
        ("/", True),  # Memo's address: the first visit
        ("/auth/login", True),
        ("/notes/new", False),  # on the way to a page of one's own: the form alone
        ("/mypage", False),
    ],
)
def test_a_first_visit_to_memos_address_shows_what_memo_is(client, path, intro):
    response = client.get(path, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert ("<h1>Memo: your notes, only yours</h1>" in page) == intro
    assert ("Create a free account" in page) == intro
    assert 'name="password"' in page  # the form is there either way
