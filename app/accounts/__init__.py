"""What every page that acts on an account shares, below the features that use it.

sessions.py signs a session in and locks the signed-in account; ways_in.py is the registry of
the ways into an account and what ends each; mails.py composes the account's mail and
tasks.py queues and sends it (with the jobs that delete what no longer signs anyone in).
Sign-in (app/features/auth/), the second step (app/features/second_step/), my page and tokens import
these; nothing here imports a feature.
"""
