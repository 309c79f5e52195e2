"""`./scripts/run` stops whole, however and whenever it is told to: nothing it started is left.

It starts an embedded PostgreSQL, an object store, an SMTP server, a worker and the web front;
a process manager stops it with SIGTERM (`kill`), a terminal with SIGINT (Ctrl-C). The signal
may come at any moment, while it is still starting its processes too.
"""

import random
import signal

import pytest

from devenv.localrun import STAGES, LocalRun, stop_during_start_up


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "Ctrl-C"])
def test_the_local_run_stops_everything_it_started(tmp_path, stop):
    run = LocalRun(tmp_path)
    try:
        assert run.wait_for_line("Serving on"), run.output()
        assert run.wait_for_line("Booting worker"), run.output()  # gunicorn's, once it serves
        assert any("worker" in " ".join(process.cmdline()) for process in run.ours())
        code, left = run.stop(stop)
        assert (code, left) == (0, []), run.output()
        assert "Stopping PostgreSQL" in run.output()
    finally:
        run.clean_up()


@pytest.mark.parametrize("stage", STAGES)
def test_a_stop_at_any_moment_of_the_start_up_leaves_nothing_running(tmp_path, stage):
    delay = random.uniform(0, 0.4)  # noqa: S311  (a moment, not a secret)
    code, left, output = stop_during_start_up(tmp_path, stage, delay)
    assert stage in output
    assert (code, left) == (0, []), f"SIGTERM {delay:.2f} s after {stage!r}:\n{output}"
