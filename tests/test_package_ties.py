"""The packages of app/ depend on each other one way: no two of them import each other, and no
chain of imports between packages comes back to where it started (docs/development.md,
"Layout").

The graph is read from the source with `ast`, imports inside functions included, so an
import moved into a function to dodge Python's circular import is a tie all the same. The
checker takes the package's folder, so it is tried on small trees made here as well as on
app/.
"""

import ast
import textwrap
from pathlib import Path

from devenv import ROOT


def module_of(path, root):
    """Return the dotted name of a module file under the package folder `root`."""
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_names(node, module, is_package):
    """Return the dotted names an import statement may reach, relative ones resolved."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:
        parts = module.split(".")
        kept = len(parts) - node.level + (1 if is_package else 0)
        base = ".".join(parts[:kept] + ([node.module] if node.module else []))
    return [base] + [f"{base}.{alias.name}" for alias in node.names]


def package_imports(root):
    """Return {package of root: {package it imports: [modules that import it]}}.

    A package is a folder directly under `root`; a loose module there belongs to none."""
    packages = {path.name for path in root.iterdir() if path.is_dir() and any(path.rglob("*.py"))}

    def package_of(name):
        parts = name.split(".")
        if parts[0] == root.name and len(parts) > 1 and parts[1] in packages:
            return parts[1]
        return None

    edges = {package: {} for package in packages}
    for path in sorted(root.rglob("*.py")):
        module = module_of(path, root)
        source = package_of(module)
        if source is None:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            for name in imported_names(node, module, path.name == "__init__.py"):
                target = package_of(name)
                if target and target != source:
                    importers = edges[source].setdefault(target, [])
                    if module not in importers:
                        importers.append(module)
    return edges


def two_way_ties(edges):
    """Return the pairs of packages that import each other, each with who does it."""
    return [
        f"{first} <-> {second}: {edges[first][second]} and {edges[second][first]}"
        for first in sorted(edges)
        for second in sorted(edges[first])
        if first < second and first in edges.get(second, {})
    ]


def cycles(edges):
    """Return each group of packages that reach each other through imports (Tarjan's strongly
    connected components), sorted; a group of one is no cycle."""
    index, low, stack, groups = {}, {}, [], []

    def visit(package):
        index[package] = low[package] = len(index)
        stack.append(package)
        for target in edges.get(package, {}):
            if target not in index:
                visit(target)
                low[package] = min(low[package], low[target])
            elif target in stack:
                low[package] = min(low[package], index[target])
        if low[package] == index[package]:
            group = []
            while not group or group[-1] != package:
                group.append(stack.pop())
            if len(group) > 1:
                groups.append(sorted(group))

    for package in sorted(edges):
        if package not in index:
            visit(package)
    return sorted(groups)


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
    edges = package_imports(root)
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
    assert two_way_ties(package_imports(root)) == [
        "auth <-> passkeys: ['app.auth.routes'] and ['app.passkeys.forms']"
    ]


def test_a_cycle_of_three_packages_is_found_without_any_tie(tmp_path):
    root = make_tree(
        tmp_path,
        {
            "api/__init__.py": "from app import notes\n",
            "notes/__init__.py": "",
            "notes/once.py": "from app.tokens import service\n",
            "tokens/__init__.py": "",
            "tokens/service.py": "import app.api.problems\n",
            "mail.py": "from app.api import problems\n",  # a loose module: no package
        },
    )
    edges = package_imports(root)
    assert two_way_ties(edges) == []
    assert cycles(edges) == [["api", "notes", "tokens"]]


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
    edges = package_imports(root)
    assert edges["pages"] == {"notes": ["app.pages.note"], "models": ["app.pages.note"]}
    assert two_way_ties(edges) == [] and cycles(edges) == []


def test_no_two_packages_of_app_import_each_other():
    assert two_way_ties(package_imports(Path(ROOT, "app"))) == []


def test_no_packages_of_app_import_each_other_round_a_cycle():
    assert cycles(package_imports(Path(ROOT, "app"))) == []
