"""Errors are pages for people and JSON for programs; nothing a client sends is a 500."""

import pytest
from sqlalchemy import text

from app import create_app
from app.extensions import db
from devenv.liveserver import free_port
from devenv.visitors import Browser


def test_unknown_route_is_a_404_page(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "404" in response.get_data(as_text=True)


def test_unknown_route_is_json_when_asked(client):
    response = client.get("/no/such/page", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert response.json["status"] == 404
    assert response.json["error"]


def test_wrong_method_is_405(client):
    assert client.delete("/healthz").status_code == 405


def test_missing_csrf_is_json_for_json_clients(user):
    response = user.post(
        "/notes/new", {"title": "x"}, csrf=False, headers={"Accept": "application/json"}
    )
    assert response.status_code == 400
    assert "CSRF token is missing" in response.json["error"]


def test_oversized_request_is_413(user):
    response = user.post("/notes/new", {"title": "x", "content": "c" * (11 * 1024 * 1024)})
    assert response.status_code == 413


@pytest.fixture
def app_without_database(app):
    """The app pointed at a port where no database listens (a server down or restarting)."""
    lost = create_app(
        "config.TestingConfig",
        {"SQLALCHEMY_DATABASE_URI": f"postgresql+psycopg2://memo@127.0.0.1:{free_port()}/memo"},
    )
    yield lost
    with lost.app_context():
        db.engine.dispose()


def signed_in_client(application):
    """A client whose cookie names a login session, which only the database can look up."""
    client = application.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = "a-login-session-token"
    return client


def test_a_lost_database_is_a_503_page_shown_as_signed_out(app_without_database):
    response = signed_in_client(app_without_database).get("/")
    assert response.status_code == 503
    page = response.get_data(as_text=True)
    assert "its database is not answering" in page
    assert "Sign in" in page and "Sign out" not in page


def test_a_lost_database_is_a_503_json_for_json_clients(app_without_database):
    client = signed_in_client(app_without_database)
    response = client.get("/", headers={"Accept": "application/json"})
    assert response.status_code == 503
    assert response.json["status"] == 503
    assert "database is not answering" in response.json["error"]


@pytest.fixture
def app_losing_its_database(app, postgres):
    """The app, but the database connection of each request dies once the view has answered."""
    losing = create_app("config.TestingConfig")

    @losing.after_request
    def database_goes_away(response):
        backend = db.session.execute(text("SELECT pg_backend_pid()")).scalar()
        postgres.execute(f"SELECT pg_terminate_backend({backend})")
        return response

    yield losing
    with losing.app_context():
        db.engine.dispose()


def test_a_database_lost_after_the_page_is_made_still_serves_the_page(app_losing_its_database):
    browser = Browser(app_losing_its_database.test_client())
    assert browser.signup().status_code == 302
    response = browser.get("/")
    assert response.status_code == 200
    assert "Your notes" in response.get_data(as_text=True)
    assert browser.create_note("Still saved").status_code == 302
    with app_losing_its_database.app_context():
        assert db.engine.pool.checkedout() == 0  # every lost connection went back to the pool
