"""The fortunes page as a blueprint of Memo itself: the bench's bare page, never shipped.

bench/instructions.py registers it on the app that wsgi.py makes, so the page goes through
Memo's app factory, its middleware and every request hook (the request log, security
headers, sessions, languages, CSRF) like the notes list does, and differs from it only in
what the view does: one query of TechEmpower's twelve fortunes (a `fortune` table that
bench/seeding.py's seed_fortunes makes in Memo's database), one added, sorted, and a
template of a dozen lines with autoescaping.
"""

from operator import itemgetter
from pathlib import Path

from flask import Blueprint, render_template
from sqlalchemy import text

bp = Blueprint("bench_fortunes", __name__, template_folder=str(Path(__file__).parent / "templates"))
FORTUNES = text("SELECT id, message FROM fortune")


@bp.get("/bench/fortunes")
def fortunes():
    """List the fortunes, plus one added now, sorted by message."""
    from app.extensions import db

    rows = [tuple(row) for row in db.session.execute(FORTUNES)]
    rows.append((0, "Additional fortune added at request time."))
    rows.sort(key=itemgetter(1))
    return render_template("fortunes.html", fortunes=rows)
