"""Fixtures: a real PostgreSQL, a real S3 server, the app, and a browser-like client.

The schema always comes from the migrations. With TEST_DATABASE_URL set, the suite
uses (and wipes) that database and creates scratch databases beside it; otherwise
it starts an embedded PostgreSQL in a temporary folder.
"""

import io
import os
import re
import shutil
import tempfile
import uuid
from pathlib import Path

import psycopg2
import pytest
from flask_migrate import downgrade, upgrade
from psycopg2 import sql
from sqlalchemy import text
from sqlalchemy.engine import make_url

from app import create_app
from app.extensions import db
from config import database_uri
from devenv.services import ObjectStore, ensure_database, start_postgres
from tests.liveserver import LiveServer

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct horse battery"
CSRF_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def head_revision():
    """Return this code's migration head, read from the revision files."""
    revisions, parents = set(), set()
    for path in (ROOT / "migrations" / "versions").glob("*.py"):
        namespace = {}
        for line in path.read_text().splitlines():
            if line.startswith(("revision =", "down_revision =")):
                exec(line, namespace)  # noqa: S102  (two assignments of string literals)
        revisions.add(namespace["revision"])
        parents.add(namespace["down_revision"])
    (head,) = revisions - parents
    return head


HEAD = head_revision()  # this code's newest revision


class Postgres:
    """The server the suite runs against, able to make scratch databases."""

    def __init__(self, main_url):
        self.main_url = main_url
        self.scratch = []

    def connect(self, url=None):
        connection = psycopg2.connect(url or self.main_url)
        connection.autocommit = True
        return connection

    def url_for(self, name):
        """Return the URL of database `name` on the same server."""
        return make_url(self.main_url).set(database=name).render_as_string(hide_password=False)

    def execute(self, *statements):
        """Run statements on the main database outside any transaction."""
        connection = self.connect()
        try:
            with connection.cursor() as cursor:
                for statement in statements:
                    cursor.execute(statement)
        finally:
            connection.close()

    def create_scratch_database(self):
        """Create an empty database for one test and return its URL."""
        name = f"memo_scratch_{uuid.uuid4().hex[:12]}"
        self.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        self.scratch.append(name)
        return self.url_for(name)

    def drop_scratch_databases(self):
        drop = "DROP DATABASE IF EXISTS {} WITH (FORCE)"
        self.execute(*(sql.SQL(drop).format(sql.Identifier(name)) for name in self.scratch))
        self.scratch.clear()


@pytest.fixture(scope="session")
def postgres():
    """A real PostgreSQL with an empty `main` database for the suite."""
    given = os.environ.get("TEST_DATABASE_URL", "").strip()
    if given:
        server = Postgres(given)
        server.execute("DROP SCHEMA public CASCADE", "CREATE SCHEMA public")
        yield server
        server.drop_scratch_databases()
        return
    folder = Path(tempfile.mkdtemp(prefix="memo-test-"))
    embedded = start_postgres(folder / "postgres", cleanup_mode="delete")
    ensure_database(embedded.get_uri(), "memo_test", recreate=True)
    os.environ["TEST_DATABASE_URL"] = embedded.get_uri("memo_test")
    yield Postgres(embedded.get_uri("memo_test"))
    embedded.cleanup()


@pytest.fixture(scope="session")
def object_store():
    """A real S3 server (moto over HTTP) with a public-read bucket, named in the environment."""
    store = ObjectStore("memo-test").start()
    before = {name: os.environ.get(name) for name in store.environment()}
    os.environ.update(store.environment())
    yield store
    store.stop()
    for name, value in before.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture(scope="session")
def app(postgres, object_store):
    """The app under TestingConfig, its database migrated to head, its photos in object_store."""
    os.environ["TEST_DATABASE_URL"] = postgres.main_url
    application = create_app("config.TestingConfig")
    with application.app_context():
        upgrade()
    yield application
    with application.app_context():
        db.engine.dispose()
    postgres.drop_scratch_databases()


@pytest.fixture(autouse=True)
def clean_database(request):
    """Empty every table after each test that used the app, so tests are independent."""
    yield
    if "app" not in request.fixturenames:
        return
    application = request.getfixturevalue("app")
    with application.app_context():
        db.session.remove()
        tables = ", ".join(f'"{table.name}"' for table in db.metadata.sorted_tables)
        with db.engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture(autouse=True)
