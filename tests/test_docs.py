"""The docs say what the code does: every file, link and variable they name exists.

The drift a review finds most often is a doc naming something that moved: a module, a test
file, a section another doc links to, a setting. These are checked; the prose is not.
"""

import re

import pytest

from devenv import ROOT

DOCS = [ROOT / "README.md", ROOT / "bench" / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)")
# A path in backticks under one of the repository's own folders: `app/models/access.py`.
NAMED_PATH = re.compile(
    r"`((?:app|tests|devenv|scripts|bench|migrations|docs|front)/[\w./-]+?)(?:::\w+)?`"
)
HEADING = re.compile(r"^#+\s+(.*)$", re.M)


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


def test_every_variable_is_in_the_configuration_doc():
    documented = (ROOT / "docs" / "configuration.md").read_text()
    example = (ROOT / ".env.example").read_text().splitlines()
    names = [line.split("=")[0] for line in example if line and not line.startswith("#")]
    assert [name for name in names if f"`{name}`" not in documented] == []
