"""Fixtures: a real PostgreSQL, a real S3 server, the app, and a browser-like client.

The schema always comes from the migrations. With TEST_DATABASE_URL set, the suite
uses (and wipes) that database and creates scratch databases beside it; otherwise
it starts an embedded PostgreSQL in a temporary folder. The helpers the fixtures
hand out live in devenv/ (services, visitors, live server) and tests/databases.py.
"""

import gc
import os
import shutil
import tempfile
import uuid
from pathlib import Path

import pytest
from flask_migrate import upgrade
from sqlalchemy import text
from sqlalchemy.engine import make_url

from app import create_app, migrating
from app.extensions import db
from devenv.debian import wait_for_install
from devenv.liveserver import LOCAL_MAIL_SETTINGS, LiveServer, release_phase
from devenv.mailserver import MailServer
from devenv.pooler import PgBouncer, pgbouncer_program
from devenv.services import ObjectStore, ensure_database, start_postgres
from devenv.visitors import Browser
from tests import databases
from tests.accounts import sign_up_by_code
from tests.databases import Postgres
from tests.mailbox import PUBLIC_URL, verify_email
from tests.note_writers import install_the_writers_guard
from tests.pushes import vapid_settings
from tests.workers import FORGET_JOBS, Workers, empty_queue, settle_queue, web_and_worker

# Fixtures of helper modules: the browser tests' `chromium`, the authorization matrix's `world`.
# A module another one imports comes first, so pytest rewrites its asserts before that import.
pytest_plugins = [
    "tests.attaching",
    "tests.apiclients",
    "tests.browsers",
    "tests.logbuffer",
    "tests.mypages",
    "tests.routematrix",
    "tests.wordcounts",
]

# The serial part has two processes; pytest-xdist starts each on one module, then gives the
# first its second: the formation (the longest) goes second, alone in the second process.
SERIAL_FIRST = ["test_load.py", "test_formation.py", "test_release_drill.py"]
# The parallel part hands whole modules to its processes in this order: the longest first
# (as measured, tests/module-seconds.txt), so that none is left running alone at the end.
MEASURED = Path(__file__).with_name("module-seconds.txt")


def module_order():
    """Return the test modules (paths below tests/) in the order they are to start."""
    lines = MEASURED.read_text().splitlines()  # the longest first, as ./scripts/test writes it
    return SERIAL_FIRST + [line.split()[1] for line in lines if line and not line.startswith("#")]


def pytest_configure(config):
    install_the_writers_guard()


def pytest_collection_finish(session):
    """Freeze what collection made (the modules, the app's code, pytest's items): it lives as
    long as the process, and the collector's full passes walked it again every few thousand
    allocations (8 % of a route-matrix process's CPU; with this, 4 %)."""
    gc.freeze()


def pytest_collection_modifyitems(items):
    """Put the longest modules first (a stable sort: each module keeps its own order; a
    module not measured yet comes after the measured ones)."""
    rank = {name: index for index, name in enumerate(module_order())}
    root = Path(__file__).parent.parent  # client/tests/ is named from the repository's root
    items.sort(key=lambda item: rank.get(module_name(item.path, root), len(rank)))


def module_name(path, root):
    """Return a test module's name in module-seconds.txt: below tests/, or from the root."""
    relative = path.relative_to(root)
    return (
        relative.relative_to("tests").as_posix() if relative.parts[0] == "tests" else str(relative)
    )


@pytest.fixture(scope="session")
def postgres():
    """A real PostgreSQL with an empty `main` database for the suite."""
    given = os.environ.get("TEST_DATABASE_URL", "").strip()
    worker = os.environ.get("PYTEST_XDIST_WORKER")  # gw0, gw1, ... when tests run in parallel
    if given and worker:
        # Each parallel worker wipes a database of its own beside the one named.
        server = Postgres(given)
        name = f"{make_url(given).database}_{worker}"
        ensure_database(given, name, recreate=True)
        os.environ["TEST_DATABASE_URL"] = server.url_for(name)
        given = os.environ["TEST_DATABASE_URL"]
    if given:
        server = Postgres(given)
        server.execute("DROP SCHEMA public CASCADE", "CREATE SCHEMA public")
        yield server
        server.drop_scratch_databases()
        return
    folder = Path(tempfile.mkdtemp(prefix="memo-test-"))
    embedded = start_postgres(folder / "postgres", cleanup_mode="delete")
    # A throwaway cluster need not survive a crash: no flushes to disk (never in production).
    databases.skip_durability(embedded.get_uri())
    ensure_database(embedded.get_uri(), "memo_test", recreate=True)
    os.environ["TEST_DATABASE_URL"] = embedded.get_uri("memo_test")
    yield Postgres(embedded.get_uri("memo_test"))
    embedded.cleanup()


