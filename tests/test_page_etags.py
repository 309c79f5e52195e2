"""The notes list and a note's page answer If-None-Match with 304 while nothing they show has
changed (app/revalidation.py): private to one sign-in, never with a message shown once, and
the tag moves with every change a reader could see."""

import re
import time
from datetime import timedelta

import pytest
from sqlalchemy import update

from app import revalidation
from app.extensions import db
from app.models import Reminder, utcnow
from devenv.uploads import Attacher
from tests.attaching import PDF
from tests.noting import edit_form, make_link, note_id_of, save, second_session
from tests.pushes import PushBrowser, vapid_settings

PUSH_ENDPOINT = "https://push.example.com/send/4f1d0c"
ZONES = ("America/New_York", "Asia/Seoul", "Europe/Paris")
CSRF_FIELD = re.compile(r'(name="csrf_token" value=|data-csrf=)"[^"]*"')
# What the upload form signs anew on every render, each as valid as the last: its policy,
# signature and date, the key's token (derived from the ten minutes it falls in), and the
# signed ticket in the address the store sends the browser back to (its expiry).
SIGNED_FIELDS = re.compile(
    r'name="(policy|x-amz-[\w-]+|key|success_action_redirect)" value="[^"]*"', re.I
)


def read_messages(user):
    """Open a page that shows the messages waiting (the tags page), as a person reads them."""
    assert user.get("/tags").status_code == 200


def visit(user, path, tag=None, **headers):
    """GET `path` as a browser with a copy tagged `tag` does."""
    sent = {"If-None-Match": tag} if tag else {}
    return user.get(path, headers={**sent, **headers})


def same_page(html):
    """Return a page without what each render signs anew (CSRF tokens, the upload's policy)."""
    return SIGNED_FIELDS.sub(r'name="\1" value=""', CSRF_FIELD.sub(r'\1""', html))


def runs_scripts(browser):
    """Give the browser the cookie Memo's scripts set (app/static/pocket.js)."""
    browser.client.set_cookie(revalidation.SCRIPTS_COOKIE, "1")
    return browser


@pytest.fixture
def ann_note(user):
    """ann, signed in in a browser that runs Memo's scripts, with a note of her own
    (returned: its id), her messages read."""
    runs_scripts(user)
    note = note_id_of(user.create_note("Plans", "- [ ] milk"))
    read_messages(user)
    return note


@pytest.mark.parametrize("page", ["/", "note"])
def test_a_second_visit_with_the_tag_is_a_304_without_a_body(user, ann_note, page):
    path = f"/notes/{ann_note}" if page == "note" else page
    first = visit(user, path)
    tag = first.headers["ETag"]
    assert first.status_code == 200 and tag.startswith('W/"')
    assert first.headers["Cache-Control"] == "private, no-cache"
    assert "Cookie" in first.headers["Vary"]
    again = visit(user, path, tag)
    assert again.status_code == 304 and again.get_data() == b""
    assert again.headers["ETag"] == tag
    assert again.headers["Cache-Control"] == "private, no-cache"
    # It stands for the page the browser has: the service worker reads the same marks.
    for mark in ("Memo-Offline-Account", "Memo-Offline-Keep"):
        assert again.headers[mark] == first.headers[mark]


def test_an_edit_a_pin_the_language_and_the_zone_each_give_the_page_again(user, ann_note):
    other = note_id_of(user.create_note("Other", "words"))
    read_messages(user)
    paths = ("/", f"/notes/{ann_note}", f"/notes/{other}")
    for path, language, zone in zip(paths, ("ko", "en", "ko"), ZONES, strict=True):
        version = edit_form(user, ann_note)
        edit = {"title": "Plans", "content": f"- [x] milk {zone}", "version": version}
        changes = [
            (f"/notes/{ann_note}/edit", edit),
            (f"/notes/{other}/{'pin' if language == 'ko' else 'unpin'}", {}),
            ("/language", {"language": language, "next": "/"}),
            ("/mypage/settings", {"language": language, "timezone": zone}),
        ]
        tag = visit(user, path).headers["ETag"]
        for target, form in changes:
            assert user.post(target, form).status_code == 302
            read_messages(user)
            answer = visit(user, path, tag)
            assert answer.status_code == 200, (path, target)
            assert answer.headers["ETag"] != tag
            tag = answer.headers["ETag"]
            assert visit(user, path, tag).status_code == 304


