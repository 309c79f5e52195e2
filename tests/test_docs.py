"""The docs say what the code does: every file, link, function, test and variable they name exists.

The drift a review finds most often is a doc naming something that moved: a module, a test
file, a function or a test renamed, a section another doc links to, a setting. These are
checked; the prose is not.
"""

import ast
import json
import re
from functools import cache

import pytest
from webauthn.helpers import generate_challenge

from app.accounts.tasks import MAIL_ATTEMPTS
from app.features.search.query import MAX_PAGE, MAX_RANKED
from app.jobs import MAX_RETRY_WAIT_SECONDS
from app.objects import STORE_ATTEMPTS
from devenv import ROOT
from tests.variables import CONFIGURATION, env_example_names, variables_read

DOCS = [ROOT / "README.md", ROOT / "bench" / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
DOCS += sorted((ROOT / "docs" / "security").glob("*.md"))
LINK = re.compile(r"\]\(([^)\s]+)\)")
# A path in backticks under one of the repository's own folders: `app/models/access.py`.
NAMED_PATH = re.compile(
    r"`((?:app|tests|devenv|scripts|bench|migrations|docs|front)/[\w./-]+?)(?:::\w+)?`"
)
HEADING = re.compile(r"^#+\s+(.*)$", re.M)
# A function or test named with its file: `tests/test_x.py::test_y`, `test_x.py::test_y` (a
# file of tests/ by its name alone, as the tables of slow tests name them).
NAMED_FUNCTION = re.compile(r"`([\w/.-]+\.py)::(\w+)")
# A test named alone: `test_y`; some test module must define it.
NAMED_TEST = re.compile(r"`(test_\w+)(?:\[[^]]*\])?`")
# A module or a name it defines, dotted: `app.schema.check_rollback`, `config.database_uri()`.
DOTTED = re.compile(r"`((?:app|config|devenv|front|bench|scripts|tests)(?:\.\w+)+)(?:\(\))?`")
FILE_SUFFIXES = {"py", "json", "md", "txt", "toml", "cfg", "ini", "example"}


def slug(heading):
    """Return the anchor a heading gets on the forge (GitHub's rule)."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower().replace("`", ""))
    return text.replace(" ", "-")


def anchors(path):
    return {slug(heading) for heading in HEADING.findall(path.read_text())}


def doc_ids():
    return [str(path.relative_to(ROOT)) for path in DOCS]


@pytest.mark.parametrize("doc", DOCS, ids=doc_ids())
def test_every_link_of_a_doc_reaches_a_file_and_a_heading(doc):
    broken = []
    for target in LINK.findall(doc.read_text()):
        if target.startswith(("http://", "https://", "mailto:")):
            continue
        name, _, anchor = target.partition("#")
        path = (doc.parent / name).resolve() if name else doc
        if not path.exists() or (anchor and path.suffix == ".md" and anchor not in anchors(path)):
            broken.append(target)
    assert broken == []


@pytest.mark.parametrize("doc", DOCS, ids=doc_ids())
def test_every_path_a_doc_names_exists(doc):
    missing = [
        name
        for name in NAMED_PATH.findall(doc.read_text())
        if not any(ch in name for ch in "*<") and not (ROOT / name.rstrip("/.")).exists()
    ]
    assert missing == []


# What config.py reads that app.json does not declare, and why.
NOT_IN_APP_JSON = {
    "DATABASE_URL": "the heroku-postgresql add-on sets it",
    "DYNO": "the platform sets it in every dyno",
    "FLASK_DEBUG": "development only",
    "TEST_DATABASE_URL": "the test suite's own database",
    "LOCAL_MAIL_DIR": "./scripts/run's SMTP server's folder",
}


def configuration_table():
    """Return the variables the first column of docs/configuration.md's table names."""
    rows = (ROOT / "docs" / "configuration.md").read_text().splitlines()
    cells = [row.split("|")[1] for row in rows if row.startswith("| `")]
    return {name for cell in cells for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", cell)}


def test_every_variable_is_in_the_configuration_docs_table():
    assert sorted(env_example_names() - configuration_table()) == []


def test_every_variable_config_reads_is_in_env_example_app_json_and_the_table():
    read = variables_read(CONFIGURATION)
    app_json = json.loads((ROOT / "app.json").read_text())
    declared = set(app_json["env"]) | set(app_json["environments"]["test"]["env"])
    missing = {
        ".env.example": sorted(read - env_example_names()),
        "app.json": sorted(read - declared - set(NOT_IN_APP_JSON)),
        "docs/configuration.md's table": sorted(read - configuration_table()),
    }
    assert missing == {".env.example": [], "app.json": [], "docs/configuration.md's table": []}
    assert set(NOT_IN_APP_JSON) <= read, "an exception for a variable config.py no longer reads"


@cache
def defined_names(path):
    """Return the names a Python file defines: its functions and classes (at any depth, so
    methods too), its top-level assignments and imports."""
    names = set()
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
    for node in tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom):  # importable from it all the same
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
        targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
        names.update(target.id for target in targets if isinstance(target, ast.Name))
    return names


@cache
def suite_test_names():
    """Return every test function's name in tests/."""
    return {
        name
        for path in (ROOT / "tests").rglob("test_*.py")
        for name in defined_names(path)
        if name.startswith("test_")
    }


def python_file(name):
    """Return the file a doc names: a path from the root, or a file of tests/ by its name."""
    if "/" in name:
        return ROOT / name
    found = sorted((ROOT / "tests").rglob(name))
    return found[0] if len(found) == 1 else ROOT / name


def dotted_exists(dotted):
    """Return whether `a.b.c` is a module of ours, or a name its longest module defines."""
    parts = dotted.split(".")
    if parts[-1] in FILE_SUFFIXES:
        return True  # a file: `app.json`, `config.py` (checked as a path, if it is one)
    for cut in range(len(parts), 0, -1):
        base = ROOT.joinpath(*parts[:cut])
        for module in (base.with_suffix(".py"), base / "__init__.py"):
            if module.exists():
                return cut == len(parts) or parts[cut] in defined_names(module)
    return False


@pytest.mark.parametrize("doc", DOCS, ids=doc_ids())
def test_every_function_test_and_module_a_doc_names_exists(doc):
    text = doc.read_text()
    missing = [
        f"{name}::{function}"
        for name, function in NAMED_FUNCTION.findall(text)
        if not python_file(name).exists() or function not in defined_names(python_file(name))
    ]
    missing += [name for name in NAMED_TEST.findall(text) if name not in suite_test_names()]
    missing += [name for name in DOTTED.findall(text) if not dotted_exists(name)]
    assert missing == []


# Comments outside docs/ name files and functions too: the pins say what each library is for,
# the budgets where each is enforced.
COMMENTED = ["requirements.txt", "requirements-dev.txt", "config.py", "config_budgets.py"]
BARE_PATH = re.compile(r"\b((?:app|tests|devenv|scripts|bench|migrations|front)/[\w./-]*\w)")
BARE_DOTTED = re.compile(r"\b((?:app|config|devenv|front)(?:\.[a-z_]\w*)+)")


@pytest.mark.parametrize("name", COMMENTED)
def test_every_path_and_function_a_comment_of_the_top_files_names_exists(name):
    comments = [line.partition("#")[2] for line in (ROOT / name).read_text().splitlines()]
    text = "\n".join(comments)
    missing = [path for path in BARE_PATH.findall(text) if not (ROOT / path).exists()]
    missing += [dotted for dotted in BARE_DOTTED.findall(text) if not dotted_exists(dotted)]
    assert missing == []


def test_numbers_the_docs_state_are_the_codes():
    """Where a doc states a figure the code computes, the two are compared (each was wrong once)."""
    waits = sum(min(2 ** (n + 1), MAX_RETRY_WAIT_SECONDS) for n in range(MAIL_ATTEMPTS - 1))
    retried = f"about {round(waits / 3600)} hours"
    for doc, times in [("mail.md", 1), ("jobs.md", 2), ("attachments.md", 1)]:
        assert (ROOT / "docs" / doc).read_text().count(retried) == times, (doc, retried)
    assert MAIL_ATTEMPTS == STORE_ATTEMPTS == 16  # the docs say 16 of both
    challenge = f"challenge ({len(generate_challenge())} random bytes"
    assert challenge in (ROOT / "docs" / "security" / "two-step.md").read_text()
    # The API's search pages by keyset over the ranked matches; the search page by number.
    api = " ".join((ROOT / "docs" / "api.md").read_text().split())
    assert f"at most the newest {MAX_RANKED:,}" in api and "Both page by keyset" in api
    search = " ".join((ROOT / "docs" / "search.md").read_text().split())
    assert f"`page` values that are not 1 to {MAX_PAGE}, are 404" in search


# What a newcomer reads in an afternoon: every doc under docs/ together, and none alone so long
# that its point is lost. History, run logs and past figures belong in commit messages.
DOCS_CHARACTERS = 200_000
DOC_CHARACTERS = 15_000


def test_the_docs_stay_short_enough_to_read_in_an_afternoon():
    """A newcomer, an operator or a security reviewer can read all of docs/ in an afternoon and
    find each answer in a file short enough to read whole: what is true now, each thing said once
    and linked from elsewhere. A doc that grows past its share is condensed, not split."""
    sizes = {
        str(path.relative_to(ROOT)): len(path.read_text())
        for path in sorted((ROOT / "docs").rglob("*.md"))
    }
    too_long = {name: size for name, size in sizes.items() if size > DOC_CHARACTERS}
    assert too_long == {}, f"each doc at most {DOC_CHARACTERS:,} characters"
    assert sum(sizes.values()) <= DOCS_CHARACTERS, f"docs/ at most {DOCS_CHARACTERS:,} characters"