@pytest.fixture(scope="session")
def object_store():
    """A real S3 server (moto over HTTP) with a public-read bucket, named in the environment."""
    store = ObjectStore("memo-test").start()
    with pytest.MonkeyPatch.context() as environment:
        for name, value in store.environment().items():
            environment.setenv(name, value)
        yield store
    store.stop()


@pytest.fixture(scope="session")
def mail_server(tmp_path_factory):
    """A real SMTP server (aiosmtpd) keeping each message; named in the environment."""
    server = MailServer(tmp_path_factory.mktemp("mail")).start()
    settings = {"SMTP_URL": server.url, "MAIL_FROM": "Memo <memo@localhost>"}
    with pytest.MonkeyPatch.context() as environment:
        for name, value in {**settings, "PUBLIC_URL": PUBLIC_URL}.items():
            environment.setenv(name, value)
        yield server
    server.stop()


@pytest.fixture(autouse=True)
def empty_mailbox(request):
    """Forget the mail kept by the server after each test that used it."""
    yield
    if "mail_server" in request.fixturenames:
        request.getfixturevalue("mail_server").empty()


@pytest.fixture(scope="session")
def app(postgres, object_store, mail_server):
    """The app under TestingConfig, its database migrated to head, its photos in object_store,
    its mail sent to mail_server."""
    os.environ["TEST_DATABASE_URL"] = postgres.main_url
    application = create_app("config.TestingConfig")
    migrating.init_app(application)
    with application.app_context():
        upgrade()
    gc.freeze()  # see pytest_collection_finish: the app and its caches live as long, too
    yield application
    with application.app_context():
        db.engine.dispose()
    postgres.drop_scratch_databases()


# A test of the authorization matrix (tests/routematrix.py) starts from its module's saved
# world, which puts back only the rows and objects a test changed: such a test leaves the
# world in place, and any other test first discards it (tests/databases.py, SavedState).
PUT_BACK_BY = "world"


@pytest.fixture(autouse=True)
def clean_database(request):
    """Empty every table after each test that used the app, and drop the jobs it left
    queued (ids start again at 1: a job of one test must never act on the next one's rows)."""
    if PUT_BACK_BY not in request.fixturenames:
        databases.discard_left_state()
    yield
    if "app" in request.fixturenames:
        application = request.getfixturevalue("app")
        if PUT_BACK_BY not in request.fixturenames:
            databases.empty_tables(application)
        # On the app's pooled connection: a connection of its own was a PostgreSQL backend
        # started and ended after every test (about 10 ms).
        with application.app_context(), db.engine.begin() as connection:
            connection.exec_driver_sql(FORGET_JOBS)


@pytest.fixture(autouse=True)
def empty_bucket(request):
    """Delete every object after each test that used the object store."""
    yield
    if "object_store" in request.fixturenames and PUT_BACK_BY not in request.fixturenames:
        request.getfixturevalue("object_store").empty()


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
    """Return a function that starts gunicorn as the Procfile does; each stops after the test.

    One gunicorn worker (WEB_CONCURRENCY=1) unless a test asks for more: a second one only
    imports the app again (about 1 CPU-s), and only a test of workers themselves needs two.
    """
    servers = []

    def start(database_url=None, store=None, workers=1, **options):
        server = LiveServer(
            database_url or postgres.main_url,
            (store or object_store).environment(),
            tmp_path / f"gunicorn-{len(servers) + 1}.log",
            workers=workers,
            **options,
        )
        servers.append(server)
        return server.start()

    yield start
    for server in servers:
        server.terminate()  # all at once: each takes a few seconds to wind down
    for server in servers:
        server.stop()


