"""Attachments: files on notes, uploaded by the browser straight to the object store.

The blueprint `bp` and its routes are in routes.py, which create_app imports; the routes that
need the note too (an upload's start and confirm) are in app/features/note_page/attachments.py.
"""
