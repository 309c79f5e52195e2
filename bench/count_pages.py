#!/usr/bin/env python3
"""Instructions a request of a few pages, in whichever checkout comes first on PYTHONPATH.

    PYTHONPATH=CHECKOUT .venv/bin/python bench/count_pages.py N PAGE [PAGE ...]

bench/targets.py runs this file in each commit's checkout: the `bench` and `app` packages
imported here are that checkout's own (its seed, its pages, its served app, its migrations),
so an older commit is counted as its own bench counted it. Pages that checkout does not know
are left out. Prints {page: instructions a request} as JSON on its last line.
"""

import json
import shutil
import sys
import tempfile
from pathlib import Path

from bench.instructions import Database, instructions, memo_app, pages_to_serve, seed


def main():
    requests, wanted = int(sys.argv[1]), sys.argv[2:]
    folder = Path(tempfile.mkdtemp(prefix="memo-bench-count-"))
    database = Database(folder)
    try:
        app = memo_app(database, "WARNING")
        pages = pages_to_serve(app, seed(database, []))
        pages = {name: page for name, page in pages.items() if name in wanted}
        counts = instructions(pages, requests, folder)
    finally:
        database.stop()
        shutil.rmtree(folder, ignore_errors=True)
    print(json.dumps({name: figure for name, (figure, _) in counts.items()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
