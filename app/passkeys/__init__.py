"""Passkeys: adding, naming and removing them from My page, and signing in with one, alone
or as the second step after the password.

The blueprint `bp` and its routes are in routes.py, which create_app imports; the WebAuthn
ceremonies (py_webauthn) are in ceremonies.py; the second step they share with the
authenticator app is in app/auth/second_step.py.
"""
