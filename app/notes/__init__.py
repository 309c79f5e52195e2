"""Notes: each user's own list, with create, read, update and delete.

The blueprint `bp` and its routes are in routes.py, which create_app imports.
"""
