"""Local development services and set-up, shared by scripts/ and tests/."""

from contextlib import suppress
from pathlib import Path

# The repository's folder: what scripts, benchmarks and tests run and read.
ROOT = Path(__file__).resolve().parent.parent


def say(message):
    """Print a progress line that stands out from the tools' own output."""
    # Where the terminal or the pipe's reader is gone, the work goes on without the line.
    with suppress(OSError):
        print(f"==> {message}", flush=True)
