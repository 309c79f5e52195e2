"""The shape of the code: app/'s import graph, its modules' size, what the web process loads.

The graph is read from the source with `ast` (tests/importgraph.py: nothing is imported), so a
cycle that Python happens to survive today, or an import hidden inside a function, is found all
the same.
What the web loads is read from a real web process's sys.modules after it served requests.
"""

import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from devenv import ROOT
from tests.importgraph import cycles, module_graph

APP = ROOT / "app"
# The features are the packages in app/features/; everything else in app/ is the platform.
FEATURES = tuple(sorted(path.parent.name for path in (APP / "features").glob("*/__init__.py")))


def import_graph():
    """Return app/'s module graph and its parsed modules (tests/importgraph.py)."""
    return module_graph(APP)


def feature_of(name):
    """Return the feature package a module belongs to, or None for a module of the platform."""
    parts = name.split(".")
    return parts[2] if parts[1:2] == ["features"] and len(parts) > 2 else None


def is_lower(name):
    """Whether a module sits below the features: the platform, not the factory or the folder."""
    return name not in ("app", "app.features") and feature_of(name) is None


def test_the_features_are_the_packages_in_app_features():
    assert "notes" in FEATURES and "note_page" in FEATURES and "api" in FEATURES
    assert [path.name for path in APP.iterdir() if path.name in FEATURES] == []
    assert {"release", "models", "offline"}.isdisjoint(FEATURES)


def test_the_import_graph_of_app_has_no_cycle():
    graph, _ = import_graph()
    assert cycles(graph) == []


def test_no_module_below_the_features_imports_one():
    graph, _ = import_graph()
    upward = [
        f"{name} (line {line}) imports {target}"
        for name, targets in graph.items()
        if is_lower(name)
        for target, line in targets.items()
        if feature_of(target)
    ]
    assert upward == []


def test_every_import_in_app_is_at_the_top_of_its_module():
    """An import inside a function hides a cycle; only a comment's reason may keep one there.

    The factory, create_app(), and its steps are where the app's modules are imported
    (app/__init__.py, which imports nothing at its top)."""
    _, modules = import_graph()
    nested = []
    for name, (path, tree) in modules.items():
        lines = path.read_text().splitlines()
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            if name == "app":  # the factory and its steps
                continue
            for node in ast.walk(function):
                if (
                    isinstance(node, ast.Import | ast.ImportFrom)
                    and "#" not in lines[node.lineno - 1]
                ):
                    nested.append(f"{path.relative_to(APP.parent)}:{node.lineno}")
    assert nested == []


