"""Which kinds of rows the code running now writes as their writer: a fact each writer
records around its writes (`with writing(Note):`, or as a decorator), never a name.

app/features/notes/service.py is the writer of notes and app/features/notes/reminders.py the
writer of reminders; the tests refuse an insert, change or delete of either made outside
them (tests/note_writers.py). The app itself only records the fact.
"""

from contextlib import contextmanager
from contextvars import ContextVar

WRITING = ContextVar("writing", default=frozenset())


@contextmanager
def writing(*models):
    """Within the block, the code running writes rows of `models` as their writer."""
    token = WRITING.set(WRITING.get() | frozenset(models))
    try:
        yield
    finally:
        WRITING.reset(token)


def is_writing(model):
    """Return whether the code running writes rows of `model` as their writer."""
    return model in WRITING.get()
