"""The second step of signing in: the authenticator app (TOTP), passkeys and recovery codes.

routes.py holds the `two_step` blueprint (the security page, the app, recovery codes, the page
that asks for a code); passkey_routes.py the `passkeys` blueprint (adding, naming, removing a
passkey, signing in with one); create_app imports both. The WebAuthn ceremonies (py_webauthn)
are in ceremonies.py, the app's codes and recovery codes in totp.py, and what a browser's
session carries of the second step in session.py, which app/features/auth/ uses to ask for it after
the password. Nothing here imports app/features/auth/: what both need (signing a session in, the
throttle, the ways into an account, the account's mail) sits below them, in app/accounts/
and app/throttle.py.
"""
