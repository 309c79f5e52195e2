"""Notes as a user reaches them in the suite: a note's id, its page, its edit form and saves.

Shared by the notes, history, tags, share-link and task-list tests.
"""

import re
from html import unescape

from devenv.visitors import PASSWORD, Browser

NOTE_LINK = re.compile(r'<a href="/notes/(\d+)">([^<]+)</a>')
SHARE_LINK = re.compile(r'id="share-link" type="text" readonly value="([^"]+)"')


def page(response):
    """Return a response's HTML with its entities read."""
    return unescape(response.get_data(as_text=True))


def note_id_of(response):
    """Return the id of the note a create or edit redirected to."""
    return int(response.headers["Location"].rsplit("/", 1)[1])


def listed(browser, path="/"):
    """Return the titles a list page shows, in order."""
    return [unescape(title) for _, title in NOTE_LINK.findall(browser.get(path).get_data(True))]


def content_of(user, note):
    """Return a note's content, as its edit form holds it."""
    html = user.get(f"/notes/{note}/edit").get_data(as_text=True)
    return unescape(re.search(r"<textarea[^>]*>\r?\n?(.*?)</textarea>", html, re.S).group(1))


def make_link(user, note, days="7"):
    """Make a share link to `note`; return the path of its URL (from the note page, once)."""
    made = user.post(f"/notes/{note}/share", {"expires_days": days})
    assert made.status_code == 302 and made.headers["Location"] == f"/notes/{note}"
    url = SHARE_LINK.search(user.get(f"/notes/{note}").get_data(as_text=True))[1]
    assert SHARE_LINK.search(user.get(f"/notes/{note}").get_data(as_text=True)) is None  # once
    return url


def second_session(app):
    """ann signed in a second time, as from another tab's device."""
    other = Browser(app.test_client())
    assert other.login("ann@example.com", PASSWORD).status_code == 302
    return other


def edit_form(browser, note_id):
    """Open the edit form; return its hidden version."""
    html = page(browser.get(f"/notes/{note_id}/edit"))
    return re.search(r'name="version" type="hidden" value="(\d+)"', html).group(1)


def save(user, note_id, content, title="Plan"):
    """Save a note from its edit form, as its owner would; return the 302."""
    version = edit_form(user, note_id)
    answer = user.post(
        f"/notes/{note_id}/edit", {"title": title, "content": content, "version": version}
    )
    assert answer.status_code == 302
    return answer


def conflicted(app, user):
    """Two saves from one version: return the note id, the refused session and its form."""
    note_id = note_id_of(user.create_note("Plan", "first text"))
    phone = second_session(app)
    laptop_version, phone_version = edit_form(user, note_id), edit_form(phone, note_id)
    phone.post(
        f"/notes/{note_id}/edit",
        {"title": "Plan", "content": "phone's text", "version": phone_version},
    )
    mine = {"title": "Plan", "content": "laptop's text", "version": laptop_version}
    refused = user.post(f"/notes/{note_id}/edit", mine)
    current = re.search(r'name="version" value="(\d+)"', page(refused)).group(1)
    base = re.search(r'name="base" value="(\d+)"', page(refused)).group(1)
    return note_id, {**mine, "version": current, "base": base}
