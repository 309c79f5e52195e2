"""Every route, tried by an anonymous client, by another user, and without CSRF: never the data.

The matrix (tests/routematrix.py) must name every route of the app (the first test compares it with
app.url_map), so a new route cannot be added without saying who may use it.
"""

import pytest

from devenv.visitors import Browser
from tests.routechecks import send, snapshot
from tests.routematrix import (
    CASES,
    IDS,
    LINK,
    MATRIX,
    OWNER,
    POSTS,
    PUBLIC,
    SHARED,
    SIGNED_IN,
    TOKEN,
)


def test_the_matrix_names_every_route_and_method(app):
    routes = {
        (rule.rule, method)
        for rule in app.url_map.iter_rules()
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert sorted(routes - set(CASES)) == [], "routes missing from MATRIX: say who may use them"
    assert sorted(set(CASES) - routes) == [], "MATRIX names routes the app does not have"


@pytest.mark.parametrize(("rule", "method"), CASES, ids=IDS)
def test_anonymous_clients_are_sent_to_sign_in_or_see_public_pages(
    app, world, object_store, rule, method
):
    anonymous = Browser(app.test_client())
    anonymous.get("/auth/login")  # a CSRF token, so that only being signed out is in the way
    before = snapshot(app, object_store)
    route = MATRIX[rule]
    if route.access == PUBLIC:
        # An empty form: a public form must answer with its field errors.
        response = send(anonymous, method, world.url(rule), {})
        expected = route.anonymous_status or (200 if method == "GET" else 400)
        assert response.status_code == expected
    elif route.access == LINK:
        response = send(anonymous, method, world.url(rule), world.form(rule, method))
        assert response.status_code == 400
    elif route.access == SHARED:
        response = send(anonymous, method, world.url(rule), world.form(rule, method))
        assert response.status_code == 404
    elif route.access == TOKEN:
        response = send(anonymous, method, world.url(rule), world.form(rule, method))
        assert response.status_code == 401
    else:
        response = send(anonymous, method, world.url(rule), world.form(rule, method))
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/auth/login?next=")
    body = response.get_data(as_text=True)
    assert not [secret for secret in world.secrets if secret in body]
    assert snapshot(app, object_store) == before


@pytest.mark.parametrize(("rule", "method"), SIGNED_IN, ids=[f"{m} {r}" for r, m in SIGNED_IN])
def test_another_user_never_gets_or_changes_anns_data(app, world, object_store, rule, method):
    before = snapshot(app, object_store, "ann@example.com")
    route = MATRIX[rule]
    response = send(world.bob, method, world.url(rule), world.form(rule, method))
    if route.access == OWNER:
        assert response.status_code == 404
    elif route.access == TOKEN:  # a signed-in browser's cookie never opens the API
        assert response.status_code == 401
    else:
        # Acting on Bob's own account (404: he has no export of his own to download; 409: his
        # address is unconfirmed, so he may add no passkey).
        assert response.status_code in (200, 302, 400, 404, 409)
    assert "exports/" not in response.headers.get("Location", "")  # never Ann's archive
    body = response.get_data(as_text=True)
    assert not [secret for secret in world.secrets if secret in body]
    assert snapshot(app, object_store, "ann@example.com") == before
    assert world.ann.get(world.url("/notes/<id:note_id>")).status_code == 200


@pytest.mark.parametrize(("rule", "method"), POSTS, ids=[f"{m} {r}" for r, m in POSTS])
def test_a_post_without_csrf_token_is_400_and_changes_nothing(
    app, world, object_store, rule, method
):
    route = MATRIX[rule]
    if route.access in (PUBLIC, LINK, SHARED):
        world.ann.logout()
    before = snapshot(app, object_store)
    response = send(world.ann, method, world.url(rule), world.form(rule, method), csrf=False)
    if route.access == TOKEN:  # exempt from CSRF: no cookie authenticates it
        assert response.status_code == 401
    elif route.writes_nothing:  # another app's POST, which carries no token: it writes nothing
        assert response.status_code == 303
    else:
        assert response.status_code == 400
        assert "The CSRF token is missing." in response.get_data(as_text=True)
    assert snapshot(app, object_store) == before
