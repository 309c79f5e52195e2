"""The web process: Memo's request front before gunicorn on a Unix socket.

Usage (the Procfile's `web:` line): `python -m front gunicorn wsgi:app`.

The front reads every request whole (its head within 10 s, a body at most 10 s between reads
and at a minimum average rate, within its size limit) before gunicorn sees it, and takes every
response whole from gunicorn however slowly the client reads it. So a slow, stalled or
vanished client holds no gunicorn thread and no database connection, and a body cut short
never reaches Flask. What one client, one account and the dyno may hold is bounded
(front/budgets.py). See docs/security/front.md, "The request front".

It is one asyncio process (on uvloop); h11 (python-hyper's HTTP/1.1 library, pinned in
requirements.txt) does the HTTP framing, both towards clients and towards gunicorn, and
front/framing.py adds the checks h11 lacks. So the same program runs in development, CI and
production, whatever the platform's stack has.

Modules: serving (the client's side), upstream (gunicorn's side), framing (headers and the
framing rules), budgets (per client, per account, per dyno), pages (the front's own answers),
supervision (gunicorn's process, signals, the descriptor check). None of them loads Flask.
"""
