"""Two app instances on different ports share one PostgreSQL and one object store, nothing else.

This is `heroku ps:scale web=2`: the router may send each request of one browser to either
instance, so a session, a CSRF token, a note or a photo made through one must work on the other.
Each test runs with the database direct, and through PgBouncer in transaction mode with two
server connections for everyone (DATABASE_CONNECTION_POOL_URL): nothing a request or a job
does may rely on its server connection keeping state. The whole formation under load is
tests/test_formation.py.
"""

import io
import re
import urllib.request

import pytest
from PIL import Image

from devenv import pictures
from devenv.visitors import Visitor
from tests.workers import wait_for

PROFILE_IMAGE = re.compile(r'<img id="profile-image" src="([^"]+)"')


@pytest.fixture(params=["direct", "pgbouncer"])
def connection_settings(request):
    """Return the variables that send web and worker connections direct, or through PgBouncer."""
    if request.param == "direct":
        return {}
    bouncer = request.getfixturevalue("pgbouncer")(pool_size=2)
    return {"DATABASE_CONNECTION_POOL_URL": bouncer.url()}


def test_a_session_notes_and_a_photo_made_on_one_instance_work_on_the_other(
    live_server, workers, object_store, connection_settings
):
    first, second = live_server(**connection_settings), live_server(**connection_settings)
    ann = Visitor(first.url)
    assert ann.signup("ann@example.com", "ann").status == 302
    # One browser, one cookie jar: the same cookies now reach the other instance.
    ann_on_second = Visitor(second.url, cookies=ann.cookies)

    _, note_id = ann.create_note("Written on the first", "through port one")
    listed = ann_on_second.get("/")
    assert listed.status == 200
    assert "Written on the first" in listed.text and '<span class="who">ann</span>' in listed.text
    assert ann_on_second.get(f"/notes/{note_id}").status == 200

    ann_on_second.get("/mypage")
    ann.token = ann_on_second.token  # a form from the second instance, posted to the first
    response, second_note = ann.create_note("Token from the second", "")
    assert response.status == 302 and second_note
    assert "Token from the second" in ann_on_second.get("/").text

    assert ann_on_second.upload_photo(pictures.jpeg((800, 400))).status == 302
    workers.start(**connection_settings)  # makes the photo from the upload
    wait_for(lambda: "/avatars/" in ann_on_second.get("/mypage").text, message="the photo")
    [url_on_second] = PROFILE_IMAGE.findall(ann_on_second.get("/mypage").text)
    [url_on_first] = PROFILE_IMAGE.findall(ann.get("/mypage").text)
    assert url_on_first == url_on_second
    assert url_on_first.startswith(f"{object_store.public_url}/avatars/")
    with urllib.request.urlopen(url_on_first, timeout=5) as image:
        assert image.headers["Content-Type"] == "image/webp"
        assert Image.open(io.BytesIO(image.read())).size == (512, 256)


def test_signing_out_on_one_instance_ends_the_session_on_the_other(
    live_server, connection_settings
):
    first, second = live_server(**connection_settings), live_server(**connection_settings)
    ann = Visitor(first.url)
    assert ann.signup("ann@example.com", "ann").status == 302
    replayed = Visitor(second.url, cookies=dict(ann.cookies))  # a copy of the signed-in cookies
    assert replayed.get("/").status == 200

    assert ann.post("/auth/logout").location == "/auth/login"

    refused = replayed.get("/")
    assert (refused.status, refused.location) == (302, "/auth/login")