@pytest.mark.parametrize("page", ["/", "note"])
def test_a_browser_without_memos_scripts_gets_no_store_pages_and_never_a_304(user, ann_note, page):
    path = f"/notes/{ann_note}" if page == "note" else page
    tag = visit(user, path).headers["ETag"]
    user.client.delete_cookie(revalidation.SCRIPTS_COOKIE)
    # Nothing would ask again for a page its back-forward cache gave back after a sign-out.
    answer = visit(user, path, tag)
    assert answer.status_code == 200 and "ETag" not in answer.headers
    assert answer.headers["Cache-Control"] == "no-store"


def test_a_page_with_a_message_waiting_is_never_a_304_nor_tagged(user, ann_note):
    tag = visit(user, "/").headers["ETag"]
    # Pinning it twice: the second changes nothing but says so.
    assert user.post(f"/notes/{ann_note}/pin").status_code == 302
    read_messages(user)
    tag = visit(user, "/").headers["ETag"]
    assert user.post(f"/notes/{ann_note}/pin").status_code == 302
    shown = visit(user, "/", tag)
    assert shown.status_code == 200 and "Pinned: this note comes first" in shown.get_data(
        as_text=True
    )
    assert "ETag" not in shown.headers and shown.headers["Cache-Control"] == "no-store"
    # The message read, the browser's copy (without it) is the page again.
    assert visit(user, "/", tag).status_code == 304


def test_another_sign_in_another_account_or_another_query_never_gets_a_304(
    app, user, ann_note, other_user
):
    tag = visit(user, "/").headers["ETag"]
    assert visit(runs_scripts(other_user), "/", tag).status_code == 200
    assert visit(runs_scripts(second_session(app)), "/", tag).status_code == 200
    assert visit(user, "/?sort=created", tag).status_code == 200
    assert visit(user, "/", tag).status_code == 304
    user.logout()
    assert user.login().status_code == 302
    assert visit(user, "/", tag).status_code == 200  # a new sign-in: a new CSRF secret


def test_a_page_shown_again_by_a_304_still_sends_its_forms(user, ann_note):
    first = visit(user, f"/notes/{ann_note}")
    token = re.search(r'name="csrf_token" value="([^"]+)"', first.text)[1]
    time.sleep(1.1)  # a token made now would carry another time
    assert visit(user, f"/notes/{ann_note}", first.headers["ETag"]).status_code == 304
    pinned = user.post(f"/notes/{ann_note}/pin", {"csrf_token": token}, csrf=False)
    assert pinned.status_code == 302


def test_attachments_links_and_reminders_each_give_the_note_page_again(app, user, ann_note):
    steps = {
        "a file attached": lambda: Attacher(user).attach(ann_note, PDF, "plan.pdf"),
        "a link made": lambda: make_link(user, ann_note),
        "a reminder set": lambda: user.post(
            f"/notes/{ann_note}/reminder", {"when": "morning", "repeat": "none"}
        ),
        "the file deleted": lambda: user.post(
            f"/attachments/{attachment_id(user, ann_note)}/delete"
        ),
        "the link stopped": lambda: user.post(f"/shares/{link_id(user, ann_note)}/revoke"),
    }
    path = f"/notes/{ann_note}"
    tag = visit(user, path).headers["ETag"]
    for name, step in steps.items():
        step()
        read_messages(user)
        answer = visit(user, path, tag)
        assert answer.status_code == 200, name
        tag = answer.headers["ETag"]
        assert visit(user, path, tag).status_code == 304, name


def attachment_id(user, note):
    return re.search(r'action="/attachments/(\d+)/delete"', visit(user, f"/notes/{note}").text)[1]


def link_id(user, note):
    return re.search(r'action="/shares/(\d+)/revoke"', visit(user, f"/notes/{note}").text)[1]


def test_a_link_just_made_is_shown_once_by_a_page_without_a_tag(user, ann_note):
    assert user.post(f"/notes/{ann_note}/share", {"expires_days": "7"}).status_code == 302
    shown = visit(user, f"/notes/{ann_note}")
    assert 'id="share-link"' in shown.text and "ETag" not in shown.headers
    assert shown.headers["Cache-Control"] == "no-store"
    after = visit(user, f"/notes/{ann_note}")
    assert 'id="share-link"' not in after.text and "ETag" in after.headers


