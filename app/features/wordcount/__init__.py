"""Word counts: fetch a web page (or read a note) and count its words, as flask-by-example did.

The blueprint `bp` and its routes are in routes.py, which create_app imports.
"""
