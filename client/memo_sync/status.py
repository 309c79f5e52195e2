"""`memo status`: what a sync would do, read without writing anything."""

from memo_sync.api import Unsafe
from memo_sync.engine import Sync
from memo_sync.safety import checked_note, feed_page, positive_id


def local_changes(folder):
    """Return [(what, path)] of the files changed here since they were last in step."""
    files = folder.scan()
    changes = []
    for path, local in files.items():
        _, entry = folder.entry_at(path)
        if entry is None and not local.draft.trashed:
            changes.append(("new", path))
        elif entry is not None and local.hash != entry["hash"]:
            changes.append(("modified", path))
    for entry in folder.notes.values():
        if entry["path"] not in files:
            changes.append(("deleted", entry["path"]))
    return changes


def server_changes(folder, api):
    """Return [(what, path or title)] of the feed after the folder's `next_since`."""
    since, changes = folder.state.get("next_since", 0), []
    while True:
        folder.budget.spend(pages=1)
        items, since = feed_page(api.changes(since), since)
        for item in items:
            changes.append(server_change(folder, item))
        if not items:
            return [change for change in changes if change is not None]


def server_change(folder, item):
    """Return what one item of the feed would do here ("refused" for one not taken)."""
    try:
        if isinstance(item, dict) and isinstance(item.get("deleted"), dict):
            note = {"id": positive_id(item["deleted"].get("id")), "trashed": True}
        else:
            note = checked_note(item.get("note") if isinstance(item, dict) else None)
    except Unsafe as unsafe:
        return ("refused", str(unsafe))
    entry = folder.notes.get(str(note["id"]))
    if note["trashed"]:
        return ("gone", entry["path"]) if entry else None
    if entry is None:
        return ("new", f'"{note["title"]}"')
    return ("changed", entry["path"]) if note["revision"] > entry["revision"] else None


def unreadable(folder):
    """Return the lines of the front matter values a push would leave as the server has them."""
    return [
        f"unread:   {path}: {key}: {value!r} (yes/no, true/false or a date): left as it is"
        for path, local in folder.scan().items()
        for key, value in local.draft.unreadable
    ]


def report(folder, api, say):
    """Say what a sync would push, pull and find in conflict; return the lines said."""
    Sync(folder, api, say).prepare()  # the folder is read-only: moves and claims in memory
    here, there = local_changes(folder), server_changes(folder, api)
    both = {path for _, path in here} & {path for _, path in there}
    lines = [f"to push:  {what:<9} {path}" for what, path in here if path not in both]
    lines += [f"to pull:  {what:<9} {path}" for what, path in there if path not in both]
    lines += [f"conflict: {path} (changed on both sides)" for path in sorted(both)]
    lines += unreadable(folder)
    for line in lines:
        say(line)
    say(f"memo: {len(here)} to push, {len(there)} to pull, {len(both)} in conflict")
    return lines
