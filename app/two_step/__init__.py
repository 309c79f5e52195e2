"""Two-step sign-in: the authenticator app (TOTP), recovery codes, and the code's own page.

The blueprint `bp` and its routes are in routes.py, which create_app imports; what a browser's
session carries of the second step is in app/auth/second_step.py.
"""
