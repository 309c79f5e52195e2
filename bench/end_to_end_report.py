"""The table of bench/end_to_end.py: each view's figures beside issue #81's targets.

Requests/s and CPU are given as ratios to the fortunes page measured by the same server group
in the same run: the machine is shared, and a ratio moves much less with its load.
"""

import re
from collections import Counter

NAMES = {
    "fortunes": "fortunes (bare, behind the front)",
    "list-304": "the list, a revisit (If-None-Match: 304)",
    "list-again": "the list, asked again without revalidation",
    "list-anew": "the list, made anew ({accounts} accounts in turn)",
    "note-304": "a note page, a revisit (304)",
    "note-again": "a note page, asked again without revalidation",
    "note-anew": "a note page, made anew ({accounts} accounts in turn)",
}
# Issue #81's targets a view: requests/s at least, CPU in all at most (both × fortunes),
# p99 below (ms, at 32 connections on a quiet machine), round trips a request at most.
TARGETS = {
    "list-304": {"rps": 0.8, "cpu": 1.5, "p99": 100, "trips": 1},
    "note-304": {"rps": 0.8, "cpu": 1.5, "p99": 100, "trips": 1},
    "list-anew": {"rps": 0.5, "cpu": 2.5, "p99": 200, "trips": 3},
    "note-anew": {"rps": 0.4, "p99": 200, "trips": 3},
}
FRONT_MS = 0.5  # the front's own CPU a request, at most, for every view
KINDS = ("front", "gunicorn", "postgres")
TRIP_KINDS = ("pings", "begins", "statements", "commits", "rollbacks")


def judged(value, target, at_most, missed, label):
    """Return ' (≤ target ✓)' or ' (≥ target ✗)', noting a miss in `missed`."""
    met = value <= target if at_most else value >= target
    if not met:
        missed.append(label)
    return f" ({'≤' if at_most else '≥'} {target:g} {'✓' if met else '✗'})"


def trips_cell(figures):
    """Round trips a request: the total, and what it is made of."""
    trips = figures.get("trips")
    if not trips or not trips["statements"]:
        return "–", None
    total = sum(trips[kind] for kind in TRIP_KINDS)
    parts = ", ".join(f"{trips[kind]:.2f} {kind}" for kind in TRIP_KINDS if trips[kind] >= 0.005)
    return f"{total:.2f} ({parts})", total


def row(name, view, figures, fortunes, accounts, missed):
    """One line of the table."""
    target = TARGETS.get(view, {}) if name == "this" else {}
    label = f"{name}: {view}"
    rps_ratio = figures["rps"] / fortunes["rps"]
    rps = f"{figures['rps']:.0f} ({rps_ratio:.2f}×)"
    if "rps" in target:
        rps += judged(rps_ratio, target["rps"], False, missed, label + " req/s")
    p99_ms = figures["p99_us"] / 1000
    latency = f"{figures['p50_us'] / 1000:.1f} / {p99_ms:.1f}"
    if "p99" in target:
        latency += judged(p99_ms, target["p99"], True, missed, label + " p99")
    cpu = figures["cpu_ms"]
    front = f"{cpu['front']:.2f}"
    if name == "this":
        front += judged(cpu["front"], FRONT_MS, True, missed, label + " front")
    in_all = sum(cpu.values())
    cpu_ratio = in_all / sum(fortunes["cpu_ms"].values())
    total = f"**{in_all:.2f}** ({cpu_ratio:.2f}×)"
    if "cpu" in target:
        total += judged(cpu_ratio, target["cpu"], True, missed, label + " CPU")
    trips, count = trips_cell(figures)
    if "trips" in target and count is not None:
        trips += judged(round(count, 2), target["trips"], True, missed, label + " round trips")
    errors = f" ({figures['errors']} errors)" if figures["errors"] else ""
    title = NAMES[view].format(accounts=accounts) + errors
    cells = [title, rps, latency, front, f"{cpu['gunicorn']:.2f}", f"{cpu['postgres']:.2f}"]
    return "| " + " | ".join([*cells, total, trips]) + " |"


def report(context, results, args):
    """Return the Markdown report and the targets missed by this commit."""
    missed = []
    names = list(dict.fromkeys(name for name, _ in results))
    lines = [
        f"End to end, issue #81's targets: {context['command']}",
        "",
        f"- {context['date']}, commit {context['commit']}; {context['machine']}",
        f"- load average {context['load']} at the start, {context['load_after']} at the end",
        f"- wrk, {args.connections} connections, {args.seconds} s a view after a warm-up;"
        f" pages of {context['sizes']['list']:,} and {context['sizes']['note']:,} bytes",
        "",
        "| view | requests/s (× fortunes) | p50 / p99 ms | CPU ms a request: front | gunicorn"
        " | PostgreSQL | in all (× fortunes) | database round trips a request |",
        "|---|--:|--:|--:|--:|--:|--:|---|",
    ]
    for number, name in enumerate(names):
        shown = "this" if number == 0 else name
        if number:
            lines.append(f"| **{name}** (`--beside`) | | | | | | | |")
        fortunes = results[(name, "fortunes")]
        for (group, view), figures in results.items():
            if group == name:
                lines.append(row(shown, view, figures, fortunes, args.accounts, missed))
    lines += ["", "Targets missed: " + ("; ".join(missed) if missed else "none")]
    return "\n".join(lines), missed


def profile_lines(view, path, top=10):
    """Say where one worker's samples went while it made `view` anew: the functions of app/
    most often in a sample's stack, and the frames most often running (py-spy's raw lines)."""
    if path is None:
        return f"Profile of {view}: py-spy could not record (it needs ptrace rights)."
    inclusive, running, total = Counter(), Counter(), 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = [re.sub(r":\d+\)$", ")", frame) for frame in stack.split(";")[1:]]
        total += int(count)
        running[frames[-1]] += int(count)
        for frame in set(frames):
            if "(app/" in frame:
                inclusive[frame] += int(count)
    shares = [
        f"{name}: " + "; ".join(f"{frame} {count / total:.0%}" for frame, count in counts)
        for name, counts in (
            ("in the stack", inclusive.most_common(top)),
            ("running", running.most_common(top)),
        )
    ]
    return f"Profile of one worker, {view} ({total:,} samples, {path.name}):\n- " + "\n- ".join(
        shares
    )
