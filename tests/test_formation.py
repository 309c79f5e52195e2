"""The formation run (devenv/formation.py): 4 web processes and 3 workers, 50 users, one
PgBouncer (transaction mode, 10 server connections) before a role allowed 20; the release
phase of a revision that locks `note`, a worker and a web process SIGKILLed and replaced.

The suite's run is 12 s of load per phase: long enough for a killed worker, the release
phase and a killed web process (at 10, 20 and 50 % of the phase) to land under load and
their work to be confirmed after; FORMATION_SECONDS=300 soaks for 5 minutes a phase.
"""

import os

import pytest

from devenv import formation
from devenv.pooler import pgbouncer_program


@pytest.mark.serial  # load-bound: ./scripts/test runs it alone
@pytest.mark.skipif(
    pgbouncer_program() is None,
    reason="pgbouncer is not installed (./scripts/test installs it when run as root)",
)
def test_a_formation_through_pgbouncer_loses_nothing_and_stays_within_the_plan(
    app, postgres, object_store, tmp_path
):
    seconds = float(os.environ.get("FORMATION_SECONDS", "12"))
    run = formation.run_formation(postgres.main_url, object_store.environment(), tmp_path, seconds)
    print("\n".join(formation.report(run)))
    assert run.problems == []  # no acknowledged note lost, every job done, each once
    pooled, direct = run.figures["pgbouncer"], run.figures["direct"]
    assert pooled["failed"] == []  # the direct phase is the comparison: its failures are printed
    assert pooled["peak"] <= formation.ROLE_LIMIT < direct["peak"]
    assert run.client_connections > 2 * formation.ROLE_LIMIT
    load = run.loads["pgbouncer"]
    assert load.counts and load.photos and load.attachments and load.notes
    assert {"GET /search", "GET /", "POST /notes/new"} <= set(pooled["kinds"])
