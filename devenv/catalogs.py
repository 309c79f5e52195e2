"""The translation catalogs: extracting the app's strings, and checking the catalogs against them.

Shared by `scripts/dev.py translations` and tests/test_i18n.py, so that the test checks the
catalogs against exactly what the script extracts.
"""

import subprocess
import sys
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from devenv import ROOT

CATALOGS = ROOT / "app" / "translations"
SOURCE_LANGUAGE = "en"
# Besides gettext's usual names (_, gettext, ngettext, N_): lazy_gettext (as _l) for strings
# made at import time, and the English messages jobs store (app/i18n/stored.py).
KEYWORDS = ("_l", "lazy_gettext", "stored_message")
PYBABEL = Path(sys.executable).parent / "pybabel"
TEMPLATE_DATE = datetime(2026, 11, 23, tzinfo=UTC)


def pybabel(*args):
    """Run a pybabel command from the top of the repository; return its exit code."""
    return subprocess.call([str(PYBABEL), "-q", *args], cwd=ROOT)


def extract(template):
    """Write every translatable string of the app and the front to the catalog template."""
    keywords = [option for keyword in KEYWORDS for option in ("-k", keyword)]
    return pybabel(
        "extract", "-F", "babel.cfg", *keywords, "--no-location", "--sort-output",
        "--project", "Memo", "-o", str(template), "app", "front",
    )  # fmt: skip


def catalog_path(language, suffix="po"):
    """Return the path of a language's catalog (`po`) or compiled catalog (`mo`)."""
    return CATALOGS / language / "LC_MESSAGES" / f"messages.{suffix}"


def read_catalog(path):
    """Return the catalog in the .po or .pot file at `path`."""
    with Path(path).open("rb") as file:
        return read_po(file)


def languages():
    """Return the codes of every language that has a catalog."""
    return sorted(path.parent.parent.name for path in CATALOGS.glob("*/LC_MESSAGES/messages.po"))


def strings(message):
    """Return a message's translations as a tuple (one, or one per plural form)."""
    return message.string if isinstance(message.string, tuple) else (message.string,)


def problems(template, language):
    """Return what is wrong with a language's catalog: messages missing, empty or fuzzy."""
    catalog = read_catalog(catalog_path(language))
    found = []
    for wanted in read_catalog(template):
        if not wanted.id:
            continue
        message = catalog.get(wanted.id)
        if message is None:
            found.append(f"missing: {wanted.id!r}")
        elif message.fuzzy:
            found.append(f"fuzzy: {wanted.id!r}")
        elif not all(strings(message)):
            found.append(f"untranslated: {wanted.id!r}")
    return found


def compiled(language):
    """Return the .mo bytes that the language's .po compiles to."""
    output = BytesIO()
    write_mo(output, read_catalog(catalog_path(language)), use_fuzzy=False)
    return output.getvalue()


def tidy(language):
    """Pin a catalog's template date, and give the source language its own text as translation.

    The date would change at every update and make parallel branches' catalogs conflict on it;
    English, the source, reads as itself.
    """
    path = catalog_path(language)
    catalog = read_catalog(path)
    catalog.creation_date = TEMPLATE_DATE
    for message in catalog:
        if language == SOURCE_LANGUAGE and message.id and not any(strings(message)):
            message.string = message.id
    with path.open("wb") as file:
        write_po(file, catalog, sort_output=True, no_location=True, width=96)
