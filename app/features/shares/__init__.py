"""Share links: one note, read-only, for whoever has its link (`/s/<token>`), until it expires
or is revoked. The blueprint and its routes are in routes.py; links.py keeps the links.
"""
