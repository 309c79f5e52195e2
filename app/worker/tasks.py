"""The worker's procrastinate App: the tasks and schedules declared with app/jobs.py, as its own.

The features declare their tasks without procrastinate (the web never loads it); the worker
adds each to the App under the name it was declared with, with its queue, locks, retry
policy and schedules, as procrastinate's Blueprint would have.
"""

import procrastinate
from procrastinate.contrib.sqlalchemy import SQLAlchemyPsycopg2Connector

# The worker swaps in procrastinate's psycopg 3 connector, which LISTENs for new jobs, while
# it runs (runtime.run_worker).
queue = procrastinate.App(connector=SQLAlchemyPsycopg2Connector())


class CappedBackoff(procrastinate.BaseRetryStrategy):
    """A task's jobs.Retry, as procrastinate asks it: retry this job, and when?"""

    def __init__(self, retry):
        self.retry = retry

    def get_retry_decision(self, *, exception, job):
        wait = self.retry.wait_seconds(job.attempts, exception)
        return None if wait is None else procrastinate.RetryDecision(retry_in={"seconds": wait})


def add_tasks(tasks):
    """Add to the queue each of these declared tasks (jobs.Task, by name) it does not have yet."""
    for name, task in tasks.items():
        if name not in queue.tasks:
            add_task(task)


def add_task(task):
    """Add a declared task, and its schedules, to the queue."""
    # Under its name alone: a job in the queue names its task, and a job deferred by the
    # previous release must find its task in this one, and the other way round, during a
    # rolling deploy. (procrastinate's blueprints add "<namespace>:" to the names.)
    added = queue.task(
        name=task.name,
        queue=task.queue,
        lock=task.lock,
        queueing_lock=task.queueing_lock,
        retry=CappedBackoff(task.retry) if task.retry else False,
        pass_context=task.pass_context,
    )(task.function)
    for schedule in task.periodic:
        queue.periodic(cron=schedule.cron, periodic_id=schedule.periodic_id)(added)
