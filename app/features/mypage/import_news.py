"""How the latest import goes, for my page to follow without reloading (static/progress.js).

The words are my page's own (templates/mypage/_import_status.html), so the page and this
answer never say it two ways.
"""

from flask import abort, get_template_attribute
from flask_login import current_user, login_required

from app.features.mypage.routes import bp
from app.models import AccountImport
from app.models.work import UNFINISHED

STATUS_TEMPLATE = "mypage/_import_status.html"


@bp.get("/import/status")
@login_required
def import_status():
    """Answer where the latest import is, as JSON: its state, its words and their style."""
    latest = AccountImport.latest(current_user.id)
    if latest is None:
        abort(404)
    words = get_template_attribute(STATUS_TEMPLATE, "words")(latest)
    kind = get_template_attribute(STATUS_TEMPLATE, "kind")(latest)
    return {
        "status": latest.status,
        "finished": latest.status not in UNFINISHED,
        "message": words.striptags(),
        "class": f"flash flash-{kind.strip()}",
        "role": "alert" if latest.status == "failed" else "status",
    }
