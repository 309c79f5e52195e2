"""The formation run, long: 4 web processes and 3 workers, 50 users, behind PgBouncer.

Starts an embedded PostgreSQL and a local S3 server, then runs devenv/formation.py's two
phases, each with the release phase of a revision that locks `note` and a worker and a web
process SIGKILLed and replaced: every process direct (the role's limit lifted), then through
PgBouncer in transaction mode with 10 server connections before a role allowed 20. Prints the
figures. `--seconds` is per phase (default 300: the 5-minute run in bench/README.md).
"""

import argparse
import shutil
import sys

from devenv import formation
from devenv.services import ObjectStore, throwaway_postgres


def main():
    """Run the formation and print its figures; exit 1 if anything was lost or failed."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=300)
    arguments = parser.parse_args()
    server, folder = throwaway_postgres("memo-formation-")
    store = ObjectStore("memo-formation").start()
    try:
        run = formation.run_formation(
            server.get_uri(), store.environment(), folder, arguments.seconds
        )
        print("\n".join(formation.report(run)))
        failed = any(figures["failed"] for figures in run.figures.values())
        return 1 if run.problems or failed else 0
    finally:
        store.stop()
        server.cleanup()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
