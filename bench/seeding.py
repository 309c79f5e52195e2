"""The benchmarks' shared start: the embedded PostgreSQL, seeded users and fortunes, a sign-in.

end_to_end.py, memory.py, instructions.py and front_cpu.py all start this way; instructions.py
serves Memo in-process (`memo_app`, `sign_in_through_the_router`);
conflicts.py and search_abuse.py serve it with `served_memo`.
"""

import os
import re
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

from devenv import ROOT, services
from devenv.liveserver import (
    LOCAL_MAIL_SETTINGS,
    LiveServer,
    production_environment,
    release_phase,
)
from devenv.visitors import PASSWORD, RouterBrowser

NOTE_LINK = re.compile(r'href="(/notes/\d+)"')
# The pretend HTTPS router in front of the in-process app (ProxyFix reads these).
ROUTER = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}

FORTUNES = [
    "fortune: No such file or directory",
    "A computer scientist is someone who fixes things that aren't broken.",
    "After enough decimal places, nobody gives a damn.",
    "A bad random number generator: 1, 1, 1, 1, 1, 4.33e+67, 1, 1, 1",
    "A computer program does what you tell it to do, not what you want it to do.",
    "Emacs is a nice operating system, but I prefer UNIX. — Tom Christaensen",
    "Any program that runs right is obsolete.",
    "A list is only as strong as its weakest link. — Donald Knuth",
    "Feature: A bug with seniority.",
    "Computers make very fast, very accurate mistakes.",
    '<script>alert("This should not be displayed in a browser alert box.");</script>',
    "フレームワークのベンチマーク",
]


class Database:
    """The embedded PostgreSQL: Memo's database, the baseline's, and a connection poller."""

    def __init__(self, folder):
        self.server = services.start_postgres(folder / "postgres", cleanup_mode="delete")
        services.ensure_database(self.server.get_uri(), "memo_bench", recreate=True)
        services.ensure_database(self.server.get_uri(), "fortunes_bench", recreate=True)
        self.memo_url = self.server.get_uri("memo_bench")
        self.baseline_url = self.server.get_uri("fortunes_bench")

    def version(self):
        return services.query(self.memo_url, "SHOW server_version")[0][0]

    def stop(self):
        self.server.cleanup()


def seed_fortunes(database, url=None):
    """Create and fill the baseline's `fortune` table (TechEmpower's twelve rows), in the
    baseline's database or in the one at `url`."""
    connection = services.connect(url or database.baseline_url)
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE fortune (id integer PRIMARY KEY, message text NOT NULL)")
        cursor.executemany(
            "INSERT INTO fortune (id, message) VALUES (%s, %s)",
            list(enumerate(FORTUNES, start=1)),
        )
    connection.close()


def seed_user(cursor, email, notes, password_hash):
    """Insert a user with `notes` notes a minute apart, newest now; return the user's id."""
    cursor.execute(
        'INSERT INTO "user" (email, nickname, password_hash, created_at) '
        "VALUES (%s, %s, %s, now()) RETURNING id",
        (email, email.split("@")[0], password_hash),
    )
    user_id = cursor.fetchone()[0]
    cursor.execute(
        "INSERT INTO note (title, content, created_at, updated_at, user_id, completed) "
        "SELECT 'Note number ' || n, repeat('Some words of a benchmark note. ', 12), "
        "  now() - n * interval '1 minute', now() - n * interval '1 minute', %s, n %% 5 = 0 "
        "FROM generate_series(1, %s) AS n",
        (user_id, notes),
    )
    return user_id


def seed_users(database):
    """Seed the benchmark's users; return {name: (email, id)}."""
    from app.models import hasher_for
    from config import Config

    password_hash = hasher_for(**Config.PASSWORD_HASHING).hash(PASSWORD)
    users = {"reader": 100, "writer": 100, "big": 100_000}
    connection = services.connect(database.memo_url)
    seeded = {}
    with connection.cursor() as cursor:
        for name, notes in users.items():
            email = f"{name}@bench.example"
            seeded[name] = (email, seed_user(cursor, email, notes, password_hash))
        cursor.execute("ANALYZE")
    connection.close()
    return seeded


def middle_cursor(database, user_id):
    """Return the `?before=` cursor of the note in the middle of a user's notes."""
    [(micros, note_id)] = services.query(
        database.memo_url,
        "SELECT floor(extract(epoch FROM created_at) * 1000000)::bigint, id FROM note "
        "WHERE user_id = %s ORDER BY created_at DESC, id DESC "
        "OFFSET (SELECT count(*) / 2 FROM note WHERE user_id = %s) LIMIT 1",
        (user_id, user_id),
    )
    return f"{micros}-{note_id}"


