"""The counting child's side: limit this process, decode and count a page, send the result.

multiprocessing's fork server imports this module once, and every count is a child forked
from it. It imports the decoding and counting code only (no feature, no Flask, no database),
so the server stays small; sandbox.py is the parent's side.
"""

import resource
import signal

from app.features.wordcount.counting import count_words, visible_text
from app.fetcher.text import text_of

# A child's address space: a 2 MB page's text and words take tens of megabytes, on top of
# what the fork server imported.
COUNT_MEMORY_BYTES = 1024 * 1024 * 1024
UNREADABLE = "unreadable"


def count_in_child(body, content_type, media_type, cpu_seconds, sender):
    """Limit this process, decode and count a page, send (counts, None) or (None, UNREADABLE).

    The platform sends SIGTERM to every process of the worker's dyno at once: the count goes
    on (its limits end it anyway), and the worker, which waits for its running jobs, takes it.
    """
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
    resource.setrlimit(resource.RLIMIT_AS, (COUNT_MEMORY_BYTES, COUNT_MEMORY_BYTES))
    try:
        text = text_of(body, content_type, media_type)
        words = text if media_type == "text/plain" else visible_text(text)
        outcome = count_words(words), None
    except (UnicodeError, LookupError):  # a codec that fails whatever its error handler says
        outcome = None, UNREADABLE
    except MemoryError:
        outcome = None
    sender.send(outcome)
