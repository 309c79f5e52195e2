"""The features: one package each (its blueprint, forms, jobs and own modules).

A feature may import the platform at app/'s root; the platform never imports a feature
(docs/development.md, "Layout").
"""

from flask import current_app


def setting(name):
    """Return the current app's setting `name` (config.py)."""
    return current_app.config[name]
