"""What the front knows of the app (config.Config's FRONT_* settings) names routes that exist."""

from urllib.parse import urlsplit

import pytest

import config

PATHS = {
    "FRONT_UPLOAD_PATHS": ("POST", config.Config.FRONT_UPLOAD_PATHS),
    "FRONT_SESSION_PROBE": ("GET", (config.Config.FRONT_SESSION_PROBE,)),
    "FRONT_SIGN_IN_URL": ("GET", (config.Config.FRONT_SIGN_IN_URL,)),
    "FRONT_HOME_URL": ("GET", (config.Config.FRONT_HOME_URL,)),
    "FRONT_TOO_LARGE_PAGES": ("POST", tuple(config.Config.FRONT_TOO_LARGE_PAGES)),
    "FRONT_TOO_LARGE_PAGES values": ("GET", tuple(config.Config.FRONT_TOO_LARGE_PAGES.values())),
}


@pytest.mark.parametrize("setting", sorted(PATHS))
def test_each_path_the_front_needs_is_a_route_of_the_app(app, setting):
    method, paths = PATHS[setting]
    routes = app.url_map.bind("localhost")
    for path in paths:
        endpoint, _ = routes.match(urlsplit(path).path, method=method)
        assert endpoint in app.view_functions


def test_the_session_probe_names_the_account_for_the_fronts_upload_slots(app, user):
    signed_in = user.get(config.Config.FRONT_SESSION_PROBE)
    stranger = app.test_client().get(config.Config.FRONT_SESSION_PROBE)
    assert signed_in.status_code == 204 and signed_in.headers["X-Memo-Account"].isdigit()
    assert stranger.status_code == 401 and "X-Memo-Account" not in stranger.headers
