"""Configuration comes from the environment; staging and production refuse to start without it."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

import config
from config import (
    DEVELOPMENT_SECRET_KEY,
    ConfigError,
    DevelopmentConfig,
    ProductionConfig,
    StagingConfig,
    database_uri,
)
from devenv import ROOT
from tests.pushes import vapid_settings
from tests.variables import variables_read

GOOD_URL = "postgres://memo:secret@db.example.com:5432/memo"
COMPLETE = {
    "SECRET_KEY": "s" * 40,
    "DATABASE_URL": GOOD_URL,
    "S3_BUCKET": "memo-photos",
    "SMTP_URL": "smtp://apikey:p%40ss@smtp.example.com:587",
    "MAIL_FROM": "Memo <memo@example.com>",
    "PUBLIC_URL": "https://memo.example.com/",
    "TWO_STEP_KEY": "k" * 43 + "=",
}


def without(name):
    """Return the complete environment less `name`."""
    return {key: value for key, value in COMPLETE.items() if key != name}


@pytest.mark.parametrize(
    "url",
    [
        "postgres://memo:secret@db.example.com:5432/memo",
        "postgresql://memo:secret@db.example.com:5432/memo",
    ],
)
def test_platform_database_urls_use_psycopg2(url):
    assert database_uri(url) == "postgresql+psycopg2://memo:secret@db.example.com:5432/memo"


@pytest.mark.parametrize("url", ["mysql://x@y/z", "mssql://x@y/z", "not a url"])
def test_non_postgres_database_url_is_refused(url):
    with pytest.raises(ConfigError, match="DATABASE_URL must be a postgres"):
        database_uri(url)


@pytest.mark.parametrize("config_class", [StagingConfig, ProductionConfig])
@pytest.mark.parametrize(
    ("environ", "named"),
    [
        (without("SECRET_KEY"), "SECRET_KEY"),
        (without("DATABASE_URL"), "DATABASE_URL"),
        (without("S3_BUCKET"), "S3_BUCKET"),
        ({**COMPLETE, "SECRET_KEY": DEVELOPMENT_SECRET_KEY}, "SECRET_KEY"),
        ({**COMPLETE, "WEB_THREADS": "many"}, "WEB_THREADS"),
        ({**COMPLETE, "S3_ENDPOINT_URL": "minio:9000"}, "S3_ENDPOINT_URL"),
        (without("SMTP_URL"), "SMTP_URL"),
        (without("MAIL_FROM"), "MAIL_FROM"),
        (without("PUBLIC_URL"), "PUBLIC_URL"),
        ({**COMPLETE, "SMTP_URL": "http://smtp.example.com"}, "SMTP_URL"),
        ({**COMPLETE, "SMTP_URL": "smtp://mail.example.com:25?tls=off"}, "SMTP_URL"),
        ({**COMPLETE, "MAIL_FROM": "Memo"}, "MAIL_FROM"),
        ({**COMPLETE, "PUBLIC_URL": "http://memo.example.com"}, "PUBLIC_URL"),
        (without("TWO_STEP_KEY"), "TWO_STEP_KEY"),
        ({**COMPLETE, "TWO_STEP_KEY": "not-a-fernet-key"}, "TWO_STEP_KEY"),
    ],
    ids=[
        "no-secret",
        "no-database",
        "no-bucket",
        "development-secret",
        "bad-threads",
        "endpoint-not-a-url",
        "no-smtp",
        "no-mail-from",
        "no-public-url",
        "smtp-not-smtp",
        "smtp-without-tls",
        "mail-from-not-an-address",
        "public-url-not-https",
        "no-two-step-key",
        "two-step-key-not-fernet",
    ],
)
def test_deployed_configs_refuse_missing_or_unsafe_settings(config_class, environ, named):
    with pytest.raises(ConfigError, match=named):
        config_class(environ)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "smtp://apikey:p%40ss@smtp.example.com",
            ("smtp.example.com", 587, "apikey", "p@ss", "starttls"),
        ),
        ("smtps://u:p@smtp.example.com", ("smtp.example.com", 465, "u", "p", "tls")),
        ("smtps://smtp.example.com:2465", ("smtp.example.com", 2465, "", "", "tls")),
        ("smtp://127.0.0.1:1025?tls=off", ("127.0.0.1", 1025, "", "", "none")),
    ],
)
def test_smtp_url_chooses_the_server_its_login_and_tls(url, expected):
    settings = config.smtp_settings(url)
    keys = ("host", "port", "username", "password", "security")
    assert tuple(settings[key] for key in keys) == expected


@pytest.mark.parametrize(
    "url", ["smtps://h?tls=off", "smtp://h?tls=maybe", "smtp://h:port", "smtp:///nohost"]
)
def test_unusable_smtp_urls_are_refused(url):
    with pytest.raises(ConfigError, match="SMTP_URL"):
        config.smtp_settings(url)


def test_development_mails_to_the_local_inbox_by_default():
    settings = DevelopmentConfig({"DATABASE_URL": GOOD_URL})
    assert settings.PUBLIC_URL == "http://127.0.0.1:5000"
    assert settings.LOCAL_INBOX and not ProductionConfig(COMPLETE).LOCAL_INBOX


def test_production_allows_plain_smtp_and_http_links_on_this_machine_only():
    local = {"SMTP_URL": "smtp://127.0.0.1:2525?tls=off", "PUBLIC_URL": "http://127.0.0.1:8000"}
    settings = ProductionConfig({**COMPLETE, **local})
    assert settings.SMTP["security"] == "none"
    assert settings.PUBLIC_URL == "http://127.0.0.1:8000"


def test_production_config_from_a_complete_environment():
    settings = ProductionConfig(COMPLETE)
    assert settings.SQLALCHEMY_DATABASE_URI.startswith("postgresql+psycopg2://")
    assert settings.SESSION_COOKIE_SECURE and settings.REMEMBER_COOKIE_SECURE
    # A dropped connection is found by its statement, sent once more (tests/test_faults.py).
    assert settings.SQLALCHEMY_ENGINE_OPTIONS["pool_pre_ping"] is False
    assert settings.SQLALCHEMY_ENGINE_OPTIONS["pool_recycle"] == 300
    assert settings.SQLALCHEMY_ENGINE_OPTIONS["pool_size"] == 4
    assert settings.PUBLIC_URL == "https://memo.example.com"
    assert settings.SMTP["security"] == "starttls" and settings.SMTP["password"] == "p@ss"


def test_a_pooler_url_carries_requests_and_jobs_and_the_direct_url_stays_for_sessions():
    pooled = "postgres://memo:secret@pooler.example.com:6432/memo"
    settings = ProductionConfig({**COMPLETE, "DATABASE_CONNECTION_POOL_URL": pooled})
    assert database_uri(pooled) == settings.SQLALCHEMY_DATABASE_URI
    assert config.direct_database_uri(vars(settings)) == database_uri(GOOD_URL)
    # PgBouncer 1.18 refuses the `options` startup parameter (app/pooling.py sets it instead).
    assert "options" not in settings.SQLALCHEMY_ENGINE_OPTIONS["connect_args"]
    direct = ProductionConfig(COMPLETE)
    assert config.direct_database_uri(vars(direct)) == direct.SQLALCHEMY_DATABASE_URI
    options = direct.SQLALCHEMY_ENGINE_OPTIONS["connect_args"]["options"].split()
    assert "statement_timeout=15000" in options
    assert "idle_in_transaction_session_timeout=30000" in options
    with pytest.raises(ConfigError, match="DATABASE_CONNECTION_POOL_URL must be a postgres"):
        ProductionConfig({**COMPLETE, "DATABASE_CONNECTION_POOL_URL": "pgbouncer:6432"})


def test_development_runs_without_a_secret_but_not_without_a_database():
    settings = DevelopmentConfig({"DATABASE_URL": GOOD_URL})
    assert settings.SECRET_KEY == DEVELOPMENT_SECRET_KEY
    assert not getattr(settings, "SESSION_COOKIE_SECURE", False)
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        DevelopmentConfig({})


def test_testing_prefers_test_database_url():
    settings = config.TestingConfig(
        {"DATABASE_URL": GOOD_URL, "TEST_DATABASE_URL": "postgres://t@h/test"}
    )
    assert settings.SQLALCHEMY_DATABASE_URI == "postgresql+psycopg2://t@h/test"


def clean_environment(**extra):
    """Return an environment with none of the app's variables, plus `extra`."""
    names = {line.split("=")[0] for line in env_example_lines()}
    environ = {key: value for key, value in os.environ.items() if key not in names}
    return {**environ, **extra}


