"""The shape of app/: its import graph has no cycle, and nothing below a feature imports one.

Read from the source with `ast` (nothing is imported), so a cycle that Python happens to
survive today, or an import hidden inside a function, is found all the same.
"""

import ast
from pathlib import Path

APP = Path(__file__).resolve().parent.parent / "app"
FEATURES = ("auth", "notes", "mypage", "wordcount", "attachments", "search")


def module_name(path):
    """Return the dotted name of a module file under app/."""
    parts = path.relative_to(APP.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def app_modules():
    """Return {dotted name: parsed tree} for every module of app/."""
    return {module_name(path): ast.parse(path.read_text()) for path in APP.rglob("*.py")}


def imported(node, modules):
    """Return the modules of app/ an import statement names (`from app import jobs` is app.jobs)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names if alias.name in modules]
    if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module in modules:
        names = [f"{node.module}.{alias.name}" for alias in node.names]
        return [name for name in names if name in modules] or [node.module]
    return []


def flask_blueprint_pattern(importer, target):
    """Whether this is a feature's __init__ importing its routes, so they attach to its `bp`.

    Flask's own pattern for a package (flask.palletsprojects.com, "Larger Applications"): the
    package defines `bp`, then imports the module whose routes use it.
    """
    return importer in {f"app.{feature}" for feature in FEATURES} and target == f"{importer}.routes"


def import_graph():
    """Return {module: set of modules it imports}, with where each import is (for messages)."""
    modules = app_modules()
    graph = {name: {} for name in modules}
    for name, tree in modules.items():
        for node in ast.walk(tree):
            for target in imported(node, modules):
                if target != name and not flask_blueprint_pattern(name, target):
                    graph[name].setdefault(target, node.lineno)
    return graph, modules


def find_cycle(graph):
    """Return one cycle of the graph as a list of modules, or None."""
    done, path = set(), []

    def visit(name):
        if name in path:
            return path[path.index(name) :] + [name]
        if name in done:
            return None
        path.append(name)
        for target in sorted(graph[name]):
            cycle = visit(target)
            if cycle:
                return cycle
        path.pop()
        done.add(name)
        return None

    for name in sorted(graph):
        cycle = visit(name)
        if cycle:
            return cycle
    return None


def feature_of(name):
    """Return the feature package a module belongs to, or None for a module below them."""
    parts = name.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in FEATURES else None


def is_lower(name):
    """Whether a module sits below the features: the app's shared modules, not the factory."""
    return name != "app" and feature_of(name) is None


def test_the_import_graph_of_app_has_no_cycle():
    graph, _ = import_graph()
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


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
    """An import inside a function hides a cycle; only a comment's reason may keep one there."""
    _, modules = import_graph()
    sources = {path: path.read_text().splitlines() for path in APP.rglob("*.py")}
    nested = []
    for path, lines in sources.items():
        tree = modules[module_name(path)]
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(function):
                if (
                    isinstance(node, ast.Import | ast.ImportFrom)
                    and "#" not in lines[node.lineno - 1]
                ):
                    nested.append(f"{path.relative_to(APP.parent)}:{node.lineno}")
    assert nested == []


def test_jobs_imports_no_feature():
    graph, _ = import_graph()
    assert [target for target in graph["app.jobs"] if feature_of(target)] == []
