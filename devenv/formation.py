"""The formation run: many web and worker processes on one small PostgreSQL through PgBouncer.

A dedicated role may hold at most ROLE_LIMIT server connections; PgBouncer (transaction mode,
at most POOL_SIZE server connections) sits before it. Web processes are the Procfile's `web`
(devenv/liveserver.py) behind a router that spreads client connections over them; workers are
the Procfile's `worker`. Signed-in visitors (devenv/visitor_load.py) drive mixed load and
confirm what they were told; meanwhile the release phase runs a revision that takes a lock,
and one worker and one web process are killed (SIGKILL) and replaced. The same load runs
first with every process connected straight to PostgreSQL (the role's limit lifted: they need
more), for comparison.
Used by tests/test_formation.py (12 s a phase, or FORMATION_SECONDS).
"""

import os
import re
import shutil
import signal
import subprocess
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from pathlib import Path

from app import jobs
from devenv.formation_load import BalancingRouter, PageHandler, queue_left, summary
from devenv.formation_processes import ROLE_LIMIT, ConnectionWatch, FormationDatabase, Worker
from devenv.liveserver import ROOT, LiveServer, procfile_command, production_environment
from devenv.pooler import PgBouncer
from devenv.revisions import MIGRATIONS, head_revision
from devenv.visitor_load import Load, LoadVisitor, lost_notes, unfinished_counts

POOL_SIZE = 10
WEB_PROCESSES = 4
WORKER_PROCESSES = 3
USERS = 50
SIGNING_UP = 8  # sign-ups in flight at once (the front takes 16 bodies of one address)
# Long enough that a busy 2-core machine never misses three in a row (a live worker's job
# would run twice); short enough that a killed worker's job runs again within the run.
HEARTBEAT_SECONDS = 5
JOB_LINE = re.compile(r"job=(\w+) id=(\d+) .*outcome=succeeded")


class Formation:
    """Web processes, workers and a router on the formation's database, direct or pooled."""

    def __init__(self, database, store_environment, folder, page_url, pooled):
        self.database, self.store_environment = database, store_environment
        self.folder, self.page_url, self.pooled = Path(folder), page_url, pooled
        self.bouncer = PgBouncer(database.url, pool_size=POOL_SIZE) if pooled else None
        self.webs, self.workers, self.killed = [], [], []
        self.started, self.counting = Counter(), threading.Lock()
        self.name = "pgbouncer" if pooled else "direct"
        self.router = None

    def environment(self):
        """Return the variables every process of the formation gets."""
        environ = {
            "DATABASE_URL": self.database.url,
            "SIGNUPS_PER_CLIENT": "100000",
            "SIGNUPS_IN_TOTAL": "100000",
            "WORKER_HEARTBEAT_SECONDS": str(HEARTBEAT_SECONDS),
        }
        if self.bouncer:
            environ["DATABASE_CONNECTION_POOL_URL"] = self.bouncer.url()
        return environ

    def start(self):
        if self.bouncer:
            self.bouncer.start()
        # All at once, as the platform starts a formation's dynos.
        with ThreadPoolExecutor(WEB_PROCESSES + WORKER_PROCESSES) as starting:
            started = [starting.submit(self.start_web) for _ in range(WEB_PROCESSES)]
            started += [starting.submit(self.start_worker) for _ in range(WORKER_PROCESSES)]
        for process in started:
            process.result()  # a process that did not start fails the run here
        self.router = BalancingRouter([("127.0.0.1", web.port) for web in self.webs]).start()
        return self

    def number(self, kind):
        """Return the next number of a process of this kind (for its log's name)."""
        with self.counting:
            self.started[kind] += 1
            return self.started[kind]

    def start_web(self):
        log = self.folder / f"web-{self.name}-{self.number('web')}.log"
        web = LiveServer(self.database.url, self.store_environment, log, **self.environment())
        self.webs.append(web.start(timeout=60))
        return web

    def start_worker(self):
        """Start a worker under TestingConfig, which lets it fetch the local page."""
        environ = production_environment(
            self.database.url,
            self.store_environment,
            APP_SETTINGS="config.TestingConfig",
            TEST_DATABASE_URL=self.database.url,
            **self.environment(),
        )
        log = self.folder / f"worker-{self.name}-{self.number('worker')}.log"
        worker = Worker(environ, log).wait_started()
        self.workers.append(worker)
        return worker

    def client_connections(self):
        """Return the connections the processes may open to the database (or PgBouncer)."""
        threads = sum(len(web.worker_pids()) for web in self.webs) * 4
        return threads + len(self.workers) * jobs.worker_connections(4)

    def kill_web(self):
        """SIGKILL one web process (the router stops sending to it), start a replacement."""
        victim = self.webs[0]
        self.router.remove(("127.0.0.1", victim.port))
        killed_at = time.monotonic()
        victim.process.send_signal(signal.SIGKILL)
        with suppress(ProcessLookupError):
            os.killpg(victim.process.pid, signal.SIGKILL)
        victim.process.wait(timeout=10)
        self.webs.remove(victim)
        replacement = self.start_web()
        self.router.add(("127.0.0.1", replacement.port))
        return victim.port, killed_at

    def kill_worker(self):
        """SIGKILL one worker mid-work and start a replacement."""
        victim = self.workers.pop(0)
        victim.kill()
        self.killed.append(victim)
        self.start_worker()

    def release_phase(self, migrations):
        """Run the Procfile's release command on the direct URL with `migrations`' revisions."""
        environ = production_environment(
            self.database.url, self.store_environment, **self.environment()
        )
        command = [*procfile_command("release"), "--directory", str(migrations)]
        started = time.monotonic()
        done = subprocess.run(
            command, cwd=ROOT, env=environ, capture_output=True, text=True, timeout=300
        )
        if done.returncode != 0:
            raise RuntimeError(f"the release phase failed:\n{done.stdout}\n{done.stderr}")
        return time.monotonic() - started, done.stdout + done.stderr

    def job_successes(self, workers=None):
        """Return how many times each job id succeeded, across the workers' logs."""
        counted = Counter()
        for worker in self.workers + self.killed if workers is None else workers:
            counted.update(f"{name}:{number}" for name, number in JOB_LINE.findall(worker.log()))
        return counted

    def stop(self):
        if self.router:
            self.router.stop()
        for web in self.webs:
            web.terminate()
        for worker in self.workers:
            worker.terminate()
        for web in self.webs:
            web.stop()
        for worker in self.workers:
            worker.stop()
        if self.bouncer:
            self.bouncer.stop()


