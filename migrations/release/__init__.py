"""The release phase: `flask db upgrade` against a database the previous release is serving.

migrations/env.py wires Alembic to these modules:
- session: the session's lock and statement timeouts, the advisory lock that makes this run
  the only upgrader, and retries (jittered backoff) of a revision that waits too long for a
  lock, then one line naming it and its cause;
- records: the record of applied revisions, table `schema_revisions` (each one's parent,
  checksum, time, release and `backward_compatible` mark), and the platform rollback's case,
  a database ahead of this code whose newer revisions are all marked backward compatible;
- history: before migrating, the record is compared with this code's chain, and a history
  that disagrees (a relinked revision, skipped ancestors) is refused; `flask release
  apply-skipped` runs what was skipped;
- freeze: a revision's checksum (its code without docstrings), which the record and the
  committed list of shipped revisions (migrations/frozen.txt) compare.

The web imports none of it: what /readyz reads is in app/schema.py.
"""