def test_a_list_showing_a_reminder_is_fresh_only_until_it_fires(app, user, ann_note):
    set_reminder = user.post(f"/notes/{ann_note}/reminder", {"when": "morning", "repeat": "none"})
    assert set_reminder.status_code == 302
    read_messages(user)
    soon = utcnow() + timedelta(seconds=2)
    with app.app_context():  # as the sweeper will find it: due in two seconds
        db.session.execute(update(Reminder).values(due_at=soon))
        db.session.commit()
    tag = visit(user, "/").headers["ETag"]
    assert tag.endswith(f'.{int(soon.timestamp())}"')  # its deadline, under its HMAC
    assert visit(user, "/", tag).status_code == 304
    time.sleep(max(0.0, soon.timestamp() - time.time()) + 0.1)
    # The sweeper moves a fired reminder without a change number: the time alone decides.
    assert visit(user, "/", tag).status_code == 200


def test_the_note_page_is_fresh_for_a_quarter_of_its_upload_forms_life(app, user, ann_note):
    tag = visit(user, f"/notes/{ann_note}").headers["ETag"]
    deadline = int(re.fullmatch(r'W/"[\w-]+\.(\d+)"', tag)[1])
    quarter = app.config["ATTACHMENT_UPLOAD_MINUTES"] * 60 / 4
    assert time.time() < deadline <= time.time() + quarter


def test_a_forged_or_endless_if_none_match_is_compared_a_few_times_and_answered(
    user, ann_note, monkeypatch
):
    tag = visit(user, "/").headers["ETag"]
    value = tag.removeprefix('W/"').removesuffix('"')
    compared = []
    real = revalidation.page_tag
    monkeypatch.setattr(
        revalidation, "page_tag", lambda *args: compared.append(args) or real(*args)
    )
    many = ", ".join(f'W/"{number:022d}"' for number in range(2000))
    for header in (
        f"{many}, {tag}",
        f'W/"{value}.99999999999999999999"',  # a deadline past the year 33,658
        f'W/"{value}.1"',  # a deadline long past, its HMAC forged
        f'W/"{value}.x"',
        "*",
        '"' + "a" * 5000 + '"',
    ):
        compared.clear()
        answer = visit(user, "/", header)
        assert answer.status_code in (200, 304), header[:40]
        assert len(compared) <= revalidation.TAGS_COMPARED + 1  # and the new page's own
    assert visit(user, "/", f'W/"{value}.1"').status_code == 200


def test_a_304_is_answered_only_while_the_page_is_the_same(app, user, ann_note):
    """Whatever happens between two visits, a 304 never stands for a page that changed."""
    copies = {}
    attacher = Attacher(user)
    other = note_id_of(user.create_note("Other", "#work words"))
    steps = [
        lambda: None,
        lambda: save(user, other, "#work other words", title="Other"),
        lambda: user.post(f"/notes/{ann_note}/toggle"),
        lambda: user.post(f"/notes/{other}/archive"),
        lambda: user.post(f"/notes/{other}/unarchive"),
        lambda: attacher.attach(ann_note, PDF, "plan.pdf"),
        lambda: make_link(user, ann_note),
        lambda: user.post(f"/notes/{ann_note}/reminder", {"when": "morning", "repeat": "daily"}),
        lambda: user.post("/mypage/nickname", {"nickname": "annie"}),
        lambda: user.post(f"/notes/{other}/delete"),
        lambda: None,
    ]
    reused = 0
    for step in steps:
        step()
        read_messages(user)
        for path in ("/", f"/notes/{ann_note}", "/?tag=work", "/?sort=created"):
            tag, page = copies.get(path, (None, None))
            if tag is not None and visit(user, path, tag).status_code == 304:
                reused += 1
                assert same_page(visit(user, path).text) == page, path
            answer = visit(user, path)
            assert answer.status_code == 200
            copies[path] = answer.headers["ETag"], same_page(answer.text)
    assert reused >= 8  # the steps that change nothing a page shows: "None" twice, and more


def test_a_browser_subscribed_to_pushes_gives_the_note_page_again(app, user, ann_note, monkeypatch):
    monkeypatch.setitem(app.config, "VAPID", vapid_settings()[0])  # Web Push set up
    path = f"/notes/{ann_note}"
    tag = visit(user, path).headers["ETag"]
    subscribed = user.post("/reminders/push", PushBrowser().subscription(PUSH_ENDPOINT))
    assert subscribed.status_code == 201, subscribed.get_data(as_text=True)
    answer = visit(user, path, tag)
    assert answer.status_code == 200 and "a notification on 1 device of yours" in answer.text