@dataclass
class Run:
    """One formation run: its phases' loads and what was seen while they ran."""

    seconds: float
    loads: dict = field(default_factory=dict)
    figures: dict = field(default_factory=dict)
    problems: list = field(default_factory=list)
    events: list = field(default_factory=list)
    client_connections: int = 0


def drive(users, load, seconds, during=()):
    """Run the users' load for `seconds`; call each (at_seconds, action) meanwhile."""
    for number, user in enumerate(users):
        user.load = load
        # Each phase starts the routines afresh: whatever turns the last phase left them at,
        # some person's first turn is a word count, an attachment, a photo (LoadVisitor.RARE).
        user.turn = number
    threads = [threading.Thread(target=user.visit, daemon=True) for user in users]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    # Each at its own time: a replacement that is slow to start delays no other fault.
    faults = [threading.Timer(at, action) for at, action in during]
    for fault in faults:
        fault.start()
    time.sleep(max(0.0, started + seconds - time.monotonic()))
    load.stop.set()
    for thread in [*faults, *threads]:
        thread.join(timeout=60)
    return time.monotonic() - started


def confirm(run, formation, load, database):
    """Check what the users were told against the database and the workers' logs."""
    unfinished = unfinished_counts(load)
    if unfinished:
        run.problems.append(f"{load.phase}: word counts not done: {unfinished[:5]}")
    lost = lost_notes(load, database.admin_url_of_database())
    if lost:
        run.problems.append(f"{load.phase}: acknowledged notes lost: {sorted(lost)[:5]}")
    left = queue_left(database.admin_url_of_database())
    if left:
        run.problems.append(f"{load.phase}: jobs not done: {left}")
    successes = formation.job_successes()
    twice = {job for job, times in successes.items() if times > 1}
    # A job whose success the killed worker logged but had not recorded yet runs again
    # (procrastinate runs a job at least once; every task here is idempotent).
    rerun = twice & set(formation.job_successes(formation.killed))
    if twice - rerun or any(successes[job] > 2 for job in rerun):
        run.problems.append(f"{load.phase}: jobs done more than once: {sorted(twice - rerun)}")
    return len(successes), len(rerun)


def locking_releases(folder):
    """Return two migration folders, each a release one revision newer, whose revision
    adds a column to `note` (it takes the busy table's lock)."""
    releases, down = [], head_revision()
    source = MIGRATIONS
    for number in (1, 2):
        target = Path(folder) / f"release-{number}"
        shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
        revision = f"91{number:02d}"
        text = LOCKING_REVISION.format(revision=revision, down=down, column=f"mark_{number}")
        (target / "versions" / f"{revision}_formation.py").write_text(text)
        releases.append(target)
        source, down = target, revision
    return releases


LOCKING_REVISION = '''"""A formation run's release: a column on note, which takes its lock."""

import sqlalchemy as sa
from alembic import op

revision = "{revision}"
down_revision = "{down}"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("note", sa.Column("{column}", sa.Text()))


def downgrade():
    op.drop_column("note", "{column}")
'''


