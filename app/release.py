"""DDL helpers under the name that revisions 0002, 0003, 0007, 0008, 0009, 0011 and 0016 import.

Those revisions shipped with `from app.release import ...`; a shipped revision is frozen
(docs/releases.md), so the name stays. New revisions import from migrations.ddl. The release
phase itself is migrations/release/; nothing in the web imports this module.
"""

from migrations.ddl import constraint_exists, create_index_concurrently, index_is_valid

__all__ = ["constraint_exists", "create_index_concurrently", "index_is_valid"]
