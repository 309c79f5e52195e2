"""Where a command's CPU goes, by kind of process: `bench/suite_cpu.py -- ./scripts/test`.

Runs the command and, every half second, reads each process's CPU time from /proc; at the end
prints the seconds each kind of process spent (the test processes, gunicorn behind the front,
Chromium, the workers, PostgreSQL, `flask` commands...) and how many there were. A process
that lives less than half a second between two readings is missed, and one that is still
running when the command ends counts what it had spent: the figures are a floor. Every process
on the machine is read (of those already running, what they spend meanwhile), so run it on an
otherwise quiet machine (docs/testing.md).
"""

import argparse
import os
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")
# The first entry whose every pattern a process's command line holds names its kind.
KINDS = [
    (("chrom",), "chromium"),
    (("postgres",), "postgres"),
    (("pgbouncer",), "pgbouncer"),
    (("exec(eval(sys.stdin",), "test processes (pytest-xdist)"),
    (("pytest",), "pytest"),
    (("gunicorn",), "web (the front and gunicorn)"),
    (("flask", " worker"), "worker"),
    (("flask",), "flask commands"),
    (("playwright",), "playwright's driver"),
    (("localstack",), "localstack"),
    (("moto",), "moto"),
    (("pip",), "pip"),
    (("apt",), "apt"),
    (("dpkg",), "apt"),
]


def kind_of(command_line):
    """Return the kind of process that `command_line` (NUL-separated) starts."""
    text = command_line.replace("\0", " ")
    found = (kind for patterns, kind in KINDS if all(pattern in text for pattern in patterns))
    return next(found, None) or Path(text.split(" ")[0]).name or "other"


def read_processes(seen):
    """Record each process's CPU seconds so far in `seen`, by (pid, start time)."""
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
            fields = stat[stat.rindex(")") + 2 :].split()
            key, ticks = (entry.name, fields[19]), int(fields[11]) + int(fields[12])
            if key not in seen:
                seen[key] = [kind_of(Path(entry.path, "cmdline").read_text()), 0]
            seen[key][1] = ticks / TICKS
        except (OSError, ValueError, IndexError):  # gone between the listing and the read
            continue


def table(seen, before, rows=20):
    """Return the kinds of process, the most CPU first: seconds, count, kind (of a process
    that ran `before` the command, only what it spent since)."""
    seconds, count = Counter(), Counter()
    for key, (kind, spent) in seen.items():
        spent -= before[key][1] if key in before else 0
        if spent > 0 or key not in before:
            seconds[kind] += spent
            count[kind] += 1
    lines = [f"{'CPU s':>9} {'processes':>9}  kind"]
    lines += [f"{spent:9.1f} {count[kind]:9d}  {kind}" for kind, spent in seconds.most_common(rows)]
    return "\n".join([*lines, f"{sum(seconds.values()):9.1f} {sum(count.values()):9d}  in all"])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", nargs="+", help="the command to run, after --")
    parser.add_argument("--rows", type=int, default=20)
    options = parser.parse_args()
    seen, before, done = {}, {}, threading.Event()
    read_processes(before)

    def sample():
        while not done.wait(0.5):
            read_processes(seen)

    reader = threading.Thread(target=sample, daemon=True)
    reader.start()
    code = subprocess.call(options.command)
    done.set()
    reader.join()
    read_processes(seen)
    print(table(seen, before, options.rows), flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