def run_phase(run, formation, people, database, migrations):
    """Drive the load on a started formation with the release and the kills; keep figures."""
    load = run.loads[formation.name] = Load(formation.name, formation.page_url)
    for person in people:
        person.base_url, person.token = formation.router.url, None
    killed = {}

    def release():
        took, _ = formation.release_phase(migrations)
        run.events.append(f"{load.phase}: release phase (a revision locking note): {took:.1f} s")

    def kill_worker():
        formation.kill_worker()
        run.events.append(f"{load.phase}: a worker SIGKILLed and replaced")

    def kill_web():
        killed["port"], killed["at"] = formation.kill_web()
        run.events.append(f"{load.phase}: web process :{killed['port']} SIGKILLed and replaced")

    releasing = threading.Thread(target=release, daemon=True)
    seconds = run.seconds
    # The worker first: a job it was running is queued again only once its heartbeats have
    # stopped for HEARTBEAT_SECONDS * MISSED_HEARTBEATS (app/worker/upkeep.py; and the next
    # look for stalled jobs, every 10 s), and the phase ends when its person has the result.
    during = [(seconds * 0.1, kill_worker), (seconds * 0.2, releasing.start)]
    during.append((seconds * 0.5, kill_web))
    with ConnectionWatch(database.admin_url, database.role) as watch:
        elapsed = drive(people, load, seconds, during)
        releasing.join(timeout=300)
        pool = formation.bouncer.pool() if formation.bouncer else {}
        jobs_done, rerun = confirm(run, formation, load, database)
    figures = summary(load, elapsed)
    in_flight = [
        r
        for r in figures["failed"]
        if r.served_by == killed.get("port") and r.started <= killed.get("at", 0)
    ]
    figures["failed"] = [r for r in figures["failed"] if r not in in_flight]
    run.figures[load.phase] = {
        **figures,
        "in_flight_on_killed": len(in_flight),
        "peak": watch.peak,
        "jobs": jobs_done,
        "rerun_after_kill": rerun,
        "pool": pool,
    }
    formation.stop()


def run_formation(admin_url, store_environment, folder, seconds, users=USERS):
    """Run the same load and faults direct, then through PgBouncer; return the Run."""
    run = Run(seconds)
    page = ThreadingHTTPServer(("127.0.0.1", 0), PageHandler)
    threading.Thread(target=page.serve_forever, daemon=True).start()
    page_url = f"http://localhost:{page.server_address[1]}/"
    first_release, second_release = locking_releases(folder)
    database = FormationDatabase(admin_url).create()
    try:
        database.limit(-1)  # every process connected straight needs more than the plan has
        direct = Formation(database, store_environment, folder, page_url, pooled=False)
        direct.release_phase(MIGRATIONS)
        direct.start()
        people = [LoadVisitor(direct.router.url, number) for number in range(users)]
        # Eight at a time, as people arrive (one after another, the 50 took 16 s of the run).
        with ThreadPoolExecutor(SIGNING_UP) as signing_up:
            list(
                signing_up.map(lambda person: person.signup(person.email, person.nickname), people)
            )
        run_phase(run, direct, people, database, first_release)

        database.limit(ROLE_LIMIT)
        pooled = Formation(database, store_environment, folder, page_url, pooled=True).start()
        run.client_connections = pooled.client_connections()
        run_phase(run, pooled, people, database, second_release)
        if run.figures["pgbouncer"]["peak"] > ROLE_LIMIT:
            run.problems.append(f"server connections above {ROLE_LIMIT}")
        if len(run.events) < 6:
            run.problems.append(f"not every fault ran: {run.events}")
    finally:
        page.shutdown()
        database.drop()
    return run


def report(run):
    """Return the run's figures as lines of text."""
    lines = [f"formation run: {run.seconds:.0f} s of load per phase, {USERS} users"]
    for phase, figures in run.figures.items():
        lines.append(
            f"{phase:<10} requests {figures['requests']:>6}  failed {len(figures['failed']):>3}"
            f"  {figures['requests_per_second']:6.1f} req/s  p50 {figures['p50_ms']:5.0f} ms"
            f"  p99 {figures['p99_ms']:6.0f} ms  per web process {figures['per_web_rps']:5.1f}"
            f" req/s, p99 {figures['per_web_p99_ms']:6.0f} ms"
            f"  server connections peak {figures['peak']}  jobs {figures['jobs']}"
        )
        failed = Counter(f"{record.kind}: {record.failure}" for record in figures["failed"])
        for what, count in failed.most_common(10):
            lines.append(f"    failed {count} x {what}")
        if figures["declined"]:
            lines.append(
                f"    declined {figures['declined']} x POST /mypage/photo: 429 with Retry-After"
                " (a limit, not a failure)"
            )
    for phase, figures in run.figures.items():
        lines.append(
            f"{phase}: {figures['in_flight_on_killed']} requests failed in flight on the killed"
            f" web process; {figures['rerun_after_kill']} jobs the killed worker had run but"
            " not yet recorded ran again"
        )
    lines.append(
        f"pgbouncer: pool {POOL_SIZE}, role limit {ROLE_LIMIT},"
        f" {run.client_connections} client connections at most"
    )
    pooled = run.figures.get("pgbouncer")
    if pooled:
        kinds = ", ".join(f"{kind} {count}" for kind, count in sorted(pooled["kinds"].items()))
        lines.append(f"requests by kind: {kinds}")
    lines.extend(run.events)
    lines.extend(f"PROBLEM: {problem}" for problem in run.problems)
    return lines
