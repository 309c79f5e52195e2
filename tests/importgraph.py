"""The import graph of a package folder (app/), read from the source with `ast`: nothing is
imported, so a cycle Python happens to survive, or an import hidden inside a function, is
found all the same. Relative imports count; those only a type checker runs do not.

Its units are what sits directly under the folder: each package, and each loose module; and
each package in its features/ folder (app/features/notes is the unit `notes`).
Used by tests/test_layout.py (modules) and tests/test_package_ties.py (units).
"""

import ast


def module_of(path, root):
    """Return the dotted name of a module file under the package folder `root`."""
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def parsed_modules(root):
    """Return {dotted name: (path, parsed tree)} for every module under `root`."""
    return {
        module_of(path, root): (path, ast.parse(path.read_text())) for path in root.rglob("*.py")
    }


def runtime_imports(tree):
    """Yield a module's import statements, leaving out those only a type checker runs."""
    skipped = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            skipped.update(id(child) for child in ast.walk(node) if child is not node)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom) and id(node) not in skipped:
            yield node


def deepest(name, modules):
    """Return the deepest of `name` and its parents that is one of `modules`, as a list."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return [name] if name else []


def imported(node, module, is_package, modules):
    """Return the modules an import statement names (`from app import jobs` is app.jobs),
    relative ones resolved."""
    if isinstance(node, ast.Import):
        return [found for alias in node.names for found in deepest(alias.name, modules)]
    base = node.module or ""
    if node.level:
        parts = module.split(".")
        kept = len(parts) - node.level + (1 if is_package else 0)
        base = ".".join(parts[:kept] + ([node.module] if node.module else []))
    names = [f"{base}.{alias.name}" for alias in node.names]
    return [name for name in names if name in modules] or deepest(base, modules)


def module_graph(root):
    """Return ({module: {module it imports: line of the first such import}}, parsed modules)."""
    modules = parsed_modules(root)
    graph = {name: {} for name in modules}
    for name, (path, tree) in modules.items():
        for node in runtime_imports(tree):
            for target in imported(node, name, path.name == "__init__.py", modules):
                if target != name:
                    graph[name].setdefault(target, node.lineno)
    return graph, modules


def unit_of(module):
    """Return the unit a module belongs to: its package under the folder (or under its
    features/ folder), or itself if loose; None for the folders' own __init__."""
    parts = module.split(".")
    if parts[1:2] == ["features"]:
        parts = parts[1:]
    return parts[1] if len(parts) > 1 else None


def unit_graph(root):
    """Return {unit: {unit it imports: [modules that import it]}}."""
    graph, _ = module_graph(root)
    edges = {unit_of(name): {} for name in graph if unit_of(name)}
    for name, targets in sorted(graph.items()):
        for target in targets:
            source, reached = unit_of(name), unit_of(target)
            if source and reached and reached != source:
                importers = edges[source].setdefault(reached, [])
                if name not in importers:
                    importers.append(name)
    return edges


def cycles(edges):
    """Return each group of nodes that reach each other (Tarjan's strongly connected
    components), sorted; a group of one is no cycle."""
    index, low, stack, groups = {}, {}, [], []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in edges.get(node, {}):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while not group or group[-1] != node:
                group.append(stack.pop())
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return sorted(groups)
