"""A process's resident memory as the benchmarks report it, in MB, from Linux's /proc.

It imports only pathlib, so a benchmark that measures its own process (bench/import_peak.py)
adds nothing to the figure by importing it.
"""

from pathlib import Path


def rss_mb(pid="self", peak=False):
    """Return a process's resident memory now (VmRSS), or its peak (VmHWM), in MB.

    0 for a process that has exited. The peak is VmHWM, not ru_maxrss: Linux carries
    ru_maxrss over exec from the parent, VmHWM starts afresh with each program.
    """
    field = "VmHWM:" if peak else "VmRSS:"
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    kilobytes = next((line.split()[1] for line in status.splitlines() if line.startswith(field)), 0)
    return int(kilobytes) / 1024  # a zombie has no Vm lines: 0 too
