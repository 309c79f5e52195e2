"""The baseline: TechEmpower's "fortunes" test as a bare Flask app (no ORM, no extensions).

One raw psycopg2 query per request, one fortune added at request time, the list
sorted by message and rendered by a Jinja template with autoescaping, the way
TechEmpower's Flask entries do it. bench/end_to_end.py serves it with the same gunicorn
settings as Memo (gunicorn.conf.py, WEB_CONCURRENCY x WEB_THREADS, `app`), without
Memo's front (front/), so the two can be compared on one machine in one run. DATABASE_URL
names the database whose `fortune` table bench/end_to_end.py fills.
"""

import os
import threading
from operator import itemgetter

import psycopg2
from flask import Flask, render_template

app = Flask(__name__)
# One connection per gunicorn thread, kept for the thread's life, like Memo's pool
# (pool_size = WEB_THREADS). psycopg2's own pool would close every connection above
# its minimum after each use.
local = threading.local()


def connection():
    """Return this thread's connection, opened on first use, in autocommit mode."""
    if getattr(local, "connection", None) is None:
        local.connection = psycopg2.connect(os.environ["DATABASE_URL"])
        # A lone SELECT needs no BEGIN/ROLLBACK round trips.
        local.connection.autocommit = True
    return local.connection


@app.get("/fortunes")
def fortunes():
    """List the fortunes, plus one added now, sorted by message."""
    with connection().cursor() as cursor:
        cursor.execute("SELECT id, message FROM fortune")
        rows = cursor.fetchall()
    rows.append((0, "Additional fortune added at request time."))
    rows.sort(key=itemgetter(1))
    return render_template("fortunes.html", fortunes=rows)
