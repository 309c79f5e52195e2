"""The units of app/ depend on each other one way: no two of them import each other, and no
chain of imports between them comes back to where it started (docs/development.md, "Layout").
A unit is what sits directly under app/: each package, and each loose module (app/forms.py);
and each package under app/features/ (the feature `notes` is app/features/notes/).

The graph is read from the source with `ast` (tests/importgraph.py), imports inside functions
included, so an import moved into a function to dodge Python's circular import is a tie all
the same. The checker takes the package's folder, so it is tried on small trees made here as
well as on app/.
"""

import textwrap
from pathlib import Path

from devenv import ROOT
from tests.importgraph import cycles, unit_graph


def two_way_ties(edges):
    """Return the pairs of units that import each other, each with who does it."""
    return [
        f"{first} <-> {second}: {edges[first][second]} and {edges[second][first]}"
        for first in sorted(edges)
        for second in sorted(edges[first])
        if first < second and first in edges.get(second, {})
    ]


def make_tree(tmp_path, files):
    """Write a package `app` of these {relative path: source} files; return its folder."""
    root = tmp_path / "app"
    for name, source in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source))
    return root


def test_two_packages_that_import_each_other_are_a_tie(tmp_path):
    root = make_tree(
        tmp_path,
        {
            "__init__.py": "",
            "notes/__init__.py": "",
            "notes/routes.py": "from app.shares.routes import panel\n",
            "shares/__init__.py": "",
            "shares/routes.py": "from app.notes import lookup\n",
        },
    )
    edges = unit_graph(root)
    assert two_way_ties(edges) == [
        "notes <-> shares: ['app.notes.routes'] and ['app.shares.routes']"
    ]
    assert cycles(edges) == [["notes", "shares"]]


def test_an_import_inside_a_function_or_relative_counts_too(tmp_path):
    root = make_tree(
        tmp_path,
        {
            "auth/__init__.py": "",
            "auth/routes.py": "def sign_in():\n    from app.passkeys import forms\n",
            "passkeys/__init__.py": "",
            "passkeys/forms.py": "from ..auth import throttle\n",
        },
    )
    assert two_way_ties(unit_graph(root)) == [
        "auth <-> passkeys: ['app.auth.routes'] and ['app.passkeys.forms']"
    ]


def test_a_cycle_of_three_packages_is_found_without_any_tie(tmp_path):
    root = make_tree(
        tmp_path,
        {
            "api/__init__.py": "from app import notes\n",
            "notes/__init__.py": "",
            "notes/idempotency.py": "from app.tokens import service\n",
            "tokens/__init__.py": "",
            "tokens/service.py": "import app.api.problems\n",
            "mail.py": "from app.api import problems\n",  # a loose module, which no one imports
        },
    )
    edges = unit_graph(root)
    assert two_way_ties(edges) == []
    assert cycles(edges) == [["api", "notes", "tokens"]]


def test_a_cycle_through_loose_modules_is_found(tmp_path):
    root = make_tree(
        tmp_path,
        {
            "models/work.py": "from app.i18n.stored import message\n",
            "i18n/stored.py": "",
            "i18n/forms.py": "from app.forms import Form\n",
            "forms.py": "from app import throttle\n",
            "throttle.py": "def limit():\n    from app.models import work\n",
        },
    )
    assert cycles(unit_graph(root)) == [["forms", "i18n", "models", "throttle"]]


def test_the_packages_in_features_are_units_like_the_platform_s(tmp_path):
    root = make_tree(
        tmp_path,
        {
            "features/__init__.py": "",
            "features/notes/routes.py": "from app.features.shares import panel\nimport app.mail\n",
            "features/shares/panel.py": "from app.features.notes import routes\n",
            "mail.py": "from app.models import User\n",
            "models/__init__.py": "",
        },
    )
    edges = unit_graph(root)
    assert set(edges) == {"notes", "shares", "mail", "models"}
    assert two_way_ties(edges) == [
        "notes <-> shares: ['app.features.notes.routes'] and ['app.features.shares.panel']"
    ]
    assert edges["notes"]["mail"] == ["app.features.notes.routes"]


def test_packages_layered_one_way_pass(tmp_path):
    root = make_tree(
        tmp_path,
        {
            "models/__init__.py": "",
            "notes/service.py": "from app.models import Note\nfrom app import mail\n",
            "pages/note.py": "from app.notes import service\nfrom app.models import Note\n",
            "mail.py": "from app.models import User\n",
        },
    )
    edges = unit_graph(root)
    assert edges["pages"] == {"notes": ["app.pages.note"], "models": ["app.pages.note"]}
    assert two_way_ties(edges) == [] and cycles(edges) == []


def test_no_two_units_of_app_import_each_other():
    assert two_way_ties(unit_graph(Path(ROOT, "app"))) == []


def test_no_units_of_app_import_each_other_round_a_cycle():
    assert cycles(unit_graph(Path(ROOT, "app"))) == []
