"""The history check: what the record says ran, against this code's chain."""

import logging
import re
from dataclasses import dataclass, field

from alembic.util import CommandError

from app.release.freeze import script_checksum, script_file
from app.release.records import parent_of, recorded_revisions, release_commit
from app.schema import database_heads

logger = logging.getLogger("memo.migrations")


@dataclass
class History:
    """How the database's record of applied revisions compares with this code's chain."""

    heads: set
    # Each list runs from the oldest revision up.
    skipped: list = field(default_factory=list)  # never recorded, above recorded ones
    relinked: list = field(default_factory=list)  # (script, record) applied on another parent
    changed: list = field(default_factory=list)  # scripts whose code changed since they ran
    assumed: list = field(default_factory=list)  # scripts that predate the record
    unsummed: list = field(default_factory=list)  # scripts recorded without a checksum

    def errors(self, strict=False):
        """Return the problems that stop the release phase, one paragraph each."""
        problems = [relink_message(script, record) for script, record in self.relinked]
        if self.skipped and not self.relinked:
            problems.append(
                f"revisions {ids(self.skipped)} were never recorded as applied, though "
                "revisions below and above them were"
            )
        if strict:
            problems += [changed_message(script, record) for script, record in self.changed]
        return problems

    def warnings(self, strict=False):
        """Return the problems that are only reported."""
        return [] if strict else [changed_message(s, record) for s, record in self.changed]


def check_history(connection, scripts):
    """Compare the record with the chain below the database's heads; change nothing."""
    records = recorded_revisions(connection)
    history = History(heads=database_heads(connection))
    known = {script.revision for script in scripts.walk_revisions()}
    for head in sorted(history.heads & known):
        above_a_record = False
        for script in reversed(list(scripts.iterate_revisions(head, "base"))):
            record = records.get(script.revision)
            if record is None:
                (history.skipped if above_a_record else history.assumed).append(script)
                continue
            above_a_record = True
            if record["down_revision"] != parent_of(script):
                history.relinked.append((script, record))
            if record.get("checksum") is None:
                history.unsummed.append(script)
            elif record["checksum"] != script_checksum(script):
                history.changed.append((script, record))
    return history


def validate_history(connection, scripts, strict=False):
    """Raise CommandError, before anything changes, when the record disagrees with the chain."""
    history = check_history(connection, scripts)
    for warning in history.warnings(strict):
        logger.warning("%s", warning)
    problems = history.errors(strict)
    if problems:
        raise CommandError(refusal(history, problems))
    return history


def refusal(history, problems):
    """Return the release phase's refusal: what disagrees, its probable cause, the way out."""
    at = ", ".join(sorted(history.heads))
    lines = [f"the database's migration history disagrees with this release (at {at}):"]
    lines += [f"- {problem}" for problem in problems]
    if history.skipped:
        lines.append(
            f"Alembic would take {ids(history.skipped)} as applied and skip them. Nothing "
            "was changed. Either apply them by hand with this release, `flask release "
            'apply-skipped` (docs/releases.md, "Skipped revisions"), then run the release '
            "phase again; or restore the database from a backup taken before the relinked "
            "revision ran, and deploy this release."
        )
    elif history.changed:
        lines.append(
            "Nothing was changed. Check that the change is only cosmetic, then accept it "
            "with `flask release validate --accept-checksums`, or restore the revision's file."
        )
    return "\n".join(lines)


def relink_message(script, record):
    """Describe a revision applied on a parent other than the one this code names."""
    ran = re.sub(r"\.\d+", "", record.get("applied_at", "?"))
    cause = f"git log --first-parent -L '/^down_revision/,+1:{script_file(script)}'"
    if record.get("release") and release_commit():
        cause = (
            f"git log --first-parent {record['release'][:10]}..{release_commit()[:10]} "
            f"-- {script_file(script)}"
        )
    return (
        f"revision {script.revision} ran on top of {record['down_revision'] or 'base'}"
        f" (at {ran}), but this release's {script.revision} revises "
        f"{parent_of(script) or 'base'}: its down_revision was changed after it shipped. "
        f"The commit that did it is probably in `{cause}`"
    )


def changed_message(script, record):
    """Describe a revision whose code changed after it ran."""
    return (
        f"revision {script.revision}'s code changed since it ran (checksum "
        f"{record['checksum'][:12]} recorded, {script_checksum(script)[:12]} now, in "
        f"{script_file(script)}): a shipped revision is frozen"
    )


def ids(scripts):
    """Return "0006, 0007" for a list of scripts."""
    return ", ".join(script.revision for script in scripts)
