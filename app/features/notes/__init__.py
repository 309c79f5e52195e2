"""Notes: each user's own list, with create, read, update and delete.

The blueprint `bp` and its routes are in routes.py, which create_app imports; the one writer
of notes is service.py. A note's reminder is part of the note, so its writer (reminders.py)
and its times (schedule.py) are here too; app/features/reminders/ holds the pages, the sweeper and
the mail and pushes around them.
"""
