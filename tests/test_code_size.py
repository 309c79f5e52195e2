"""The code that serves reads in pieces a person takes in at once: no module of app/ or front/
over 380 lines, and no function over 40 but those listed here, each with its reason. (Every
Python file of the repository stays within 400 lines and 60-line functions: test_layout.py.)

A listed function that shrinks below the bound leaves the list too, so the list says what is
true now."""

import ast
import subprocess

from devenv import ROOT

MAX_SERVING_LINES = 380
MAX_SERVING_FUNCTION_LINES = 40
SERVING = ("app/", "front/", "config")

LONGER_FOR_A_REASON = {
    "app/__init__.py register_blueprints": "the list of blueprints, and of the modules that "
    "add routes to them, one line each",
    "app/features/search/query.py results_query": "one SQL statement (the ranked page), built "
    "where it can be read whole",
    "app/features/notes/listing.py listed_notes": "one SQL statement (the list's rows with "
    "their tags, counts and previews)",
    "app/features/notes/paging.py notes_page": "one SQL statement (a keyset page, either way)",
    "app/features/notes/changes.py feed": "one SQL statement (the feed's page, bounded in "
    "items and in bytes), and the check that comes before it",
    "app/features/second_step/routes.py set_up": "a ceremony's steps in the order they must "
    "run: the password's check, the code, the lock, the write, the notice, the commit",
    "app/features/second_step/passkey_routes.py add": "the same order, for a passkey",
    "app/features/notes/history.py keep": "one version kept or one more dropped, then the "
    "cap, in one transaction's order",
    "app/release/session.py run_with_retries": "tenacity's retry, its log line and the two "
    "one-line failures the release phase prints",
    "app/offline/routes.py manifest_of": "a literal: the web app manifest",
    "front/serving.py respond": "one request through the front's budgets, in order",
    "front/bodies.py read_body": "h11's body events in one loop, with its two deadlines",
}


def serving_files():
    """Return the Python files git tracks under app/ and front/, and config*.py."""
    tracked = subprocess.run(
        ["git", "ls-files", "*.py"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    return [ROOT / name for name in tracked if name.startswith(SERVING) and (ROOT / name).exists()]


def test_no_module_that_serves_is_over_380_lines():
    long = {
        str(path.relative_to(ROOT)): lines
        for path in serving_files()
        if (lines := len(path.read_text().splitlines())) > MAX_SERVING_LINES
    }
    assert long == {}


def test_no_function_that_serves_is_over_40_lines_but_for_its_reason():
    long = set()
    for path in serving_files():
        for node in ast.walk(ast.parse(path.read_text())):
            function = isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            if function and node.end_lineno - node.lineno + 1 > MAX_SERVING_FUNCTION_LINES:
                long.add(f"{path.relative_to(ROOT)} {node.name}")
    assert long == set(LONGER_FOR_A_REASON)