def env_example_lines():
    text = (ROOT / ".env.example").read_text()
    return [line for line in text.splitlines() if line and not line.startswith("#")]


@pytest.mark.parametrize(
    ("command", "missing"),
    [
        (["flask", "--app", "wsgi", "db", "upgrade"], "SECRET_KEY"),
        ([sys.executable, "-m", "gunicorn", "--check-config", "wsgi:app"], "SECRET_KEY"),
        (["flask", "--app", "wsgi", "db", "upgrade"], "DATABASE_URL"),
        (["flask", "--app", "wsgi", "db", "upgrade"], "S3_BUCKET"),
        (["flask", "worker"], "SECRET_KEY"),
        (["flask", "worker"], "SMTP_URL"),
        ([sys.executable, "-m", "gunicorn", "--check-config", "wsgi:app"], "PUBLIC_URL"),
    ],
    ids=[
        "release-phase",
        "gunicorn",
        "release-phase-no-database",
        "release-phase-no-bucket",
        "worker",
        "worker-no-smtp",
        "gunicorn-no-public-url",
    ],
)
def test_production_process_missing_a_variable_exits_with_one_line(command, missing):
    environ = clean_environment(APP_SETTINGS="config.ProductionConfig")
    environ.update({name: value for name, value in COMPLETE.items() if name != missing})
    if command[0] == "flask":
        command = [str(Path(sys.executable).parent / "flask"), *command[1:]]
    result = subprocess.run(
        command, cwd=ROOT, env=environ, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert missing in lines[0] and "configuration error" in lines[0]


def vapid_environment(**changed):
    """Return a complete production environment with a matching VAPID key pair, changed."""
    settings, _ = vapid_settings()
    keys = {
        "VAPID_PUBLIC_KEY": settings["public_key"],
        "VAPID_PRIVATE_KEY": settings["private_key"],
    }
    return {**COMPLETE, **keys, **changed}


def test_vapid_keys_set_offer_push_and_unset_keep_it_off():
    environ = vapid_environment()
    pushing = ProductionConfig(environ).VAPID
    assert pushing["public_key"] == environ["VAPID_PUBLIC_KEY"]
    assert pushing["subject"] == "mailto:memo@example.com"  # from MAIL_FROM, unless set
    subject = ProductionConfig(vapid_environment(VAPID_SUBJECT="https://memo.example.com"))
    assert subject.VAPID["subject"] == "https://memo.example.com"
    assert ProductionConfig(COMPLETE).VAPID is None


@pytest.mark.parametrize(
    ("changed", "named"),
    [
        ({"VAPID_PUBLIC_KEY": "bm90IGEga2V5"}, "VAPID_PUBLIC_KEY must be a P-256 public key"),
        ({"VAPID_PUBLIC_KEY": "B" * 87}, "VAPID_PUBLIC_KEY must be a P-256 public key"),
        ({"VAPID_PRIVATE_KEY": "A" * 43}, "VAPID_PRIVATE_KEY must be a P-256 private key"),
        ({"VAPID_PRIVATE_KEY": "pem, not base64url!"}, "VAPID_PRIVATE_KEY must be"),
        ({"VAPID_PRIVATE_KEY": ""}, "VAPID_PRIVATE_KEY is not set"),
        ({"VAPID_SUBJECT": "memo@example.com"}, "VAPID_SUBJECT must be mailto:"),
    ],
)
def test_unusable_vapid_settings_are_refused_naming_the_variable(changed, named):
    with pytest.raises(ConfigError, match=named):
        ProductionConfig(vapid_environment(**changed))


def test_vapid_keys_of_two_pairs_are_refused():
    other, _ = vapid_settings()
    with pytest.raises(ConfigError, match="not the private key of VAPID_PUBLIC_KEY"):
        ProductionConfig(vapid_environment(VAPID_PRIVATE_KEY=other["private_key"]))


def test_a_malformed_vapid_key_stops_the_web_with_one_line():
    environ = clean_environment(APP_SETTINGS="config.ProductionConfig")
    environ.update(vapid_environment(VAPID_PUBLIC_KEY="not-a-key"))
    command = [sys.executable, "-m", "gunicorn", "--check-config", "wsgi:app"]
    result = subprocess.run(
        command, cwd=ROOT, env=environ, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "VAPID_PUBLIC_KEY must be a P-256 public key" in lines[0]


def run_python(script, folder, **environ):
    """Run `script` in a fresh interpreter from `folder`, with only the variables given."""
    return subprocess.run(
        [sys.executable, "-c", script],
        cwd=folder,
        env=clean_environment(PYTHONPATH=str(ROOT), **environ),
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_dotenv_is_ignored_outside_development(tmp_path):
    (tmp_path / ".env").write_text("SECRET_KEY=from-dotenv\nDATABASE_URL=postgres://x@y/z\n")
    script = "from config import load_config; load_config()"
    result = run_python(script, tmp_path, APP_SETTINGS="config.ProductionConfig")
    assert "SECRET_KEY is not set" in result.stderr


def test_dotenv_is_read_in_development(tmp_path):
    (tmp_path / ".env").write_text("DATABASE_URL=postgres://dev@localhost/memo_dev\n")
    script = "from config import load_config; print(load_config().SQLALCHEMY_DATABASE_URI)"
    result = run_python(script, tmp_path)
    assert result.stdout.strip() == "postgresql+psycopg2://dev@localhost/memo_dev"


def test_a_dyno_without_app_settings_refuses_to_start_with_one_line():
    environ = clean_environment(DYNO="web.1", **COMPLETE)
    environ.pop("APP_SETTINGS", None)
    flask = str(Path(sys.executable).parent / "flask")
    result = subprocess.run(
        [flask, "--app", "wsgi", "db", "upgrade"],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    (line,) = result.stderr.strip().splitlines()
    assert "configuration error" in line and "APP_SETTINGS is not set on this dyno" in line


def test_development_debugs_only_when_asked():
    environ = {"DATABASE_URL": "postgresql://memo@127.0.0.1/memo"}
    assert DevelopmentConfig(environ).DEBUG is False
    assert DevelopmentConfig({**environ, "FLASK_DEBUG": "1"}).DEBUG is True


def test_unknown_app_settings_is_a_clear_error():
    from config import load_config

    with pytest.raises(ConfigError, match="APP_SETTINGS names no config class"):
        load_config("config.NoSuchConfig")


def variables_read_by_the_code():
    sources = [
        ROOT / name for name in ("config.py", "config_parsing.py", "gunicorn.conf.py", "wsgi.py")
    ]
    for folder in ("app", "front", "scripts", "devenv"):
        sources.extend((ROOT / folder).rglob("*.py"))
    # Not what a virtualenv holds (devenv/localstack/.venv: LocalStack and its libraries).
    sources = [path for path in sources if ".venv" not in path.relative_to(ROOT).parts]
    # PATH is the system's, passed on to a child process: not a setting. CI is the CI
    # machine's own flag, read by ./scripts/test (a browser it cannot install fails the run).
    return variables_read(sources) - {"PATH", "CI"}


def test_env_example_lists_exactly_the_variables_the_code_reads():
    listed = {line.split("=")[0] for line in env_example_lines()}
    read = variables_read_by_the_code()
    assert read - listed == set(), "read by the code but missing from .env.example"
    assert listed - read == set(), "listed in .env.example but read by no code"


def test_every_env_example_variable_has_a_comment():
    lines = (ROOT / ".env.example").read_text().splitlines()
    for index, line in enumerate(lines):
        if line and not line.startswith("#"):
            assert lines[index - 1].startswith("#"), f"{line} has no comment above it"
