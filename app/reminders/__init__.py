"""Reminders on notes: set on the note page or through the API, fired by the worker once per
occurrence, by mail (docs/reminders.md)."""