def empty_bucket(request):
    """Delete every object after each test that used the object store."""
    yield
    if "object_store" not in request.fixturenames:
        return
    store = request.getfixturevalue("object_store")
    client = store.client()
    for key in stored_keys(store):
        client.delete_object(Bucket=store.bucket, Key=key)


def stored_keys(store, prefix=""):
    """Return the keys of the objects in a store's bucket."""
    listing = store.client().list_objects_v2(Bucket=store.bucket, Prefix=prefix)
    return {item["Key"] for item in listing.get("Contents", [])}


class Browser:
    """A test client that sends the CSRF token a real browser would have from the page."""

    def __init__(self, client):
        self.client = client
        self.token = None

    def remember_token(self, response):
        match = CSRF_TOKEN.search(response.get_data(as_text=True))
        if match:
            self.token = match.group(1)
        return response

    def get(self, url, **kwargs):
        return self.remember_token(self.client.get(url, **kwargs))

    def post(self, url, data=None, csrf=True, **kwargs):
        """POST `data` with the page's CSRF token (fetched from a form page if none yet)."""
        data = dict(data or {})
        if csrf:
            if self.token is None:
                self.get("/auth/login")
            data.setdefault("csrf_token", self.token)
        return self.remember_token(self.client.post(url, data=data, **kwargs))

    def submit(self, url, data, **kwargs):
        """Open the form at `url` and submit it, as a person would."""
        self.get(url)
        return self.post(url, data, **kwargs)

    def signup(self, email="ann@example.com", nickname="ann", password=PASSWORD):
        """Sign up, then sign in as the signup page says to; return the last answer."""
        form = {"email": email, "nickname": nickname, "password": password}
        response = self.submit("/auth/signup", {**form, "password_confirm": password})
        if response.status_code != 302:
            return response
        return self.login(email, password)

    def login(self, email="ann@example.com", password=PASSWORD, **extra):
        return self.signed_in(
            self.submit("/auth/login", {"email": email, "password": password, **extra})
        )

    def signed_in(self, response):
        """Follow a sign-in's redirect as a browser does: the new session's page has its token."""
        if response.status_code == 302:
            self.token = None  # of the session that signing in replaced
            self.get(response.headers["Location"])
        return response

    def logout(self):
        response = self.post("/auth/logout")
        self.token = None
        return response

    def change_password(self, current, new, confirm=None):
        """Submit my page's password form."""
        return self.post(
            "/mypage/password",
            {
                "current_password": current,
                "new_password": new,
                "new_password_confirm": new if confirm is None else confirm,
            },
        )

    def create_note(self, title="Groceries", content="milk, eggs"):
        return self.submit("/notes/new", {"title": title, "content": content})

    def upload_photo(self, data, filename="photo.jpg", content_type="image/jpeg"):
        """Choose `data` as the file in my page's photo form and submit it."""
        self.get("/mypage")
        photo = (io.BytesIO(data), filename, content_type)
        return self.post("/mypage/photo", {"photo": photo})


# The router speaks plain HTTP to the dyno. (Flask's test client would otherwise follow
# PREFERRED_URL_SCHEME, https in production, and skip the proxy headers' work.)
DYNO = "http://localhost"


class RouterBrowser(Browser):
    """A browser at `address` reaching the app through the HTTPS router, as a browser would."""

    def __init__(self, client, address="203.0.113.7"):
        super().__init__(client)
        self.headers = {"X-Forwarded-Proto": "https", "X-Forwarded-For": address}

    def get(self, url, **kwargs):
        return super().get(url, headers=self.headers, base_url=DYNO, **kwargs)

    def post(self, url, data=None, csrf=True, **kwargs):
        # The page's own address as Referer: what strict-origin-when-cross-origin sends.
        headers = {**self.headers, "Referer": f"https://localhost{url}"}
        return super().post(url, data, csrf, headers=headers, base_url=DYNO, **kwargs)


