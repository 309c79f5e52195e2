"""CI lints each revision's SQL with squawk and fails on a finding without a reasoned exception."""

import subprocess
import sys

from devenv import ROOT

BLOCKING_INDEX = 'op.create_index("ix_note_title", "note", ["title"])'


def lint(directory):
    result = subprocess.run(
        [sys.executable, "scripts/lint_migrations.py", "--directory", str(directory)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return result.returncode, result.stdout + result.stderr


def test_the_project_migrations_pass_the_lint():
    code, output = lint(ROOT / "migrations")
    assert code == 0, output


def test_a_blocking_index_build_fails_the_lint(newer_release):
    code, output = lint(newer_release(BLOCKING_INDEX))
    assert code == 1
    assert "9001 (SQL line" in output and "require-concurrent-index-creation" in output


def test_a_reasoned_exception_excuses_its_rule_only(newer_release):
    reason = '{"require-concurrent-index-creation": "the table is created empty in this release"}'
    code, output = lint(newer_release(BLOCKING_INDEX, marks=f"squawk_exceptions = {reason}"))
    assert code == 0, output
    assert "9001: ok (1 excused with a reason)" in output


def test_an_exception_without_a_reason_is_refused(newer_release):
    marks = 'squawk_exceptions = {"require-concurrent-index-creation": ""}'
    code, output = lint(newer_release(BLOCKING_INDEX, marks=marks))
    assert code == 1
    assert "needs a reason" in output