def absolute_imports(path):
    """Yield (import statement, the modules it names) for each absolute import in a file."""
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            yield node, [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            yield node, [node.module or ""]


def test_app_never_imports_migrations():
    """One direction: migrations/ (env.py, the revisions) imports app/; app/ holds the release
    phase and the DDL helpers the revisions import, and imports nothing of migrations/."""
    importers = []
    for path in APP.rglob("*.py"):
        for node, names in absolute_imports(path):
            if any(name == "migrations" or name.startswith("migrations.") for name in names):
                importers.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert importers == []


def test_jobs_imports_no_feature():
    graph, _ = import_graph()
    assert [target for target in graph["app.jobs"] if feature_of(target)] == []


MAX_MODULE_LINES = 400
# A function a reader takes in at once: the app's median is 7 lines; a longer one is split
# into named steps (create_app's, Config's readers).
MAX_FUNCTION_LINES = 60


def own_code():
    """Return the repository's Python files but the migration revisions (frozen once landed)."""
    return [path for path in python_files() if "migrations/versions" not in path.as_posix()]


def test_no_python_file_is_over_400_lines():
    long = {
        str(path.relative_to(ROOT)): lines
        for path in own_code()
        if (lines := len(path.read_text().splitlines())) > MAX_MODULE_LINES
    }
    assert long == {}


def test_no_function_is_over_60_lines():
    long = {}
    for path in own_code():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long[f"{path.relative_to(ROOT)}:{node.lineno} {node.name}"] = lines
    assert long == {}


# A web worker: the app as gunicorn loads it (wsgi.py), after serving a page, the probes and
# a sign-in form, making the store's client and deferring a job; printed: the modules it holds.
WEB_PROCESS = """
import json, sys
import wsgi
client = wsgi.app.test_client()
for path in ("/healthz", "/readyz", "/auth/login", "/"):
    assert client.get(path).status_code < 500, path
with wsgi.app.app_context():  # the store's client, as my page's upload forms make it
    from app import storage
    storage.bucket()
with wsgi.app.app_context():  # a job, as a request defers one (rolled back: none is left)
    from app import jobs
    from app.extensions import db
    assert jobs.defer(jobs.ping) > 0
    db.session.rollback()
print(json.dumps(sorted(sys.modules)))
"""


@pytest.fixture(scope="module")
def web_modules(app, postgres):
    """The modules a fresh web worker holds after its first requests."""
    done = subprocess.run(
        [sys.executable, "-c", WEB_PROCESS],
        cwd=ROOT,
        env={**os.environ, "APP_SETTINGS": "config.TestingConfig"},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(done.stdout.splitlines()[-1])


def loaded_of(loaded, libraries):
    return [
        name
        for name in loaded
        if any(name == library or name.startswith(f"{library}.") for library in libraries)
    ]


def test_the_web_loads_neither_the_release_phase_nor_the_worker_runtime(web_modules):
    """The web defers jobs by name: it records the tasks, but what their bodies need (Pillow,
    smtplib, the page fetcher, selectolax) is loaded by the worker that runs them, and so is
    procrastinate, whose psycopg 3 (libpq and OpenSSL copies of its own) cost a web worker
    10-12 MB: the web defers with procrastinate's own query on its psycopg2 (app/jobs.py)."""
    assert "app.features.notes.routes" in web_modules  # it did load the app
    assert "psycopg2" in web_modules  # the web's driver: only psycopg 3 is the worker's
    kept_out = ("migrations", "app.worker", "app.release")
    kept_out += ("flask_migrate", "alembic")  # set up for Flask's command line only
    # Nor, without SENTRY_DSN (unset here), sentry-sdk or the module that sets it up.
    kept_out += ("sentry_sdk", "app.error_reports", "app.restore_drill")
    assert [name for name in web_modules if name.startswith(kept_out)] == []
    worker_only = ("PIL", "smtplib", "selectolax", "charset_normalizer")
    worker_only += ("app.fetcher.client", "app.fetcher.text")
    worker_only += ("procrastinate", "psycopg", "psycopg_binary", "psycopg_c", "psycopg_pool")
    assert loaded_of(web_modules, worker_only) == []


def test_the_web_loads_what_few_pages_need_only_when_one_is_asked_for(web_modules):
    """Passkeys (py_webauthn with pyOpenSSL, cbor2, pyasn1: about 15 MB with cryptography),
    an authenticator app's Fernet keys (cryptography, 7.6 MB) and QR code (segno, 1.1 MB),
    and word counts' stop words (2 MB) are imported where they are used, and the store's
    client no longer pulls pyOpenSSL and cryptography in (9.9 MB; app/storage.py): a web
    worker that never served those pages stays that much smaller (docs/performance.md). And
    email-validator, whose patterns cost every process about 30 ms of CPU at its start, waits
    for the first form that takes an address (app/validators.py)."""
    assert (
        "app.features.second_step.ceremonies" in web_modules
        and "app.features.second_step.totp" in web_modules
    )
    rare = ("webauthn", "cryptography", "OpenSSL", "cbor2", "pyasn1", "segno", "stopwordsiso")
    rare += ("email_validator",)
    assert loaded_of(web_modules, rare) == []


def python_files():
    """Return the repository's own Python files (not virtualenvs or downloaded tools)."""
    own = subprocess.run(
        ["git", "ls-files", "*.py"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    return [ROOT / name for name in own if (ROOT / name).exists()]


def test_nothing_edits_sys_path():
    """The set-up puts the repository on the virtualenv's path (scripts/dev.py), and gunicorn
    runs as `python -m gunicorn` in the app's folder: nothing needs to edit sys.path."""
    edits = [
        str(path.relative_to(ROOT))
        for path in python_files()
        if path != Path(__file__) and "sys.path.insert" in path.read_text()
    ]
    assert edits == []


def test_nothing_outside_tests_imports_them():
    """A test module is not a library: what tooling and tests share lives in devenv/."""
    importers = []
    for path in python_files():
        relative = path.relative_to(ROOT)
        if relative.parts[0] == "tests":
            continue
        for _, names in absolute_imports(path):
            if any(name == "tests" or name.startswith("tests.") for name in names):
                importers.append(str(relative))
    assert importers == []


def imported_test_modules(path):
    """Return the test modules of tests/ (test_*.py) a file imports, absolutely or relatively."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            module = "tests." * bool(node.level) + (node.module or "")
            names = [f"{module}.{alias.name}".lstrip(".") for alias in node.names] + [module]
        else:
            continue
        # Only tests/'s own: `from pytest_alembic.tests import test_upgrade` is the library's.
        ours = [name.split(".") for name in names if name.split(".")[0] == "tests"]
        found += [part for parts in ours for part in parts if part.startswith("test_")]
    return sorted(set(found))


def test_no_test_module_imports_another():
    """What tests share lives in helper modules under tests/ (tests/noting.py, tests/importing.py,
    ...; fixtures registered by tests/conftest.py's `pytest_plugins`), so that a test module can
    be read, run and changed alone, and pytest collects each test once."""
    importers = {
        str(path.relative_to(ROOT)): imported_test_modules(path)
        for path in (ROOT / "tests").rglob("test_*.py")
    }
    assert {path: names for path, names in importers.items() if names} == {}


# procrastinate 3.10 has no API that lists its workers; `flask jobs status` reads their table.
NO_API_FOR = {"app/commands/queue.py": {"procrastinate_workers"}}
QUEUE_TABLE = re.compile(r"\bprocrastinate_(jobs|events|workers|periodic_defers)\b")


def test_the_queue_is_reached_through_procrastinates_api_not_sql_on_its_tables():
    """Outside migrations/ (which install its schema) and the tests (which inspect it), the
    code and tools use procrastinate's JobManager, or (the web's defer()) its own query read
    from its package, except where it has no API."""
    found = {}
    for path in python_files():
        name = str(path.relative_to(ROOT))
        if path.relative_to(ROOT).parts[0] in ("migrations", "tests"):
            continue
        tables = {f"procrastinate_{m}" for m in QUEUE_TABLE.findall(path.read_text())}
        tables -= NO_API_FOR.get(name, set())
        if tables:
            found[name] = sorted(tables)
    assert found == {}
