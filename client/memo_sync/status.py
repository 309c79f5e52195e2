"""`memo status`: what a sync would do, read without writing anything."""

from memo_sync.engine import Sync


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
        page = api.changes(since)
        for item in page["items"]:
            changes.append(server_change(folder, item))
        since = page["next_since"]
        if not page["items"]:
            return [change for change in changes if change is not None]


def server_change(folder, item):
    note = item.get("note") or {"id": item["deleted"]["id"], "trashed": True}
    entry = folder.notes.get(str(note["id"]))
    if note["trashed"]:
        return ("gone", entry["path"]) if entry else None
    if entry is None:
        return ("new", f'"{note["title"]}"')
    return ("changed", entry["path"]) if note["revision"] > entry["revision"] else None


def report(folder, api, say):
    """Say what a sync would push, pull and find in conflict; return the lines said."""
    Sync(folder, api, say).prepare()  # the folder is read-only: moves and claims in memory
    here, there = local_changes(folder), server_changes(folder, api)
    both = {path for _, path in here} & {path for _, path in there}
    lines = [f"to push:  {what:<9} {path}" for what, path in here if path not in both]
    lines += [f"to pull:  {what:<9} {path}" for what, path in there if path not in both]
    lines += [f"conflict: {path} (changed on both sides)" for path in sorted(both)]
    for line in lines:
        say(line)
    say(f"memo: {len(here)} to push, {len(there)} to pull, {len(both)} in conflict")
    return lines
