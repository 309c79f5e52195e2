"""The queue's scheduled upkeep, run by the workers (one run per period, however many run).

Declared on a jobs.Blueprint like the features' tasks, and registered by the worker's
runtime: lost work failed, stalled jobs queued again, old jobs forgotten. The async tasks run
on the worker's event loop through procrastinate's JobManager, on the worker's own queue
connections.
"""

import logging

import procrastinate
from flask import current_app
from procrastinate import builtin_tasks
from procrastinate.jobs import Status

from app.extensions import db
from app.jobs import MAINTENANCE_QUEUE, Blueprint
from app.models import WorkerOutcome

logger = logging.getLogger("memo.jobs")
blueprint = Blueprint()

# A worker that missed this many heartbeats is dead: its jobs are run again.
MISSED_HEARTBEATS = 3


@blueprint.periodic(cron="*/5 * * * *", periodic_id="abandoned")
@blueprint.task(
    name="fail_abandoned_work", queueing_lock="fail_abandoned_work", queue=MAINTENANCE_QUEUE
)
def fail_abandoned_work(timestamp):
    """Fail the rows of every kind of queued work left unfinished far too long (a job was lost).

    The queue's own upkeep, like recovering stalled jobs: each kind is a WorkerOutcome, the
    record a feature keeps of a job it queued, so a new kind is covered without naming it.
    """
    older_than = current_app.config["ABANDONED_AFTER"]
    for kind in WorkerOutcome.__subclasses__():
        kind.fail_abandoned(older_than)
    db.session.commit()


@blueprint.periodic(cron="* * * * * */10", periodic_id="stalled")
@blueprint.task(
    name="recover_stalled_jobs",
    queueing_lock="recover_stalled_jobs",
    queue=MAINTENANCE_QUEUE,
    pass_context=True,
)
async def recover_stalled_jobs(context, timestamp):
    """Queue the jobs of workers that stopped heartbeating again, and forget those workers.

    It takes no `lock`: a lock is held by a `doing` job until that job ends, and a job whose
    worker died never ends, so a recovery sharing its lock could never run.
    """
    manager = context.app.job_manager
    seconds = current_app.config["WORKER_HEARTBEAT_SECONDS"] * MISSED_HEARTBEATS
    for job in await manager.get_stalled_jobs(seconds_since_heartbeat=seconds):
        try:
            await recover(manager, job)
        except procrastinate.exceptions.ConnectorException as error:
            # Another recovery took it first, or its successor was queued meanwhile.
            logger.warning(
                "job id=%s not recovered now (%s); the next recovery looks again", job.id, error
            )
    await manager.prune_stalled_workers(seconds)


async def recover(manager, job):
    """Queue a stalled job again, or fail it if a run with its queueing lock is waiting.

    procrastinate 3.10's retry_job cannot do the second: the waiting run holds the queueing
    lock (a unique index on the `todo` jobs), so retrying a periodic job would break it.
    """
    if job.queueing_lock and await manager.list_jobs_async(
        queueing_lock=job.queueing_lock, status="todo"
    ):
        await manager.finish_job(job, status=Status.FAILED, delete_job=False)
        logger.warning("job id=%s was running on a worker that stopped; it ran again", job.id)
    else:
        await manager.retry_job(job)
        logger.warning("job id=%s was running on a worker that stopped; queued again", job.id)


@blueprint.periodic(cron="17 3 * * *", periodic_id="daily")
@blueprint.task(
    name="remove_old_jobs",
    queueing_lock="remove_old_jobs",
    queue=MAINTENANCE_QUEUE,
    pass_context=True,
)
async def remove_old_jobs(context, timestamp):
    """Forget jobs finished (failed, cancelled, aborted) more than FINISHED_JOBS_KEEP_DAYS ago.

    Succeeded jobs are deleted as they finish; the others stay that long for `flask jobs
    failures` and `retry`. One statement deletes them with their events, however many.
    """
    await builtin_tasks.remove_old_jobs(
        context,
        max_hours=current_app.config["FINISHED_JOBS_KEEP_DAYS"] * 24,
        remove_failed=True,
        remove_cancelled=True,
        remove_aborted=True,
    )
