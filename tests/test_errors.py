"""Errors are pages for people and JSON for programs; nothing a client sends is a 500."""

import ast

import pytest
from sqlalchemy import text

from app import create_app
from app.errors import Refused
from app.extensions import db
from devenv import ROOT
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


# Refusals that are not a person's request refused: the fetcher's address policy (its words
# stored in English for a job) and the release phase's check of a rollback.
NOT_REQUEST_REFUSALS = {"AddressRefused", "RollbackRefused"}
APP_ERRORS = ROOT / "app" / "errors.py"


def test_every_refusal_of_app_is_a_thin_subclass_of_the_one_type():
    """Each feature's refusal names it (and its API problem); the status, words, field and
    Retry-After are app.errors.Refused's alone."""
    thick = []
    for path in (ROOT / "app").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.ClassDef):
                continue
            bases = [ast.unparse(base) for base in node.bases]
            named = node.name.endswith("Refused") or any(b.endswith("Refused") for b in bases)
            if not named or node.name in NOT_REQUEST_REFUSALS or path == APP_ERRORS:
                continue
            own = [
                statement.name if isinstance(statement, ast.FunctionDef) else ast.unparse(statement)
                for statement in node.body
                if not isinstance(statement, ast.Expr)  # its docstring
            ]
            if not any(base.endswith("Refused") for base in bases) or any(
                "status" in each or "__init__" in each for each in own
            ):
                thick.append(f"{path.relative_to(ROOT)}: {node.name}({', '.join(bases)}) {own}")
    assert thick == []


@pytest.fixture(scope="module")
def refusing_app(app):
    """The app with one page that refuses: 429, its words, Retry-After."""
    refusing = create_app("config.TestingConfig")

    @refusing.get("/refuse")
    def refuse():
        raise Refused("Too many of these just now.", 429, retry_after=30)

    return refusing


def test_a_refusal_no_view_shows_is_the_error_page_with_its_status_words_and_retry_after(
    refusing_app,
):
    response = refusing_app.test_client().get("/refuse")
    assert response.status_code == 429 and response.headers["Retry-After"] == "30"
    assert "Too many of these just now." in response.get_data(as_text=True)
    response = refusing_app.test_client().get("/refuse", headers={"Accept": "application/json"})
    assert response.json == {"error": "Too many of these just now.", "status": 429}


def test_a_refusal_naming_its_field_is_422_and_one_naming_none_400():
    assert Refused("x", field="title").status == 422
    assert Refused("x").status == 400
    assert Refused("x", 409).status == 409
