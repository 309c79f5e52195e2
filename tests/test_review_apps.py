"""Review apps and Heroku CI: app.json agrees with the Procfile, config.py and .env.example,
and its postdeploy, `flask seed-demo`, makes one demo account however often it runs."""

import json
import os
import secrets
import shlex

import pytest
from sqlalchemy import func, select
from werkzeug.utils import import_string

from app.extensions import db
from app.models import Note, User
from devenv import ROOT
from tests.variables import env_example_names

APP_JSON = json.loads((ROOT / "app.json").read_text())
# What each add-on sets (one of its variables, with a value of its kind).
ADDON_VARIABLES = {
    "heroku-postgresql": ("DATABASE_URL", "postgres://u:p@db.example.com/memo"),
    "mailgun": ("MAILGUN_SMTP_SERVER", "smtp.mailgun.org"),
}
# What the pipeline's config vars supply for the required variables without a value.
PIPELINE = {
    "SMTP_URL": "smtp://postmaster%40mg.example.com:secret@smtp.mailgun.org:587",
    "MAIL_FROM": "Memo <memo@mg.example.com>",
    "PUBLIC_URL": "https://memo-pr-1.herokuapp.com",
}
DEMO = "demo@example.com"


def procfile():
    lines = (ROOT / "Procfile").read_text().splitlines()
    return {
        name.strip(): command.strip()
        for name, command in (line.split(":", 1) for line in lines if line)
    }


def review_app_environment():
    """Return the variables a new review app gets: values, generated secrets, add-ons, and the
    required ones the pipeline supplies."""
    environ = {}
    for name, spec in APP_JSON["env"].items():
        if "value" in spec:
            environ[name] = spec["value"]
        elif spec.get("generator") == "secret":
            environ[name] = secrets.token_hex(32)
        elif spec.get("required"):
            environ[name] = PIPELINE.get(name, f"set-in-the-pipeline-{name.lower()}")
    for addon in APP_JSON["addons"]:
        plan = addon["plan"] if isinstance(addon, dict) else addon
        name, value = ADDON_VARIABLES[plan.split(":")[0]]
        environ[name] = value
    return environ


def test_every_procfile_process_but_release_is_in_the_formation():
    processes = set(procfile()) - {"release"}
    assert processes <= set(APP_JSON["formation"]), "a Procfile process review apps never start"
    # The release phase runs `release` once per deploy; it is not a dyno to scale.
    assert "release" not in APP_JSON["formation"]


def test_a_review_app_has_every_variable_its_config_requires():
    environ = review_app_environment()
    config_class = import_string(environ["APP_SETTINGS"])
    assert set(config_class.REQUIRED) <= set(environ)
    config = config_class(environ)  # raises ConfigError naming anything missing
    assert environ["SECRET_KEY"] == config.SECRET_KEY


def test_every_app_json_variable_is_documented_in_env_example():
    declared = set(APP_JSON["env"]) | set(APP_JSON["environments"]["test"]["env"])
    assert declared - env_example_names() == set()


def test_postdeploy_runs_a_flask_command_of_ours(app):
    program, command = shlex.split(APP_JSON["scripts"]["postdeploy"])
    assert program == "flask"
    assert command in app.cli.commands


def test_heroku_ci_runs_the_readme_test_command():
    command = APP_JSON["environments"]["test"]["scripts"]["test"]
    assert command == "./scripts/test"
    assert os.access(ROOT / command, os.X_OK)


def demo_accounts(app):
    with app.app_context():
        users = db.session.scalar(select(func.count()).select_from(User))
        notes = db.session.scalar(select(func.count()).select_from(Note))
    return users, notes


def test_seed_demo_creates_an_account_that_signs_in(app, runner, browser, monkeypatch):
    monkeypatch.setenv("DEMO_PASSWORD", "review-app-password")
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert f"Created the demo account {DEMO} with 2 notes" in result.output
    response = browser.login(DEMO, "review-app-password")
    assert response.status_code == 302
    assert "Welcome to Memo" in browser.get("/").get_data(as_text=True)


def test_seed_demo_run_twice_leaves_one_account(app, runner):
    for _ in range(2):
        result = runner.invoke(args=["seed-demo", "--password", "review-app-password"])
        assert result.exit_code == 0, result.output
    assert "exists already; nothing changed" in result.output
    assert demo_accounts(app) == (1, 2)


@pytest.mark.parametrize("password", ["", "short"])
def test_seed_demo_without_a_usable_password_creates_nothing(app, runner, monkeypatch, password):
    monkeypatch.setenv("DEMO_PASSWORD", password)
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 2
    assert "set DEMO_PASSWORD (or --password) to 8 characters or more" in result.output
    assert demo_accounts(app) == (0, 0)
