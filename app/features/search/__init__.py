"""Search: PostgreSQL full-text search of the signed-in user's notes, ranked and highlighted.

The blueprint `bp` and its routes are in routes.py, which create_app imports.
"""
