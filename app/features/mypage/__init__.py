"""My page: the profile photo, nickname, password, export and account deletion.

The blueprint `bp` and its routes are in routes.py, which create_app imports.
"""
