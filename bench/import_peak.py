#!/usr/bin/env python3
"""The import's peak memory: the process that parses an upload, on hostile and full archives.

    .venv/bin/python bench/import_peak.py

Each archive is written to a temporary file first; then a fresh interpreter loads the app as
`flask worker` does and reads it with app/features/mypage/importing.py's parse() (the stream parse,
the counting against the account's limits, the text decoding: everything the job does before
it writes), and reports its RSS after loading, its peak RSS (VmHWM) and the time taken.
The archives: the issue's 1.4 MB `{"notes":[{},{},…]}` (49 MiB unpacked), 100,000 nested
brackets, one 49 MiB string, and a legitimate export at the account's limits (10,000 notes,
40 MB of text).
Prints JSON; bench/README.md has the figures of a run.
"""

import base64
import json
import os
import random
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from devenv import ROOT
from devenv.archives import empty_notes_archive

CHILD = """
import json, sys, time
from app import create_app
from app.features.mypage import importing
from devenv.memory import rss_mb
app = create_app("config.TestingConfig")  # never connects: parse() reads the file only
loaded = rss_mb()
started = time.perf_counter()
with app.app_context(), open(sys.argv[1], "rb") as upload:
    try:
        notes, archive = importing.parse("memo-export.zip", upload, importing.limits())
        outcome = f"{len(notes)} notes read"
    except importing.ImportFileRefused as refused:
        outcome = f"refused: {refused}"
print(json.dumps({
    "rss_after_loading_mb": round(loaded, 1),
    "peak_rss_mb": round(rss_mb(peak=True), 1),
    "seconds": round(time.perf_counter() - started, 2),
    "outcome": outcome,
}))
"""


def nested_archive():
    document = '{"results": ' + "[" * 100_000 + "]" * 100_000 + ', "notes": []}'
    return {"account.json": document.encode()}, zipfile.ZIP_STORED


def one_long_string():
    """One note whose content is a 49 MiB string (stored): the largest value ijson hands over."""
    document = b'{"notes":[{"id":1,"title":"a","content":"' + b"x" * (49 * 2**20) + b'"}]}'
    return {"account.json": document}, zipfile.ZIP_STORED


def full_export():
    """10,000 notes of 4,000 characters each, barely compressible: 40 MB of text, within the
    account's 50 MiB (a note's own text is at most 20,000 characters)."""
    chooser = random.Random(47)  # noqa: S311  (filler text, not a secret)
    notes = [
        {"id": number, "title": f"회의 {number}",
         "content": base64.b64encode(chooser.randbytes(3000)).decode(),
         "created_at": "2025-01-01T00:00:00+00:00", "updated_at": "2025-01-01T00:00:00+00:00"}
        for number in range(10_000)
    ]  # fmt: skip
    document = json.dumps({"notes": notes, "attachments": []}, ensure_ascii=False)
    return {"account.json": document.encode()}, zipfile.ZIP_DEFLATED


def write_zip(path, entries, compression):
    with zipfile.ZipFile(path, "w", compression) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)


def measure(path):
    child = subprocess.run(
        [sys.executable, "-c", CHILD, str(path)],
        cwd=ROOT,
        capture_output=True,
        check=False,
        env={**os.environ, "TEST_DATABASE_URL": "postgresql://memo@127.0.0.1:1/unused"},
    )
    if child.returncode:
        sys.exit(child.stderr.decode())
    return json.loads(child.stdout.decode().strip().splitlines()[-1])


def main():
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        issue = Path(folder, "empty-notes.zip")
        issue.write_bytes(empty_notes_archive())
        cases = {"empty notes (issue #47)": issue}
        for name, (entries, compression) in {
            "100,000 nested brackets": nested_archive(),
            "one 49 MiB string": one_long_string(),
            "full export, 10,000 notes": full_export(),
        }.items():
            cases[name] = Path(folder, f"{len(cases)}.zip")
            write_zip(cases[name], entries, compression)
        for name, path in cases.items():
            results[name] = {"archive_mb": round(path.stat().st_size / 2**20, 2), **measure(path)}
    print(json.dumps(results, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
