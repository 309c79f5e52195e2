#!/usr/bin/env python3
"""Boot as a gunicorn worker does and serve `/` once; print the timings as JSON.

    .venv/bin/python bench/boot_probe.py COOKIE

bench/web.py runs this in fresh processes to time worker boots. Before forking, the
master reads gunicorn.conf.py, which checks the configuration; the worker then imports
wsgi (the app factory runs) and serves. This file imports nothing else, so that the
whole process's time is the interpreter's and the app's.
"""

import json
import runpy
import sys
import time

from devenv import ROOT


def main(cookie):
    """Time the master's work, the worker's import and its first request."""
    started = time.perf_counter()
    runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    import gunicorn.workers.gasgi  # noqa: F401  (the master loads the worker class too)

    forked = time.perf_counter()
    import wsgi

    imported = time.perf_counter()
    client = wsgi.app.test_client(use_cookies=False)
    response = client.get("/", headers={"Cookie": cookie, "X-Forwarded-Proto": "https"})
    served = time.perf_counter()
    assert response.status_code == 200, response.status_code
    timings = {"master_s": forked - started, "import_s": imported - forked}
    print(json.dumps({**timings, "first_request_s": served - imported}))


if __name__ == "__main__":
    main(sys.argv[1])
