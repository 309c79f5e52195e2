"""The whole suite as `./scripts/test` runs it: the project compiled once, then the tests in
parallel processes, then the load tests two at a time and the one that loads both cores alone;
one closing line and each module's seconds (tests/module-seconds.txt orders them)."""

import compileall
import os
import subprocess
import xml.etree.ElementTree as ElementTree
from pathlib import Path

from devenv import ROOT, debian, say
from devenv.running import STATE  # ./scripts/run's folder: the reports are kept beside its data

# The project's own Python, compiled once before the suite (`compile_project`).
PROJECT_CODE = ["app", "bench", "devenv", "front", "migrations", "scripts", "tests"]
PROJECT_MODULES = ["config.py", "config_budgets.py", "config_parsing.py", "wsgi.py"]
# Folders of installed packages (Python's, npm's), or bytecode.
NOT_OURS = {".venv", "localstack", "node_modules", "__pycache__"}
NO_TESTS = 5  # pytest's exit code when nothing was selected


def compile_project():
    """Write the bytecode of the project's own modules once, before the suite starts.

    Each `flask` command, gunicorn and worker a test starts imports the app: without its
    bytecode on disk each compiles the app's source again (about a fifth of the CPU of an
    import of `wsgi` on a 2-core machine). A machine may set PYTHONDONTWRITEBYTECODE
    (scripts/dev.py lifts it for the commands it runs); bytecode already written is still read,
    and a module whose bytecode is current is not compiled again.
    """
    for path in project_sources():
        compileall.compile_file(path, quiet=1)


def project_sources():
    """Yield the project's own Python files (not the virtualenvs inside its folders)."""
    yield from (ROOT / name for name in PROJECT_MODULES)
    for name in PROJECT_CODE:
        for folder, subfolders, files in os.walk(ROOT / name):
            subfolders[:] = [sub for sub in subfolders if sub not in NOT_OURS]
            yield from (Path(folder, file) for file in files if file.endswith(".py"))


def run_pytest(pytest, args):
    """Run the tests named in `args`, or the whole suite in parallel and then the load tests."""
    basetemp = [arg for arg in args if arg.startswith("--basetemp")]
    if args != basetemp:  # a developer's choice of tests and options, as given
        packages = packages_installed()
        return subprocess.call([pytest, *args], cwd=ROOT) or (0 if packages else 1)
    workers = os.environ.get("TEST_WORKERS") or str(max(2, os.cpu_count() or 1) + 2)
    say(f"Running the test suite in {workers} processes, each with its own PostgreSQL,")
    say("object store and mail server (TEST_DATABASE_URL: a database each beside it)")
    STATE.mkdir(exist_ok=True)
    reports = [STATE / f"tests-{part}.xml" for part in ("parallel", "serial", "alone")]
    for report in reports:
        report.unlink(missing_ok=True)
    # A module's tests stay in one process, so a fixture it shares (a server, a saved starting
    # point) is made once; modules start in tests/conftest.py's order (the longest first).
    by_module = ["--dist", "loadfile", "--no-loadscope-reorder"]
    parallel = [pytest, "-n", workers, *by_module, *basetemp, "-m", "not serial"]
    parallel = subprocess.call([*parallel, f"--junitxml={reports[0]}"], cwd=ROOT)
    # The browser tests waited for the install; the formation looks for pgbouncer as it is
    # collected, so the serial part starts once the install has ended.
    packages = packages_installed()
    # Each of these loads about one core: two at a time, with no other test beside them.
    say("Running the load tests apart from the others, two at a time (marked serial)")
    load_modules = serial_modules()
    serial = [pytest, "-n", "2", *by_module, *basetemp, "-m", "serial and not alone"]
    serial = [*serial, *load_modules, f"--junitxml={reports[1]}"]
    serial = subprocess.call(serial, cwd=ROOT)
    # The 100-user load test queues about 100 requests at gunicorn: beside another load test
    # on a slow machine the last of them waited past the router's 30 s (a 504).
    say("Running the tests that load both cores alone (marked alone)")
    alone = [pytest, *basetemp, "-m", "alone", *load_modules, f"--junitxml={reports[2]}"]
    alone = subprocess.call(alone, cwd=ROOT)
    print(suite_summary(reports), flush=True)
    write_module_seconds(reports[0], STATE / "module-seconds.txt")
    ended = all(code in (0, NO_TESTS) for code in (serial, alone))
    return 0 if parallel == 0 and ended and packages else 1


def packages_installed():
    """Wait for the tests' Debian packages to be installed (devenv/debian.py), then say which
    tests go without them. Return False where `CI` is set and Chromium is missing: CI runs
    every browser test (each fails, saying so, rather than skip)."""
    debian.wait_for_install()
    missing = debian.missing_packages()
    if "pgbouncer" in missing:
        say("pgbouncer is missing and could not be installed: its tests skip")
    if debian.KOREAN_FONT in missing:
        say("Could not install fonts-nanum: Korean screenshots show empty boxes")
    browsers = " ".join(name for name in missing if name.startswith("chromium"))
    if not browsers:
        return True
    if debian.may_install():
        why = f"{browsers}: missing; apt-get could not install it (see {debian.LOG})"
    else:
        why = f"{browsers}: missing, and installing it needs root and apt-get"
    if os.environ.get("CI"):
        say(f"{why}; CI runs every browser test: apt-get install {browsers}")
        return False
    say(f"{why}: the browser tests skip")
    return True


def serial_modules():
    """Return the test modules that mark tests serial: the serial part collects only these
    (each of its processes would otherwise import every module of the suite again)."""
    tests = sorted((ROOT / "tests").rglob("test_*.py"))
    return [str(path.relative_to(ROOT)) for path in tests if "mark.serial" in path.read_text()]


def suite_summary(reports):
    """Return one closing line for both parts: `suite: N passed, N failed, N skipped`."""
    counts = dict.fromkeys(("tests", "failures", "errors", "skipped"), 0)
    for report in reports:
        if not report.exists():
            continue
        # pytest wrote it just now: not untrusted input
        for suite in ElementTree.parse(report).getroot().iter("testsuite"):  # noqa: S314
            for name in counts:
                counts[name] += int(suite.get(name, 0))
    failed = counts["failures"] + counts["errors"]
    passed = counts["tests"] - failed - counts["skipped"]
    return f"suite: {passed} passed, {failed} failed, {counts['skipped']} skipped"


def write_module_seconds(report, path):
    """Write each module's seconds in the parallel part, the longest first, in the form of
    tests/module-seconds.txt (the order its modules start in)."""
    if not report.exists():
        return
    seconds = {}
    # pytest wrote it just now: not untrusted input
    for case in ElementTree.parse(report).getroot().iter("testcase"):  # noqa: S314
        module = case.get("classname").removeprefix("tests.").replace(".", "/") + ".py"
        seconds[module] = seconds.get(module, 0.0) + float(case.get("time", 0))
    rows = sorted(seconds.items(), key=lambda row: -row[1])
    path.write_text("".join(f"{taken:7.1f} {module}\n" for module, taken in rows))
    say(f"Each module's seconds: {path} (tests/module-seconds.txt orders them)")
