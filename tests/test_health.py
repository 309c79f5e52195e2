"""/healthz answers without the database; /readyz checks the database and the schema."""

from flask_migrate import upgrade

from app import create_app, migrating
from config import database_uri
from tests.databases import UNREACHABLE


def test_healthz_is_ok_without_touching_the_database(app):
    broken = create_app("config.TestingConfig", UNREACHABLE)
    response = broken.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}


def test_readyz_is_ready_when_the_schema_is_at_head(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json["status"] == "ready"


def test_readyz_is_503_when_the_database_is_unreachable(app):
    broken = create_app("config.TestingConfig", UNREACHABLE)
    response = broken.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["status"] == "unavailable"
    assert response.json["reason"] == "database"


def test_readyz_is_503_until_migrations_run(app, postgres):
    url = postgres.create_scratch_database()
    fresh = create_app("config.TestingConfig", {"SQLALCHEMY_DATABASE_URI": database_uri(url)})
    migrating.init_app(fresh)
    client = fresh.test_client()
    before = client.get("/readyz")
    assert before.status_code == 503
    with fresh.app_context():
        upgrade()
    after = client.get("/readyz")
    assert after.status_code == 200
    with fresh.app_context():
        from app.extensions import db

        db.engine.dispose()
