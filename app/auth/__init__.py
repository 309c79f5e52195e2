"""Accounts: sign up, sign in, sign out.

The blueprint `bp` and its routes are in routes.py, which create_app imports.
"""
