"""The environment variables the code reads, found in its text (shared by the configuration's
tests and the docs' tests)."""

import re

from devenv import ROOT

ENV_READ = re.compile(
    r"""(?:environ(?:\.get)?[\[(]|getenv\(|env\.get\(|_from_env\(\s*\w+,)\s*["']([A-Z][A-Z0-9_]+)["']"""
)
CONFIGURATION = (ROOT / "config.py", ROOT / "config_parsing.py")


def variables_read(sources):
    """Return the names of the environment variables the files `sources` read."""
    return {name for path in sources for name in ENV_READ.findall(path.read_text())}


def env_example_names():
    """Return the variables .env.example lists (its uncommented `NAME=` lines)."""
    lines = (ROOT / ".env.example").read_text().splitlines()
    return {line.split("=")[0] for line in lines if line and not line.startswith("#")}
