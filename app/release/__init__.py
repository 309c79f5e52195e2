"""The release phase: `flask db upgrade` against a database the previous release is serving.

migrations/env.py wires Alembic to these modules (migrations/ imports app/, never the other
way round):
- session: the session's lock and statement timeouts, the advisory lock that makes this run
  the only upgrader, and retries (jittered backoff) of a revision that waits too long for a
  lock, then one line naming it and its cause;
- records: the record of applied revisions, table `schema_revisions`, which revision 0034
  makes (each one's parent, checksum, time, release and `backward_compatible` mark, kept
  until that table exists), and the platform rollback's case, a database ahead of this
  code whose newer revisions are all marked backward compatible;
- history: before migrating, the record is compared with this code's chain, and a history
  that disagrees (a relinked revision, skipped ancestors) is refused; `flask release
  apply-skipped` runs what was skipped;
- freeze: a revision's checksum (its code without docstrings), which the record and the
  committed list of shipped revisions (migrations/frozen.txt) compare.

- ddl: the DDL helpers revisions import (changes to live tables that do not block them).

Revisions 0002, 0003, 0007, 0008, 0009, 0011 and 0016 shipped with `from app.release import
...`, and a shipped revision is frozen (docs/releases.md): the helpers stay importable from
here. Later ones import them from migrations.ddl, which re-exports them. The web imports none
of it: what /readyz reads is in app/schema.py.
"""

from app.release.ddl import constraint_exists, create_index_concurrently, index_is_valid

__all__ = ["constraint_exists", "create_index_concurrently", "index_is_valid"]
