"""Job queue: procrastinate 3.10's schema (jobs, workers, events, periodic defers).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23

The SQL is procrastinate's own `schema.sql` of version 3.10.0, copied into
`migrations/procrastinate/` so that this revision never changes when the package does.
Every object it creates is new and named `procrastinate_*`, so nothing the running release
uses is locked or changed.

Upgrading procrastinate later gets a revision of its own: copy the package's migration files
between the two versions (`procrastinate/sql/migrations/`, e.g. `03.05.00_01_pre_*.sql`) next
to this file and run them in order from that revision. Files marked `pre` go in the release
that also upgrades the package, since the release phase runs before the new code starts;
files marked `post` wait for the following release, once no dyno runs the old version.
`tests/test_jobs.py` checks that the installed package still matches the schema this chain
builds, so a version bump without its revision fails the suite.
"""

from pathlib import Path

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# New tables, types and functions only: the previous release never reads them.
backward_compatible = True

PROCRASTINATE_VERSION = "3.10.0"
SCHEMA = Path(__file__).resolve().parent.parent / "procrastinate" / "schema-3.10.0.sql"

squawk_exceptions = {
    "prefer-bigint-over-int": "procrastinate's own schema; its queries expect these types",
    "prefer-text-field": "procrastinate's own schema; its functions take varchar arguments",
    "prefer-identity": "procrastinate's own schema, kept as the package ships it",
}


def upgrade():
    op.execute(SCHEMA.read_text())


def downgrade():
    # Functions first: some return the jobs table's row type, and CASCADE takes only the
    # triggers that call them. Then the tables and the types.
    op.execute(
        """
        DO $$
        DECLARE routine regprocedure;
        BEGIN
            FOR routine IN
                SELECT oid::regprocedure FROM pg_proc
                WHERE proname LIKE 'procrastinate\\_%'
                  AND pronamespace = current_schema()::regnamespace
            LOOP
                EXECUTE 'DROP FUNCTION ' || routine || ' CASCADE';
            END LOOP;
        END $$
        """
    )
    op.execute(
        "DROP TABLE procrastinate_periodic_defers, procrastinate_events, procrastinate_jobs,"
        " procrastinate_workers"
    )
    op.execute(
        "DROP TYPE procrastinate_job_to_defer_v1, procrastinate_job_event_type,"
        " procrastinate_job_status"
    )
