"""The manifest, the service worker, the offline page and the outbox's CSRF token."""

from flask import current_app, jsonify, render_template, request, url_for
from flask_babel import force_locale, gettext
from flask_login import login_required
from flask_wtf.csrf import generate_csrf

from app.build import code_release
from app.i18n.choice import html_lang
from app.i18n.languages import LANGUAGES
from app.models import CONTENT_MAX_LENGTH, TITLE_MAX_LENGTH
from app.offline import bp
from app.offline.sharing import SHARED_LINK_BYTES, SHARES_KEPT

# What the worker keeps from its installation on: the pages' own files and the offline page.
STATIC_FILES = (
    "style.css",
    "confirm.js",
    "drafts.js",
    "pocket.js",
    "editor.js",
    "icon.svg",
    "icon-192.png",
)
# The budget of the offline copies (docs/security.md): the pages last read, and one page's size.
KEPT_PAGES = 200
KEPT_PAGE_BYTES = 512 * 1024
# How long a page waits for the network before a kept copy is shown instead.
NETWORK_WAIT_MS = 3000
THEME = "#0b5fff"
# The platform's build commit, as the release phase reads it (app/release/records.py, which the
# web process does not load).
NOT_KEPT = {"Cache-Control": "no-cache"}
# What the share sheet offers Memo for. Memo attaches any type, but a share target must name
# them: Chrome matches a share's types against this list, and "*/*" or "application/*" is
# not honoured everywhere. Types first, then the same by extension (a file an app names badly).
SHARED_FILES_FIELD = "files"
SHARED_TYPES = (
    "image/*",
    "audio/*",
    "video/*",
    "text/*",
    "application/pdf",
    "application/zip",
    "application/msword",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.ms-excel",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.ms-powerpoint",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
    "application/x-hwp",
    "application/vnd.hancom.hwpx",
    ".pdf",
    ".txt",
    ".md",
    ".csv",
    ".doc",
    ".docx",
    ".xls",
    ".xlsx",
    ".ppt",
    ".pptx",
    ".hwp",
    ".hwpx",
    ".zip",
)


def manifest_of(language):
    """Return the web app manifest in `language`."""
    with force_locale(language):
        return {
            "id": "/",
            "scope": "/",
            "start_url": "/",
            "display": "standalone",
            "lang": language,
            "dir": "ltr",
            "name": "Memo",
            "short_name": "Memo",
            "description": gettext("Your notes, on every device, and in flight mode too."),
            "background_color": "#f6f8fa",
            "theme_color": THEME,
            "icons": [
                {"src": static("icon.svg"), "sizes": "any", "type": "image/svg+xml"},
                {"src": static("icon-192.png"), "sizes": "192x192", "type": "image/png"},
                {"src": static("icon-512.png"), "sizes": "512x512", "type": "image/png"},
                {
                    "src": static("icon-maskable-512.png"),
                    "sizes": "512x512",
                    "type": "image/png",
                    "purpose": "maskable",
                },
            ],
            "screenshots": [
                screenshot("narrow", "390x844", language, gettext("Your notes on a phone")),
                screenshot("wide", "1280x800", language, gettext("Your notes on a computer")),
            ],
            "share_target": {
                "action": url_for("notes.shared_without_worker"),
                "method": "POST",
                "enctype": "multipart/form-data",
                "params": {
                    "title": "title",
                    "text": "text",
                    "url": "url",
                    "files": [{"name": SHARED_FILES_FIELD, "accept": list(SHARED_TYPES)}],
                },
            },
        }


def static(filename):
    """Return the URL of one of the app's own files."""
    return url_for("static", filename=filename)


def screenshot(form_factor, sizes, language, label):
    """Return a manifest screenshot entry of the given form factor (narrow or wide): the note
    list in the manifest's language."""
    return {
        "src": static(f"screenshot-{form_factor}-{language}.png"),
        "sizes": sizes,
        "type": "image/png",
        "form_factor": form_factor,
        "label": label,
    }


def asked_language():
    """Return the language `?lang=` names, else the page's own."""
    asked = request.args.get("lang", "")
    return asked if asked in LANGUAGES else html_lang()


@bp.get("/manifest.webmanifest")
def manifest():
    """Serve the manifest in the language asked for (each page links its own)."""
    response = jsonify(manifest_of(asked_language()))
    response.mimetype = "application/manifest+json"
    response.headers.update(NOT_KEPT)
    return response


@bp.get("/sw.js")
def service_worker():
    """Serve the service worker from the root, so that its scope is the whole site."""
    script = render_template(
        "offline/sw.js",
        release=code_release(),
        precache=[static(name) for name in STATIC_FILES],
        offline_pages={code: url_for("offline.page", lang=code) for code in LANGUAGES},
        unavailable_pages={code: url_for("offline.unavailable", lang=code) for code in LANGUAGES},
        kept_pages=KEPT_PAGES,
        kept_page_bytes=KEPT_PAGE_BYTES,
        network_wait_ms=NETWORK_WAIT_MS,
        share_action=url_for("notes.shared_without_worker"),
        share_field=SHARED_FILES_FIELD,
        share_files=current_app.config["ATTACHMENTS_PER_NOTE"],
        share_file_bytes=current_app.config["ATTACHMENT_MAX_BYTES"],
        share_link_bytes=SHARED_LINK_BYTES,
        shares_kept=SHARES_KEPT,
        shared_bytes=current_app.config["ATTACHMENTS_PER_NOTE"]
        * current_app.config["ATTACHMENT_MAX_BYTES"],
        title_length=TITLE_MAX_LENGTH,
        content_length=CONTENT_MAX_LENGTH,
        new_note=url_for("notes.create"),
    )
    return script, 200, {"Content-Type": "text/javascript; charset=utf-8", **NOT_KEPT}


@bp.get("/offline")
def page():
    """Say that Memo cannot be reached; the worker shows this for a page it did not keep."""
    with force_locale(asked_language()):
        return render_template("offline/page.html", language=asked_language())


@bp.get("/offline/unavailable")
def unavailable():
    """Say that a button pressed offline (pin, delete, a reminder, ...) needs Memo and changed
    nothing; the worker shows this when such a form's POST cannot reach Memo."""
    with force_locale(asked_language()):
        return render_template("offline/page.html", language=asked_language(), pressed=True)


@bp.get("/offline/token")
@login_required
def token():
    """Give the outbox (app/static/drafts.js) a CSRF token of this sign-in, just before it
    sends: never the one of a page kept from before."""
    return jsonify(csrf_token=generate_csrf()), 200, {"Cache-Control": "no-store"}
