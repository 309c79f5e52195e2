"""Stop `./scripts/run` at random moments of its start-up, many times in a row, on a loaded machine.

    .venv/bin/python bench/local_run_stops.py [--runs 50] [--load 2] [--seed N]

Each run starts `scripts/dev.py run` with its own ports and state folder, waits for one of its
start-up lines (chosen at random), waits a random 0-1.5 s more and sends SIGTERM, as a process
manager would. A run passes when it exits 0 within 60 s and leaves no process of its own
behind. Meanwhile `--load` busy processes keep the cores loaded. It prints one line per run and
a closing count; the exit code is 1 if any run failed.
"""

import argparse
import multiprocessing
import random
import signal
import sys
import tempfile
import time
from pathlib import Path

from devenv.localrun import STAGES, stop_during_start_up


def spin():
    """Keep one core busy until killed."""
    while True:
        pass


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--load", type=int, default=2, help="busy processes beside the runs")
    parser.add_argument("--seed", type=int, default=None)
    options = parser.parse_args()
    seed = options.seed if options.seed is not None else random.randrange(2**32)
    chance = random.Random(seed)
    print(f"seed {seed}; {options.load} busy processes", flush=True)
    load = [multiprocessing.Process(target=spin, daemon=True) for _ in range(options.load)]
    for process in load:
        process.start()
    failures = 0
    try:
        for number in range(1, options.runs + 1):
            stage, delay = chance.choice(STAGES), chance.uniform(0, 1.5)
            started = time.monotonic()
            with tempfile.TemporaryDirectory(prefix="memo-stop-") as folder:
                code, left, output = stop_during_start_up(Path(folder), stage, delay)
            took = time.monotonic() - started
            whole = code == 0 and not left
            failures += not whole
            verdict = "stopped whole" if whole else f"FAILED: exit {code}, left {left}"
            print(f"{number:3} SIGTERM {delay:.2f} s after {stage!r}: {verdict} ({took:.1f} s)")
            if not whole:
                print(output[-3000:], flush=True)
    finally:
        for process in load:
            process.kill()
    print(f"{options.runs - failures} of {options.runs} runs stopped whole", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.default_int_handler)
    sys.exit(main())
