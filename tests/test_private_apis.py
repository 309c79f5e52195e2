"""Libraries are used through their public APIs; the few private names Memo reaches, and the
library modules it changes for the whole process, are listed here, each with its reason and,
where it is a library's internals, the version it was read against.

The code that runs (app/, front/, migrations/env.py and the top-level modules) is read with
`ast`: a name starting with one underscore reached on anything but `self` or `cls`, imported
from a library, or asked of getattr(); and an attribute of a library's module assigned to.
A new one fails the first test until it is listed with its reason (better: replaced); a listed
one no longer used fails the second; an upgrade of a pinned library fails the third, so that
its source is read again before the pin moves.
"""

import ast
import importlib
import importlib.metadata
import inspect
from functools import cache
from typing import NamedTuple

from devenv import ROOT

SCANNED = [
    *sorted((ROOT / "app").rglob("*.py")),
    *sorted((ROOT / "front").rglob("*.py")),
    ROOT / "migrations" / "env.py",
    *sorted(ROOT.glob("*.py")),
]
OWN = {"app", "front", "migrations", "config", "config_budgets", "config_parsing", "devenv"}


class Listed(NamedTuple):
    """Why a private name is used, and the library and version it was read against (None for
    a name its library documents)."""

    reason: str
    library: str | None = None
    version: str | None = None


PROXY = (
    "Werkzeug's LocalProxy method, documented by Flask ('Notes On Proxies') as the way to "
    "hand the object behind current_user/current_app to code that keeps it"
)
H11_CHUNKS = (
    "h11 has no option for the grammar of a chunk extension, and reads any byte but LF in "
    "one (a lone CR or a NUL too, which a proxy before the front may take for a line's end): "
    "front/framing.py puts RFC 9112 §7.1.1's in place of the pattern its reader looks up on "
    "every chunk (tests/test_front_smuggling.py)"
)
PRIVATE = {
    "current_user._get_current_object": Listed(PROXY),
    "current_app._get_current_object": Listed(PROXY),
    "os._exit": Listed("the standard library's documented exit of a child without cleanup"),
    "h11._readers": Listed(H11_CHUNKS, "h11", "0.16.0"),
}
# Attributes of a library's module that Memo assigns, for every user of it in the process.
PATCHED = {
    "h11._readers.chunk_header_re": Listed(H11_CHUNKS, "h11", "0.16.0"),
    "Image.MAX_IMAGE_PIXELS": Listed(
        "Pillow's documented setting of its decompression-bomb limit (a module attribute, "
        "no option of Image.open); app/images.py checks its own limit first"
    ),
    "tempfile.tempdir": Listed(
        "the standard library's documented default folder of temporary files: the front "
        "process's own folder, which it removes when it stops"
    ),
}


def is_private(name):
    """Whether `name` is private by Python's convention: one leading underscore, not a dunder."""
    return name.startswith("_") and not name.startswith("__")


def is_library(module):
    """Whether a module named in an import is a library's (not Memo's own, not relative)."""
    return module is not None and module.split(".")[0] not in OWN


def private_uses(tree):
    """Yield (line, expression) for each private name a module reaches."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and is_private(node.attr):
            root = node.value
            if not (isinstance(root, ast.Name) and root.id in ("self", "cls")):
                yield node.lineno, ast.unparse(node)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if any(is_private(part) for part in alias.name.split(".")):
                    yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and is_library(node.module):
            if any(is_private(part) for part in node.module.split(".")):
                yield node.lineno, node.module
            for alias in node.names:
                if is_private(alias.name):
                    yield node.lineno, f"{node.module}.{alias.name}"
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("getattr", "setattr", "hasattr")
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and is_private(str(node.args[1].value))
        ):
            yield node.lineno, f"{ast.unparse(node.args[0])}.{node.args[1].value}"


def is_module_import_call(node):
    """Whether `node` is `name = importlib.import_module("a library's module")`."""
    call = node.value if isinstance(node, ast.Assign) else None
    return (
        isinstance(call, ast.Call)
        and ast.unparse(call.func) in ("importlib.import_module", "import_module")
        and bool(call.args)
        and isinstance(call.args[0], ast.Constant)
        and is_library(str(call.args[0].value))
    )


def library_modules(tree):
    """Return the names a module's imports bind to a library's modules."""
    bound = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            bound |= {
                alias.asname or alias.name.split(".")[0]
                for alias in node.names
                if is_library(alias.name)
            }
        elif is_module_import_call(node):
            bound |= {target.id for target in node.targets if isinstance(target, ast.Name)}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and is_library(node.module):
            package = importlib.import_module(node.module)
            for alias in node.names:
                # `from markdown_it.rules_block import table` is a function, not the module
                if inspect.ismodule(getattr(package, alias.name, None)):
                    bound.add(alias.asname or alias.name)
    return bound


def patches(tree):
    """Yield (line, expression) for each attribute of a library's module the module assigns."""
    modules = library_modules(tree)
    for node in ast.walk(tree):
        targets = node.targets if isinstance(node, ast.Assign) else []
        if isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets = [node.target]
        for target in targets:
            root = target
            while isinstance(root, ast.Attribute):
                root = root.value
            if target is not root and isinstance(root, ast.Name) and root.id in modules:
                yield node.lineno, ast.unparse(target)


@cache
def found(kind):
    """Return {expression: [path:line, ...]} of every use of `kind` in the scanned code."""
    uses = {}
    for path in SCANNED:
        for line, expression in kind(ast.parse(path.read_text())):
            uses.setdefault(expression, []).append(f"{path.relative_to(ROOT)}:{line}")
    return uses


def test_every_private_name_and_patched_module_used_is_listed_with_its_reason():
    unlisted = {
        **{name: at for name, at in found(private_uses).items() if name not in PRIVATE},
        **{name: at for name, at in found(patches).items() if name not in PATCHED},
    }
    assert unlisted == {}, "use the library's public API, or list it here with the reason"


def test_every_listed_private_name_is_still_used():
    assert set(PRIVATE) - set(found(private_uses)) == set()
    assert set(PATCHED) - set(found(patches)) == set()


def test_each_librarys_internals_are_used_at_the_version_they_were_read_against():
    for name, listed in {**PRIVATE, **PATCHED}.items():
        if listed.library is not None:
            installed = importlib.metadata.version(listed.library)
            assert installed == listed.version, f"{name}: read {listed.library} {installed}"


def test_the_check_finds_a_private_name_an_import_and_a_patched_module():
    source = (
        "import h11._readers\n"
        "from markdown_it.rules_block import table\n"
        "import markdown_it.rules_block.table as table_module\n"
        "rule = importlib.import_module('markdown_it.rules_block.table')\n"
        "rule.MAX_AUTOCOMPLETED_CELLS = 1000\n"
        "from flask_migrate import _MigrateConfig\n"
        "table_module.MAX_AUTOCOMPLETED_CELLS = 1000\n"
        "table.limit = 1\n"
        "value = getattr(thing, '_hidden')\n"
        "self._mine = cls._ours = 1\n"
    )
    tree = ast.parse(source)
    assert {expression for _, expression in private_uses(tree)} == {
        "h11._readers",
        "flask_migrate._MigrateConfig",
        "thing._hidden",
    }
    assert [expression for _, expression in patches(tree)] == [
        "rule.MAX_AUTOCOMPLETED_CELLS",
        "table_module.MAX_AUTOCOMPLETED_CELLS",
    ]
