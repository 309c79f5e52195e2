"""The DDL helpers revisions import: `from migrations.ddl import create_index_concurrently`.

They live with the release phase in app/release/ddl.py (migrations/ imports app/, never the
other way round); this name stays for the revisions that shipped with it.
"""

from app.release.ddl import constraint_exists, create_index_concurrently, index_is_valid

__all__ = ["constraint_exists", "create_index_concurrently", "index_is_valid"]
