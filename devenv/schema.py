"""A database's schema as text, to compare two databases: `pg_dump --schema-only`."""

import re
import subprocess
from importlib.util import find_spec
from pathlib import Path

# The embedded server's own pg_dump (16), from the pgserver package. Its pg_dump() wrapper
# (0.1.4) prepends `-D <data folder>`, which pg_dump does not take, so the binary is run
# from where the package ships it (found without importing it: no import-time warnings).
PG_DUMP = Path(find_spec("pgserver").origin).parent / "pginstall" / "bin" / "pg_dump"
NOISE = re.compile(r"^(--.*|SET .*|SELECT pg_catalog\.set_config.*|\\(un)?restrict .*)$")


def schema_dump(url):
    """Return the schema of the database at `url`, without comments, settings or blank lines."""
    dumped = subprocess.run(
        [str(PG_DUMP), "--schema-only", "--no-owner", "--no-privileges", url],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return "\n".join(line for line in dumped.splitlines() if line.strip() and not NOISE.match(line))
