"""Attachments: files on notes, uploaded by the browser straight to the object store.

The blueprint `bp` and its routes are in routes.py, which create_app imports.
"""
