"""Counting a process's instructions per request with valgrind's callgrind: the one driver of
bench/instructions.py (the app, in-process) and bench/front_cpu.py (the request front).

    counter = Callgrind(folder, "served")
    process = subprocess.Popen([*counter.wrapper(), *command])
    counter.per_request(process.pid, "list", lambda count: serve(count), 60)

A process runs under `valgrind --tool=callgrind`; for each thing counted, after a warm-up,
`callgrind_control` zeroes the counters, then has callgrind dump them after N and after 2N
more requests. A dump's `summary` is what ran since the last zero or dump, so a request costs
(I(2N) - I(N)) / N: start-up, the warm-up and the dumps themselves cancel out. (A dump's
`totals` line is the sum of its cost lines, which in the first dump after a zero also carries
the frames already running then: not the window's count.) Needs Debian's valgrind.
"""

import re
import subprocess
import time
from pathlib import Path

TRIGGER = re.compile(r"^desc: Trigger: .*?bench:(\S+):(\d+)", re.MULTILINE)
SUMMARY = re.compile(r"^summary: (\d+)", re.MULTILINE)


class Callgrind:
    """The callgrind run of one process, writing its dumps to `folder` as `name`.out.*."""

    def __init__(self, folder, name):
        self.folder, self.name = Path(folder), name
        self.pid = None

    def wrapper(self):
        """Return the command words to put before the counted process's own."""
        return [
            "valgrind",
            "--tool=callgrind",
            f"--callgrind-out-file={self.folder / f'{self.name}.out'}",
            f"--log-file={self.folder / f'{self.name}-valgrind.log'}",
        ]

    def control(self, *options):
        subprocess.run(
            ["callgrind_control", *options, str(self.pid)], check=True, capture_output=True
        )

    def dumps(self):
        """Return {(label, requests): (instructions, path)} of the dumps written so far."""
        found = {}
        for path in self.folder.glob(f"{self.name}.out*"):
            text = path.read_text(errors="replace")
            trigger, summary = TRIGGER.search(text), SUMMARY.search(text)
            if trigger and summary:
                found[trigger[1], int(trigger[2])] = (int(summary[1]), path)
        return found

    def dump(self, key, seconds=300):
        """Have callgrind write the dump `key` = (label, requests), and wait until it has."""
        self.control(f"--dump=bench:{key[0]}:{key[1]}")
        deadline = time.monotonic() + seconds
        while key not in self.dumps():
            if time.monotonic() > deadline:
                raise RuntimeError(f"callgrind wrote no dump {key!r}")
            time.sleep(0.2)

    def per_request(self, pid, label, serve, requests, warm_up):
        """Return (instructions per request, the 2N dump's path) of `serve(count)`, which makes
        the process `pid` serve `count` requests; `warm_up` requests first, not counted."""
        self.pid = pid
        serve(warm_up)
        self.control("--zero")
        serve(requests)
        self.dump((label, requests))
        serve(2 * requests)
        self.dump((label, 2 * requests))
        counted = self.dumps()
        (once, _), (twice, path) = counted[label, requests], counted[label, 2 * requests]
        return (twice - once) / requests, path
