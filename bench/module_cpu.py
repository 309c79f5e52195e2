"""The CPU each test module costs, its servers and browsers included: a pytest plugin.

    ./scripts/test -p bench.module_cpu -n 4 --dist loadfile -m "not serial"
    python3 bench/module_cpu.py          # the table, the costliest modules first

Around each test it reads the CPU of the test's process and of the processes it has waited
for (`RUSAGE_CHILDREN`: a server, a worker, a `flask` command or a browser the test or its
module started, counted once stopped), and adds both to the test's module. Each test process
writes its figures to .dev/module-cpu-<process>.txt at the end. PostgreSQL, which the session
starts and stops last, is not in them. Where the CPU goes by kind of process instead:
bench/suite_cpu.py.
"""

import os
import resource
import sys
import time
from pathlib import Path

import pytest

FOLDER = Path(__file__).resolve().parent.parent / ".dev"
spent = {}  # module -> [own CPU s, its children's CPU s, seconds, tests]


def readings():
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    own_seconds = own.ru_utime + own.ru_stime
    return own_seconds, children.ru_utime + children.ru_stime, time.monotonic()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    before = readings()
    yield
    after = readings()
    row = spent.setdefault(item.location[0], [0.0, 0.0, 0.0, 0])
    for index in range(3):
        row[index] += after[index] - before[index]
    row[3] += 1


def pytest_sessionfinish(session):
    FOLDER.mkdir(exist_ok=True)
    process = os.environ.get("PYTEST_XDIST_WORKER", "main")
    lines = [
        f"{own:.1f}\t{children:.1f}\t{seconds:.1f}\t{tests}\t{module}\n"
        for module, (own, children, seconds, tests) in spent.items()
    ]
    (FOLDER / f"module-cpu-{process}.txt").write_text("".join(lines))


def table():
    """Print every module's CPU from the files of the last run, the costliest first."""
    rows = []
    for path in FOLDER.glob("module-cpu-*.txt"):
        for line in path.read_text().splitlines():
            own, children, seconds, tests, module = line.split("\t")
            rows.append(
                (
                    float(own) + float(children),
                    float(own),
                    float(children),
                    float(seconds),
                    int(tests),
                    module,
                )
            )
    print(f"{'CPU s':>7} {'own':>7} {'children':>8} {'seconds':>8} {'tests':>6}  module")
    for total, own, children, seconds, tests, module in sorted(rows, reverse=True):
        print(f"{total:7.1f} {own:7.1f} {children:8.1f} {seconds:8.1f} {tests:6d}  {module}")
    print(f"{sum(row[0] for row in rows):7.1f} in all")


if __name__ == "__main__":
    sys.exit(table())