class ScratchSchema:
    """An empty scratch database that a test migrates up and down revision by revision."""

    def __init__(self, url):
        self.url = url
        self.app = create_app(
            "config.TestingConfig", {"SQLALCHEMY_DATABASE_URI": database_uri(url)}
        )

    def upgrade(self, revision="head"):
        with self.app.app_context():
            upgrade(revision=revision)

    def downgrade(self, revision):
        with self.app.app_context():
            downgrade(revision=revision)

    def execute(self, statement, **params):
        """Run one SQL statement in its own transaction."""
        with self.app.app_context(), db.engine.begin() as connection:
            connection.execute(text(statement), params)

    def rows(self, query, **params):
        """Return the rows of a query as dicts."""
        with self.app.app_context(), db.engine.connect() as connection:
            return [dict(row._mapping) for row in connection.execute(text(query), params)]

    def columns(self, table):
        """Return the names of a table's columns."""
        query = "SELECT column_name FROM information_schema.columns WHERE table_name = :table"
        return {row["column_name"] for row in self.rows(query, table=table)}

    def current(self):
        """Return the revision the database is at, or None."""
        rows = self.rows(
            "SELECT version_num FROM alembic_version"
            if "alembic_version" in self.tables()
            else "SELECT NULL AS version_num WHERE false"
        )
        return rows[0]["version_num"] if rows else None

    def tables(self):
        query = "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        return {row["table_name"] for row in self.rows(query)}

    def dispose(self):
        with self.app.app_context():
            db.engine.dispose()


@pytest.fixture
def scratch_schema(app, postgres):
    """A fresh, empty database to migrate by hand (see ScratchSchema)."""
    schema = ScratchSchema(postgres.create_scratch_database())
    yield schema
    schema.dispose()


@pytest.fixture
def stoppable_store(app):
    """A second object store, which a test may stop and restart without harming the others."""
    store = ObjectStore(f"memo-stoppable-{uuid.uuid4().hex[:12]}").start()
    yield store
    store.stop()


@pytest.fixture
def stoppable_app(stoppable_store):
    """An app like `app` whose photos go to `stoppable_store`."""
    environ = stoppable_store.environment()
    settings = {name: environ[name] for name in ("S3_BUCKET", "S3_ENDPOINT_URL", "S3_PUBLIC_URL")}
    application = create_app("config.TestingConfig", settings)
    yield application
    with application.app_context():
        db.engine.dispose()


@pytest.fixture
def live_server(app, postgres, object_store, tmp_path):
    """Return a function that starts gunicorn as the Procfile does; each stops after the test."""
    servers = []

    def start(database_url=None, store=None, **options):
        server = LiveServer(
            database_url or postgres.main_url,
            (store or object_store).environment(),
            tmp_path / f"gunicorn-{len(servers) + 1}.log",
            **options,
        )
        servers.append(server)
        return server.start()

    yield start
    for server in servers:
        server.terminate()  # all at once: each takes a few seconds to wind down
    for server in servers:
        server.stop()


@pytest.fixture
def production_app(app, postgres, monkeypatch):
    """The app under ProductionConfig (behind a proxy, Secure cookies) on the test services."""
    monkeypatch.setenv("SECRET_KEY", "s" * 48)
    monkeypatch.setenv("DATABASE_URL", postgres.main_url)
    application = create_app("config.ProductionConfig")
    yield application
    with application.app_context():
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def browser(client):
    """An anonymous visitor."""
    return Browser(client)


@pytest.fixture
def user(browser):
    """A signed-up, signed-in user `ann`, as a Browser."""
    response = browser.signup()
    assert response.status_code == 302
    return browser


@pytest.fixture
def other_user(app):
    """A second signed-in user `bob` in a separate browser."""
    other = Browser(app.test_client())
    assert other.signup("bob@example.com", "bob").status_code == 302
    return other


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def count_rows(app):
    """Return a function that counts the rows of a table."""

    def count(table):
        with app.app_context():
            return db.session.scalar(text(f'SELECT count(*) FROM "{table}"'))

    return count


@pytest.fixture
def newer_release(tmp_path):
    """Return a function that copies migrations/ and adds one revision after the head."""

    def make(upgrade_body, downgrade_body="pass", marks="", revision="9001"):
        folder = tmp_path / f"migrations-{revision}"
        shutil.copytree(ROOT / "migrations", folder, ignore=shutil.ignore_patterns("__pycache__"))
        source = "\n".join(
            [
                '"""A revision of a newer release, written by the test."""',
                "import sqlalchemy as sa",
                "from alembic import op",
                "from safe_ddl import create_index_concurrently",
                f'revision = "{revision}"',
                f'down_revision = "{HEAD}"',
                "branch_labels = None",
                "depends_on = None",
                marks,
                "def upgrade():",
                f"    {upgrade_body}",
                "def downgrade():",
                f"    {downgrade_body}",
                "",
            ]
        )
        (folder / "versions" / f"{revision}_test.py").write_text(source)
        return folder

    return make
