#!/usr/bin/env python3
"""Deep run (not a CI test): the recovery state machine over many more sequences.

    .venv/bin/python bench/recovery_sequences.py [--examples 200] [--steps 20]

Runs tests/test_recovery_sequences.py (the owner, the intruder who knows the password and the
keeper of copies of the owner's mail, every act of each; docs/mail.md, "The one rule") with
`--examples` sequences of up to `--steps` steps each, randomized (a new seed each run, unlike
CI's fixed handful), through ./scripts/test and its real PostgreSQL, SMTP server and queue.
Prints one JSON line: examples, steps, seconds, and whether the machine found anything.
"""

import argparse
import json
import os
import subprocess
import sys
import time

from devenv import ROOT


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=200)
    parser.add_argument("--steps", type=int, default=20)
    args = parser.parse_args()
    environment = {
        **os.environ,
        "MEMO_RECOVERY_EXAMPLES": str(args.examples),
        "MEMO_RECOVERY_STEPS": str(args.steps),
        "MEMO_RECOVERY_RANDOM": "1",
    }
    started = time.monotonic()
    command = [str(ROOT / "scripts" / "test"), "tests/test_recovery_sequences.py", "-q", "-n", "0"]
    code = subprocess.call(command, cwd=ROOT, env=environment)
    report = {
        "examples": args.examples,
        "steps": args.steps,
        "seconds": round(time.monotonic() - started),
        "found": "nothing" if code == 0 else "a failing sequence (above)",
    }
    print(json.dumps(report))
    return code


if __name__ == "__main__":
    sys.exit(main())