def start(server, ready_path="/healthz"):
    """Start a server, or stop the benchmark with the reason it did not start."""
    try:
        return server.start(ready_path)
    except RuntimeError as error:
        sys.exit(f"memo bench: {str(error)[-2000:]}")


def sign_in(visitor, email):
    """Sign in through the login form; return the CSRF token and a note of the notes list."""
    response = visitor.login(email)
    if response.status != 302 or response.location != "/":
        sys.exit(f"memo bench: signing in as {email} failed with status {response.status}")
    page = visitor.get("/")
    if page.status != 200 or "Your notes" not in page.text:
        sys.exit(f"memo bench: the notes list answered {page.status} after signing in")
    return visitor.token, NOTE_LINK.search(page.text).group(1)


def production_environ(database, store):
    """Return the environment both apps run under: ProductionConfig, this run's services.

    WEB_CONCURRENCY and WEB_THREADS keep the caller's values, else the documented defaults.
    """
    from config import ProductionConfig

    environ = production_environment(database.memo_url, store.environment())
    settings = ProductionConfig(environ)
    # The baseline reads WEB_THREADS itself; both apps must get the same number.
    environ["WEB_CONCURRENCY"] = str(settings.WEB_CONCURRENCY)
    environ["WEB_THREADS"] = str(settings.WEB_THREADS)
    # The mixed scenario writes hundreds of notes a second as one user: not what is measured.
    for rate in ("NOTE_WRITES_PER_MINUTE", "TOKEN_WRITES_PER_MINUTE", "API_WRITES_PER_MINUTE"):
        environ[rate] = str(10**9)
    return environ


@contextmanager
def served_memo(name, **settings):
    """Serve Memo (gunicorn behind its front, a migrated embedded PostgreSQL and an S3 server)
    in a fresh folder; yield (server, database URL); stop everything after."""
    folder = Path(tempfile.mkdtemp(prefix=f"memo-bench-{name}-"))
    postgres = services.start_postgres(folder / "postgres", cleanup_mode="delete")
    store = services.ObjectStore("memo-bench").start()
    server = None
    try:
        services.ensure_database(postgres.get_uri(), "memo_bench", recreate=True)
        url = postgres.get_uri("memo_bench")
        release_phase(url, store.environment())
        server = LiveServer(url, store.environment(), folder / "gunicorn.log", **settings).start()
        yield server, url
    finally:
        if server is not None:
            server.stop()
        store.stop()
        postgres.cleanup()


def memo_app(database, log_level):
    """Return Memo under ProductionConfig (wsgi.py's app), migrated, logging to /dev/null."""
    from flask_migrate import upgrade

    from app import migrating

    os.environ.update(
        APP_SETTINGS="config.ProductionConfig",
        SECRET_KEY="benchmark-secret-key-0123456789-abcdefghijklmnop",  # noqa: S106
        DATABASE_URL=database.memo_url,
        # The note page signs an upload form: keys and an endpoint are all signing needs
        # (nothing here talks to the store). Without keys it would show "store down".
        S3_BUCKET="memo-bench",
        S3_ENDPOINT_URL="http://127.0.0.1:9",
        **services.LOCAL_CREDENTIALS,
        LOG_LEVEL=log_level,
        **LOCAL_MAIL_SETTINGS,
    )
    # The request log goes to stdout, as under gunicorn; formatting it still costs CPU.
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115  (for the life of the process)
    from wsgi import app  # made as gunicorn's workers make it, with what wsgi.py does after

    migrating.init_app(app)  # only to migrate: gunicorn's workers set up no Flask-Migrate
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
    sys.stdout = sys.__stdout__
    return app


def sign_in_through_the_router(app, email):
    """Sign in with the login form, as through the router; return the session cookie and a note.

    The measured requests then send that cookie themselves (a client without a cookie jar).
    """
    client = app.test_client()
    browser = RouterBrowser(client, address=ROUTER["X-Forwarded-For"])
    response = browser.login(email)
    assert response.status_code == 302, response.status_code
    page = browser.get("/").get_data(as_text=True)
    note_path = NOTE_LINK.search(page).group(1)
    note_page = browser.get(note_path).get_data(as_text=True)
    assert 'class="upload"' in note_page, "the note page shows no upload form to measure"
    # The first page adds the CSRF secret to the session: the cookie is taken after it, as a
    # browser keeps the one it was last sent (with the login's cookie, every page re-signed it).
    cookie = f"session={client.get_cookie('session').value}"
    return cookie, note_path
