"""Reminders on notes: set on the note page or through the API, fired by the worker once per
occurrence, by mail and push (docs/reminders.md).

A reminder is part of its note: its one writer and its times are app/features/notes/reminders.py and
app/features/notes/schedule.py, which this package uses; the notes package does not import it."""
