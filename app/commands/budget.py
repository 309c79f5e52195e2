"""`flask db-budget`: the database connections a formation needs, direct or through PgBouncer."""

import click
from flask import current_app
from flask.cli import with_appcontext

from app import jobs

# `flask db upgrade` holds one connection while the previous release still serves.
RELEASE_CONNECTIONS = 1


def mail_route(config):
    """Return where mail goes, for the budget: its jobs add no database connection."""
    smtp = config["SMTP"]
    server = f"{smtp['host']}:{smtp['port']}" if smtp else "no SMTP_URL set"
    return f"sent by worker jobs on their own connections, to {server}"


def counted(number, noun):
    """Return "1 dyno", "2 dynos" and the like."""
    return f"{number} {noun}{'' if number == 1 else 's'}"


def verdict(total, limit):
    """Return the budget's last line: what is left, or by how much it is over."""
    if total > limit:
        return f"{total} of {limit}: OVER by {total - limit}"
    return f"{total} of {limit}: OK, {limit - total} to spare"


class Budget:
    """The connections of a formation: web and worker dynos, the release phase, consoles."""

    def __init__(self, dynos, workers, threads, worker_dynos, concurrency, one_off, limit):
        self.dynos, self.workers, self.threads = dynos, workers, threads
        self.worker_dynos, self.concurrency = worker_dynos, concurrency
        self.one_off, self.limit = one_off, limit
        self.per_dyno = workers * threads
        self.per_worker = jobs.worker_connections(concurrency)

    def direct_total(self):
        """Return the server connections with every process connected straight to PostgreSQL."""
        workers = self.worker_dynos * self.per_worker
        return self.dynos * self.per_dyno + workers + RELEASE_CONNECTIONS + self.one_off

    def web_dynos_that_fit(self):
        """Return the most web dynos the plan takes, without a pooler, beside the worker dynos."""
        spare = self.limit - self.direct_total() + self.dynos * self.per_dyno
        return max(spare // self.per_dyno, 0)

    def sessions(self):
        """Return the direct connections a pooler cannot carry: LISTENs, release, consoles."""
        listens = self.worker_dynos * jobs.LISTEN_CONNECTIONS
        return listens + RELEASE_CONNECTIONS + self.one_off

    def largest_pool(self):
        """Return the largest PgBouncer pool that fits beside the direct connections."""
        return self.limit - self.sessions()

    def clients(self):
        """Return the client connections every dyno may open to PgBouncer at once."""
        queue = jobs.worker_connections(self.concurrency) - jobs.LISTEN_CONNECTIONS
        return self.dynos * self.per_dyno + self.worker_dynos * queue


def echo_direct(budget):
    """Print the budget with every process connected straight to PostgreSQL."""
    b = budget
    click.echo("Without a pooler: one server connection per thread, job and queue connection")
    click.echo(
        f"  web      {b.dynos * b.per_dyno} = {counted(b.dynos, 'dyno')} x "
        f"{counted(b.workers, 'worker')} x {counted(b.threads, 'thread')} ({b.per_dyno} per dyno)"
    )
    click.echo(
        f"  worker   {b.worker_dynos * b.per_worker} = {counted(b.worker_dynos, 'dyno')} x "
        f"({counted(b.concurrency, 'job')} + {jobs.QUEUE_POOL_SIZE} queue + "
        f"{jobs.LISTEN_CONNECTIONS} listen) ({b.per_worker} per dyno)"
    )
    click.echo(f"  release  {RELEASE_CONNECTIONS} (flask db upgrade, while the old release serves)")
    click.echo(f"  one-off  {b.one_off} (consoles, monitoring)")
    click.echo(f"  total    {verdict(b.direct_total(), b.limit)}")
    click.echo(
        f"  fits     {counted(b.web_dynos_that_fit(), 'web dyno')} beside "
        f"{counted(b.worker_dynos, 'worker dyno')}"
    )


def echo_pooled(budget, pool_size):
    """Print the budget with web and job connections through PgBouncer in transaction mode."""
    b = budget
    click.echo("With PgBouncer in transaction mode (DATABASE_CONNECTION_POOL_URL)")
    click.echo(
        f"  clients  {b.clients()} to PgBouncer, no server connection each "
        "(its max_client_conn must allow them)"
    )
    click.echo(
        f"  pool     {pool_size} server connections, shared by every dyno "
        f"(PgBouncer's pool size; at most {b.largest_pool()} fit)"
    )
    click.echo(
        f"  listen   {b.worker_dynos * jobs.LISTEN_CONNECTIONS} = "
        f"{counted(b.worker_dynos, 'worker dyno')} x 1 (direct: a LISTEN needs a session)"
    )
    click.echo(f"  release  {RELEASE_CONNECTIONS} (direct: migrations need a session)")
    click.echo(f"  one-off  {b.one_off} (consoles, monitoring; direct)")
    click.echo(f"  total    {verdict(pool_size + b.sessions(), b.limit)}")
    click.echo(
        "  fits     any number of web dynos, and up to "
        f"{counted(max(b.limit - RELEASE_CONNECTIONS - b.one_off - 1, 0), 'worker dyno')} "
        "with a pool of 1"
    )


@click.command("db-budget")
@click.option(
    "--dynos",
    default=1,
    show_default=True,
    type=click.IntRange(min=1),
    help="Web dynos up at once (during a preboot deploy, old and new together).",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    help="gunicorn workers per dyno.  [default: WEB_CONCURRENCY]",
)
@click.option(
    "--threads",
    type=click.IntRange(min=1),
    help="Threads per worker, one database connection each at most.  [default: WEB_THREADS]",
)
@click.option(
    "--worker-dynos",
    default=1,
    show_default=True,
    type=click.IntRange(min=0),
    help="Worker dynos up at once (`flask worker`).",
)
@click.option(
    "--concurrency",
    type=click.IntRange(min=1),
    help="Jobs each worker runs at once.  [default: WORKER_CONCURRENCY]",
)
@click.option(
    "--one-off",
    default=2,
    show_default=True,
    type=click.IntRange(min=0),
    help="Consoles and monitoring at once; one connection each (the worker runs the schedule).",
)
@click.option(
    "--limit",
    default=20,
    show_default=True,
    type=click.IntRange(min=1),
    help="Connections the database plan allows.",
)
@click.option(
    "--pooler/--no-pooler",
    default=None,
    help="Judge the budget with PgBouncer or without.  [default: DATABASE_CONNECTION_POOL_URL set]",
)
@click.option(
    "--pool-size",
    type=click.IntRange(min=1),
    help="PgBouncer's server connections.  [default: the most that fit]",
)
@with_appcontext
def db_budget(pooler, pool_size, **counts):
    """Print the database connections Memo needs at most, with and without PgBouncer."""
    counts["workers"] = counts["workers"] or current_app.config["WEB_CONCURRENCY"]
    counts["threads"] = counts["threads"] or current_app.config["WEB_THREADS"]
    counts["concurrency"] = counts["concurrency"] or current_app.config["WORKER_CONCURRENCY"]
    budget = Budget(**counts)
    pooled = current_app.config["DATABASE_POOLED"] if pooler is None else pooler
    # A pool larger than its clients would never fill.
    pool_size = pool_size or max(min(budget.largest_pool(), budget.clients()), 1)
    echo_direct(budget)
    echo_pooled(budget, pool_size)
    click.echo(f"Mail: 0 more connections ({mail_route(current_app.config)})")
    total = pool_size + budget.sessions() if pooled else budget.direct_total()
    if total > budget.limit:
        click.echo(
            f"{'With' if pooled else 'Without'} the pooler the plan is OVER: use fewer dynos, "
            "WEB_CONCURRENCY, WEB_THREADS or WORKER_CONCURRENCY, "
            f"{'a smaller pool, ' if pooled else 'PgBouncer, '}or a plan with more connections"
        )
        raise SystemExit(1)
    click.echo(f"{'With' if pooled else 'Without'} the pooler: OK")
