"""Local development services and set-up, shared by scripts/ and tests/."""

from pathlib import Path

# The repository's folder: what scripts, benchmarks and tests run and read.
ROOT = Path(__file__).resolve().parent.parent