@pytest.fixture(scope="module")
def served(app, postgres, object_store, tmp_path_factory):
    """Memo as the Procfile runs it, web and a worker, kept for a whole module.

    For the browser tests, none of which stops them: each test's data goes as usual, and
    `settled` lets no job of one test run into the next.
    """
    with web_and_worker(postgres, object_store, tmp_path_factory.mktemp("served")) as web:
        yield web


@pytest.fixture
def settled(served, postgres):
    """After the test, wait until the module's worker has nothing left of it to do."""
    yield served
    settle_queue(postgres.main_url)


@pytest.fixture
def pgbouncer(postgres):
    """Return a function that starts PgBouncer (transaction mode) before a database of the suite.

    Debian's `pgbouncer`: ./scripts/test installs it as root (waited for here, as it may be
    installing it while the first tests run); elsewhere these tests skip.
    """
    wait_for_install()  # then, if it is still missing, a skip
    if pgbouncer_program() is None:
        pytest.skip("pgbouncer is not installed (./scripts/test installs it when run as root)")
    started = []

    def start(database_url=None, pool_size=2, **options):
        bouncer = PgBouncer(database_url or postgres.main_url, pool_size=pool_size, **options)
        started.append(bouncer)
        return bouncer.start()

    yield start
    for bouncer in started:
        bouncer.stop()


@pytest.fixture
def workers(app, postgres, object_store, tmp_path):
    """Real `flask worker` processes on an emptied queue (tests/workers.py); stopped after."""
    started = Workers(postgres.main_url, object_store.environment(), tmp_path)
    yield started
    started.stop_all()


@pytest.fixture
def production_app(app, postgres, monkeypatch):
    """The app under ProductionConfig (behind a proxy, Secure cookies) on the test services."""
    monkeypatch.setenv("SECRET_KEY", "s" * 48)
    monkeypatch.setenv("TWO_STEP_KEY", LOCAL_MAIL_SETTINGS["TWO_STEP_KEY"])
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
    """A signed-in user `ann`, as a Browser: the account the sign-up form makes (unconfirmed,
    its verification mail queued), made by the app's code rather than its forms."""
    return sign_up_by_code(browser)


@pytest.fixture
def signed_up_user(browser):
    """A user `ann` who signed up and in through the forms, as a Browser (for the tests of
    signing up: what the forms leave behind besides the account, such as the throttles)."""
    response = browser.signup()
    assert response.status_code == 302
    return browser


@pytest.fixture
def verified(app, user):
    """The signed-in user `ann`, whose address is verified (as opening her mailed link does)."""
    verify_email(app, "ann@example.com")
    return user


@pytest.fixture
def other_user(app):
    """A second signed-in user `bob` in a separate browser."""
    return sign_up_by_code(Browser(app.test_client()), "bob@example.com", "bob")


@pytest.fixture
def vapid(app, monkeypatch):
    """Web Push set up: the app holds a fresh VAPID key pair."""
    settings, _ = vapid_settings()
    monkeypatch.setitem(app.config, "VAPID", settings)
    return settings


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
        return databases.newer_release(folder, upgrade_body, downgrade_body, marks, revision)

    return make


@pytest.fixture
def restartable_postgres(object_store):
    """A PostgreSQL of this test's own, migrated by the release phase, that it may restart."""
    folder = Path(tempfile.mkdtemp(prefix="memo-restart-"))  # short: the socket lives in it
    server = start_postgres(folder / "postgres", cleanup_mode="delete")
    ensure_database(server.get_uri(), "memo")
    release_phase(server.get_uri("memo"), object_store.environment())
    yield server
    server.cleanup()
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def no_jobs(postgres):
    """Start the test with an empty job queue: the jobs it runs are the ones it queued.

    A module whose every test needs it says `pytestmark = pytest.mark.usefixtures("no_jobs")`.
    """
    empty_queue(postgres.main_url)
