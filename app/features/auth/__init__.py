"""Signing up, in and out, and the mailed links (password reset, address changes).

The blueprint `bp` and its routes are in routes.py, which create_app imports; the second step
after the password is asked for through app/features/second_step/session.py.
"""
