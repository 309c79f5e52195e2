"""Security headers on every response: a strict CSP, no sniffing or framing, HSTS behind HTTPS.

Every response made for a signed-in user is `Cache-Control: no-store`: neither a shared
cache nor the back button after sign-out shows a page of someone's data. The pages that
answer 304 (app/revalidation.py) are `private, no-cache` instead: the browser's copy is
asked about on every visit, with the session's cookie (`Vary: Cookie`), and never shared.
"""

from urllib.parse import urlsplit

from flask import request

from app import storage
from app.accounts.sessions import made_for_a_signed_in_user
from app.revalidation import REVALIDATE


def origin_of(url):
    """Return the scheme://host[:port] of a URL, or "" when it has none."""
    parts = urlsplit(url)
    if not (parts.scheme and parts.hostname):
        return ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme.lower()}://{parts.hostname}{port}"


def content_security_policy(image_origin, upload_origin=""):
    """Return a policy for this site's own files, photos, and attachments sent to the bucket."""
    images = " ".join(filter(None, ["'self'", image_origin]))
    uploads = " ".join(filter(None, ["'self'", upload_origin]))
    return "; ".join(
        [
            "default-src 'self'",
            f"img-src {images}",
            "script-src 'self'",
            "style-src 'self'",
            f"connect-src {uploads}",
            f"form-action {uploads}",
            "frame-ancestors 'none'",
            "base-uri 'none'",
            "object-src 'none'",
        ]
    )


def init_app(app):
    """Add the security headers to every response the app makes, errors and static files too."""
    headers = {
        "Content-Security-Policy": content_security_policy(
            origin_of(app.config["S3_PUBLIC_URL"]), origin_of(storage.upload_url(app.config))
        ),
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        # Same-origin requests keep the full Referer, which Flask-WTF's HTTPS check needs.
        "Referrer-Policy": "strict-origin-when-cross-origin",
    }
    hsts_max_age = app.config["HSTS_MAX_AGE"]

    @app.after_request
    def add_security_headers(response):
        for name, value in headers.items():  # a view may set a stricter one of its own
            response.headers.setdefault(name, value)
        if made_for_a_signed_in_user():
            if response.headers.get("Cache-Control") != REVALIDATE:
                response.headers["Cache-Control"] = "no-store"
            response.vary.add("Cookie")
        # Browsers ignore HSTS over plain HTTP; behind the router, ProxyFix makes this https.
        if hsts_max_age and request.is_secure:
            response.headers["Strict-Transport-Security"] = (
                f"max-age={hsts_max_age}; includeSubDomains"
            )
        return response
