"""The connection budget: `flask db-budget`, and the settings it counts on."""

import runpy

import pytest

from app import create_app
from devenv import ROOT


@pytest.fixture
def budget(monkeypatch):
    """Return a function that runs `flask db-budget` with WEB_* variables as given."""

    def run(*args, **environ):
        names = ("WEB_CONCURRENCY", "WEB_THREADS", "WORKER_CONCURRENCY", "SMTP_URL")
        for name in (*names, "DATABASE_CONNECTION_POOL_URL"):
            monkeypatch.delenv(name, raising=False)
        for name, value in environ.items():
            monkeypatch.setenv(name, value)
        # The command counts connections; it never opens one.
        monkeypatch.setenv("TEST_DATABASE_URL", "postgresql://memo@127.0.0.1/not-connected")
        app = create_app("config.TestingConfig")
        return app, app.test_cli_runner().invoke(args=["db-budget", *args])

    return run


def test_documented_defaults_fit_a_20_connection_plan_with_a_web_and_a_worker_dyno(budget):
    app, result = budget("--limit", "20")
    assert result.exit_code == 0, result.output
    assert "web      8 = 1 dyno x 2 workers x 4 threads (8 per dyno)" in result.output
    assert "worker   7 = 1 dyno x (4 jobs + 2 queue + 1 listen) (7 per dyno)" in result.output
    assert "release  1" in result.output
    assert "Mail: 0 more connections (sent by worker jobs on their own connections" in result.output
    assert "total    18 of 20: OK, 2 to spare" in result.output
    # What the count assumes: each worker's pool holds one connection per thread, no more.
    options = app.config["SQLALCHEMY_ENGINE_OPTIONS"]
    assert options["pool_size"] == app.config["WEB_THREADS"] == 4
    assert options["max_overflow"] == 0


def test_a_budget_over_the_plan_says_so_and_exits_1(budget):
    _, result = budget("--dynos", "2")
    assert result.exit_code == 1
    assert "total    26 of 20: OVER by 6" in result.output


def test_ten_web_and_five_worker_dynos_fit_a_20_connection_plan_only_through_pgbouncer(budget):
    args = ["--dynos", "10", "--worker-dynos", "5", "--limit", "20"]
    _, result = budget(*args, "--pooler", "--pool-size", "10")
    assert result.exit_code == 0, result.output
    assert "clients  110 to PgBouncer" in result.output  # 80 web threads, 5 x (4 jobs + 2 queue)
    assert "pool     10 server connections, shared by every dyno" in result.output
    assert "(PgBouncer's pool size; at most 12 fit)" in result.output
    assert "listen   5 = 5 worker dynos x 1 (direct" in result.output
    assert "total    18 of 20: OK, 2 to spare" in result.output
    assert result.output.endswith("With the pooler: OK\n")
    # The same formation, every process connected straight: not even one web dyno fits.
    _, result = budget(*args, "--no-pooler")
    assert result.exit_code == 1
    assert "total    118 of 20: OVER by 98" in result.output
    assert "fits     0 web dynos beside 5 worker dynos" in result.output


def test_the_budget_judges_with_the_pooler_when_its_url_is_set(budget):
    args = ["--dynos", "4", "--worker-dynos", "3", "--limit", "20"]
    _, result = budget(*args)
    assert result.exit_code == 1 and "total    56 of 20: OVER by 36" in result.output
    pooled = "postgresql://memo@127.0.0.1:6432/not-connected"
    _, result = budget(*args, DATABASE_CONNECTION_POOL_URL=pooled)
    assert result.exit_code == 0, result.output
    assert "pool     14 server connections" in result.output  # 20 - 3 listen - release - 2
    _, result = budget(*args, "--pool-size", "15", DATABASE_CONNECTION_POOL_URL=pooled)
    assert result.exit_code == 1 and "total    21 of 20: OVER by 1" in result.output


def test_the_budget_counts_each_worker_dyno_by_its_concurrency(budget):
    _, result = budget("--dynos", "2", "--worker-dynos", "0", WORKER_CONCURRENCY="2")
    assert "worker   0 = 0 dynos x (2 jobs + 2 queue + 1 listen) (5 per dyno)" in result.output
    assert "total    19 of 20: OK, 1 to spare" in result.output
    _, result = budget("--worker-dynos", "3", "--limit", "50", WORKER_CONCURRENCY="2")
    assert "worker   15 = 3 dynos x (2 jobs + 2 queue + 1 listen) (5 per dyno)" in result.output
    assert "total    26 of 50: OK, 24 to spare" in result.output


def test_the_budget_reads_web_concurrency_and_web_threads(budget):
    _, result = budget(WEB_CONCURRENCY="3", WEB_THREADS="2")
    assert "web      6 = 1 dyno x 3 workers x 2 threads (6 per dyno)" in result.output
    assert "total    16 of 20: OK, 4 to spare" in result.output


def test_options_override_the_settings(budget):
    args = ["--dynos", "4", "--workers", "1", "--threads", "8", "--one-off", "5", "--limit", "50"]
    _, result = budget(*args, "--concurrency", "1")
    assert "web      32 = 4 dynos x 1 worker x 8 threads (8 per dyno)" in result.output
    assert "worker   4 = 1 dyno x (1 job + 2 queue + 1 listen) (4 per dyno)" in result.output
    assert "total    42 of 50: OK, 8 to spare" in result.output


@pytest.mark.parametrize("environ", [{}, {"WEB_CONCURRENCY": "3", "WEB_THREADS": "5"}])
def test_gunicorn_runs_the_workers_and_threads_the_budget_counts(monkeypatch, environ):
    for name in ("WEB_CONCURRENCY", "WEB_THREADS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in {**environ, "APP_SETTINGS": "config.TestingConfig"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("TEST_DATABASE_URL", "postgresql://memo@127.0.0.1/not-connected")
    app = create_app()
    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    threads = settings["threads"]  # gthread: one database connection per thread
    assert settings["workers"] == app.config["WEB_CONCURRENCY"]
    assert (
        threads == app.config["WEB_THREADS"] == app.config["SQLALCHEMY_ENGINE_OPTIONS"]["pool_size"]
    )
    assert (settings["workers"], threads) == ((3, 5) if environ else (2, 4))


def test_the_budget_names_the_mail_server_but_not_its_password(budget):
    _, result = budget(SMTP_URL="smtp://apikey:hunter2secret@smtp.example.com:587")
    expected = "Mail: 0 more connections (sent by worker jobs on their own connections, to "
    assert expected in result.output
    assert "smtp.example.com:587" in result.output
    assert "hunter2secret" not in result.output
