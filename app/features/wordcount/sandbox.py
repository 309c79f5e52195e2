"""Count a fetched page in a child process under hard limits on CPU time, memory and wall time.

Decoding a page and reading its text are CPU-bound work on bytes a stranger chose. A job
thread cannot be interrupted while a codec or a regex runs, so the count runs in a child
that the kernel stops (SIGXCPU) once it has used its CPU seconds; the count then fails
for good, with a reason, and the job is not retried. Children are forked from
multiprocessing's fork server, which imported child.py once: a count starts in
milliseconds, and no child is forked from the worker's threads.
"""

import logging
import multiprocessing
import signal

from app.features.wordcount import child as counting_child
from app.i18n.stored import stored_message

# A child waiting for a core on a busy machine still gets its CPU seconds, within this many.
WALL_SECONDS_PER_CPU_SECOND = 2

TOO_EXPENSIVE = stored_message(
    "Counting this page took more than %(seconds)s s of work; Memo stopped there."
)
UNREADABLE = stored_message("Memo could not read the text of this page.")

logger = logging.getLogger("memo.wordcount")
children = multiprocessing.get_context("forkserver")
children.set_forkserver_preload([counting_child.__name__])


class CountError(Exception):
    """The page could not be counted within the limits; the message tells the user why."""


def count_limited(page, cpu_seconds):
    """Return count_words() of the page's visible text, computed in a child under limits."""
    receiver, sender = children.Pipe(duplex=False)
    child = children.Process(
        target=counting_child.count_in_child,
        args=(page.body, page.content_type, page.media_type, cpu_seconds, sender),
        daemon=True,
    )
    child.start()
    sender.close()
    try:
        outcome = receive(receiver, cpu_seconds * WALL_SECONDS_PER_CPU_SECOND + 1)
    finally:
        receiver.close()
        child.kill()
        child.join()
    if outcome is None and child.exitcode == -signal.SIGTERM:
        # The platform's stop reached the child before it could ignore it: not the page's
        # fault, and the job runs again (elsewhere) as any job cut short by a stop.
        raise InterruptedError("the count was stopped with its worker")
    if outcome is None and child.exitcode and child.exitcode > 0:  # a bug, not the page
        logger.error("the counting child failed with exit code %s", child.exitcode)
        raise CountError(UNREADABLE)
    if outcome is None:  # killed for its CPU time or memory, or out of wall time
        raise CountError(TOO_EXPENSIVE % {"seconds": cpu_seconds})
    counts, problem = outcome
    if problem == counting_child.UNREADABLE:
        raise CountError(UNREADABLE)
    return counts


def receive(receiver, timeout):
    """Return what the child sent within `timeout` seconds, or None if it sent nothing."""
    try:
        return receiver.recv() if receiver.poll(timeout) else None
    except EOFError:  # the child died before it sent anything
        return None
