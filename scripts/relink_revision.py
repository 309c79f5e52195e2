#!/usr/bin/env python3
"""Put this branch's new revisions on top of main's head before it lands.

    scripts/relink_revision.py [--onto main] [--renumber] [--dry-run]

A revision is new when its file is not in `--onto`'s tree (main by default). The lowest new
revision gets main's head as its `down_revision` (and its "Revises:" line); with
`--renumber`, new revisions whose id main already uses, or that would sort below main's
head, take the next free numbers (file name, `revision`, "Revision ID:"). Shipped
revisions are never touched: they are frozen (docs/migrations.md). Run it after `git rebase
main`, then run the migration tests and commit.
"""

import argparse
import re
import subprocess
import sys
from pathlib import Path

from devenv.revisions import VERSIONS, ids, revisions_at

ROOT = Path.cwd()


def git(*args, check=True):
    """Run git in the current checkout and return its output."""
    return subprocess.run(
        ["git", *args], cwd=ROOT, check=check, capture_output=True, text=True
    ).stdout


def head_of(revisions):
    """Return the one revision no other names as its parent; exit if there is not one."""
    parents = set()
    for _, down in revisions.values():
        parents.update(down if isinstance(down, tuple | list) else [down])
    heads = sorted(revision for revision, _ in revisions.values() if revision not in parents)
    if len(heads) != 1:
        sys.exit(f"relink: expected one head, found {heads or 'none'}")
    return heads[0]


def rewrite(path, old_id, new_id, new_parent):
    """Return `path`'s text with its id and parent changed, docstring header included."""
    text = path.read_text()
    text = re.sub(
        r"^down_revision = .*$", f'down_revision = "{new_parent}"', text, count=1, flags=re.M
    )
    text = re.sub(r"^Revises: .*$", f"Revises: {new_parent}", text, count=1, flags=re.M)
    if new_id != old_id:
        text = re.sub(r"^revision = .*$", f'revision = "{new_id}"', text, count=1, flags=re.M)
        text = re.sub(r"^Revision ID: .*$", f"Revision ID: {new_id}", text, count=1, flags=re.M)
    return text


def plan(onto, renumber):
    """Return [(path, old id, new id, old parent, new parent)] for this branch's new revisions."""
    shipped = revisions_at(onto, git)
    here = {
        str(path.relative_to(ROOT)): ids(path.read_text())
        for path in sorted((ROOT / VERSIONS).glob("*.py"))
    }
    new = {found[0]: (path, found[1]) for path, found in here.items() if path not in shipped}
    if not new:
        return []
    head = head_of(shipped)
    taken = {revision for revision, _ in shipped.values()}
    next_number = max(int(r) for r in taken | new.keys() if r.isdigit()) + 1
    steps, parent = [], head
    for revision in in_chain_order(new):
        path, down = new[revision]
        new_id = revision
        if renumber and (revision in taken or (revision.isdigit() and int(revision) <= int(head))):
            new_id = f"{next_number:04d}"
            next_number += 1
        steps.append((path, revision, new_id, down, parent))
        parent = new_id
    return steps


def in_chain_order(new):
    """Return the new revisions' ids from the lowest up, each branch's own chain kept."""
    children = {down: revision for revision, (_, down) in new.items() if down in new}
    order = []
    for bottom in sorted(revision for revision, (_, down) in new.items() if down not in new):
        revision = bottom
        while revision is not None:
            order.append(revision)
            revision = children.get(revision)
    return order


def main():
    """Relink (and renumber) the branch's new revisions onto main's head."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--onto", default="main", help="the ref that shipped revisions come from")
    parser.add_argument("--renumber", action="store_true", help="renumber ids main already has")
    parser.add_argument("--dry-run", action="store_true", help="say what would change")
    args = parser.parse_args()
    steps = plan(args.onto, args.renumber)
    if not steps:
        print(f"relink: no new revision on this branch (every one is in {args.onto})")
        return 0
    for path, old_id, new_id, old_parent, new_parent in steps:
        if (old_id, old_parent) == (new_id, new_parent):
            print(f"relink: {old_id} already revises {new_parent}")
            continue
        target = Path(path).with_name(Path(path).name.replace(old_id, new_id, 1))
        print(
            f"relink: {old_id} (revised {old_parent}) -> {new_id}, revises {new_parent}"
            + (f", as {target}" if target != Path(path) else "")
        )
        if args.dry_run:
            continue
        text = rewrite(ROOT / path, old_id, new_id, new_parent)
        (ROOT / path).unlink()
        (ROOT / target).write_text(text)
        if new_id != old_id:
            mentions = git("grep", "-l", f'"{old_id}"', "--", "tests", "app", check=False).split()
            if mentions:
                print(f"relink: these files still name {old_id}: {', '.join(mentions)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
