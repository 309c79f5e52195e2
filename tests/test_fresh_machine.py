"""A fresh machine: the suite's parallel processes each get their PostgreSQL the first time.

Run as root, the embedded PostgreSQL runs as a system user `pgserver` made on first use. On a
fresh CI runner that user does not exist, and the suite's processes start their servers at once.
This test makes that state without touching the machine's own users: in a mount namespace of
its own, /etc is an overlay from which `pgserver` is removed, and there several processes start
a server each at the same moment, as the suite's processes do.
"""

import os
import shutil
import subprocess
import sys
import textwrap

import pytest

from devenv import ROOT

PROCESSES = 6

STARTS = textwrap.dedent(
    """
    import multiprocessing, sys, tempfile
    from pathlib import Path

    def start(barrier, results, index):
        from devenv.services import start_postgres, query
        folder = Path(tempfile.mkdtemp(prefix="memo-fresh-"))
        barrier.wait()
        try:
            server = start_postgres(folder / "postgres", cleanup_mode="delete")
            (answer,) = query(server.get_uri(), "SELECT 1")
            results.put((index, f"served {answer[0]}"))
            server.cleanup()
        except Exception as error:
            results.put((index, f"{type(error).__name__}: {str(error).strip()[-200:]}"))

    if __name__ == "__main__":
        count = int(sys.argv[1])
        barrier, results = multiprocessing.Barrier(count), multiprocessing.Queue()
        processes = [
            multiprocessing.Process(target=start, args=(barrier, results, i)) for i in range(count)
        ]
        for process in processes:
            process.start()
        for _ in processes:
            index, outcome = results.get(timeout=120)
            print(f"process {index}: {outcome}", flush=True)
        for process in processes:
            process.join()
    """
)

# In its own mount namespace: /etc becomes an overlay (writes go to a folder of ours), the
# `pgserver` user is removed there if it exists, then the processes start.
FRESH_MACHINE = textwrap.dedent(
    """
    set -e
    mount -t overlay overlay -o lowerdir=/etc,upperdir="$1/upper",workdir="$1/work" /etc
    # Removed from the overlay's files alone (userdel refuses while the suite's other servers
    # run as the user, and would act on the machine's, not the overlay's, processes).
    sed -i '/^pgserver:/d' /etc/passwd /etc/shadow /etc/group /etc/gshadow
    if id pgserver >/dev/null 2>&1; then echo "pgserver still exists"; exit 3; fi
    exec "$2" "$1/starts.py" "$3"
    """
)


def fresh_machine_unavailable():
    """Why this machine cannot make a fresh machine's /etc, or None."""
    if os.geteuid() != 0:
        return "not root: pgserver runs PostgreSQL as this user, and makes no system user"
    if not shutil.which("unshare") or not shutil.which("useradd"):
        return "unshare or useradd is missing"
    probe = subprocess.run(["unshare", "--mount", "true"], capture_output=True, check=False)
    if probe.returncode:
        return f"no mount namespace here: {probe.stderr.decode().strip()}"
    return None


def test_parallel_processes_each_get_their_postgres_on_a_fresh_machine(tmp_path):
    reason = fresh_machine_unavailable()
    if reason:
        pytest.skip(reason)
    for part in ("upper", "work"):
        (tmp_path / part).mkdir()
    (tmp_path / "starts.py").write_text(STARTS)
    command = ["unshare", "--mount", "--propagation", "private", "sh", "-c", FRESH_MACHINE, "sh"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    ran = subprocess.run(
        [*command, str(tmp_path), sys.executable, str(PROCESSES)],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
        check=False,
    )
    lines = sorted(line for line in ran.stdout.splitlines() if line.startswith("process "))
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert lines == [f"process {index}: served 1" for index in range(PROCESSES)], ran.stderr
