#!/usr/bin/env python3
"""Issue #65's speed and memory targets in one table, this checkout beside an older commit.

    ./scripts/bench [--beside 9a07473] [--requests 30] [--seconds 12] [--views 1000]

One run on one machine, each commit measured by its own benchmark code (the older one in a git
worktree under .dev/, with this virtualenv, its checkout first on PYTHONPATH):
1. instructions a request under callgrind (bench/count_pages.py: bench/instructions.py's seed,
   pages and counting, N = `--requests`): fortunes, the notes list and a note page, seen again
   and made anew after a change (the older commit made every view anew);
2. the notes list's p99 at 32 connections through the front (bench/web.py, `--seconds` a
   scenario; its soak kept short: the RSS figure is the next one's);
3. the web workers' RSS after `--views` mixed page views (bench/memory.py).
Prints one Markdown table, each figure with its target, and keeps a copy in bench/results/.
"""

import argparse
import json
import os
import subprocess
import sys
from datetime import UTC, datetime

from bench.web_report import RESULTS
from devenv import ROOT, say
from devenv.history import git

REFERENCE = "9a07473"  # main when issue #65 was filed: the figures it quotes
PAGES = [
    "fortunes",
    "list",
    "list-made",
    "list-new",
    "note",
    "note-made",
    "note-new",
]
# docs/performance.md: a lever counts when it moves the instructions by more than this.
BAR = 0.03
LIST_ROW = "notes list `/` (20 of 100 notes)"


def checkout_of(commit):
    """Return a checkout of `commit`: this one, or a detached worktree under .dev/."""
    head = git("rev-parse", "HEAD")
    wanted = git("rev-parse", f"{commit}^{{commit}}")
    if wanted == head:
        return ROOT, head
    folder = ROOT / ".dev" / f"bench-{wanted[:7]}"
    if not folder.exists():
        git("worktree", "add", "--detach", str(folder), wanted)
    return folder, wanted


def run_in(checkout, log, *args):
    """Run this Python (the virtualenv's) on ARGS in `checkout`, its packages first; return
    what it printed."""
    environ = {**os.environ, "PYTHONPATH": str(checkout)}
    with open(log, "a") as errors:
        done = subprocess.run(
            [sys.executable, *map(str, args)],
            cwd=checkout,
            env=environ,
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
        )
    if done.returncode:
        raise SystemExit(f"memo bench: {args[0]} failed in {checkout} (its errors: {log})")
    return done.stdout


def last_json(output):
    return json.loads(output.strip().splitlines()[-1])


def p99_ms(report):
    """The notes list's p99 (ms) in bench/web.py's table."""
    for line in report.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if cells[0] == LIST_ROW:
            return float(cells[3])
    raise SystemExit(f"memo bench: no row {LIST_ROW!r} in bench/web.py's report")


def measure(checkout, args, log):
    """Return one commit's figures: instructions by page, the list's p99, the workers' RSS."""
    say(f"{checkout.name}: instructions of {len(PAGES)} pages under callgrind")
    counts = last_json(
        run_in(checkout, log, ROOT / "bench" / "count_pages.py", args.requests, *PAGES)
    )
    say(f"{checkout.name}: the notes list under load through the front")
    report = run_in(
        checkout, log, "bench/web.py", "--seconds", args.seconds, "--soak-requests", 200
    )
    say(f"{checkout.name}: the web workers' memory after {args.views} page views")
    memory = last_json(run_in(checkout, log, "bench/memory.py", "--requests", args.views))
    return {"counts": counts, "p99_ms": p99_ms(report), "rss_mb": max(memory["web_workers_mb"])}


def times(counts, page):
    """`page`'s instructions and its multiple of fortunes; a page the commit does not tell
    apart (no kept pages yet) is its plain view."""
    figure = counts.get(page) or counts[page.split("-")[0]]
    return figure, figure / counts["fortunes"]


def rows(old, new):
    """(figure, target, old, new, met) for each target of issue #65."""
    fortunes = (old["counts"]["fortunes"], new["counts"]["fortunes"])
    table = [
        (
            "fortunes, the bare page: M instructions (the yardstick)",
            "",
            *(f"{figure / 1e6:.2f}" for figure in fortunes),
            None,
        )
    ]
    for page, most, label in (("list", 2.0, "notes list"), ("note", 2.5, "note page")):
        (_, old_x), (_, new_x) = times(old["counts"], page), times(new["counts"], page)
        table.append(
            (
                f"{label}, seen again: × fortunes",
                f"≤ {most:.1f}×",
                f"{old_x:.2f}×",
                f"{new_x:.2f}×",
                new_x <= most,
            )
        )
        for kind, what in (
            ("made", "the first view after a note's change"),
            ("new", "a first view of a sign-in or language"),
        ):
            (old_i, _), (new_i, _) = (
                times(old["counts"], f"{page}-{kind}"),
                times(new["counts"], f"{page}-{kind}"),
            )
            target = f"≤ {REFERENCE}'s (+{BAR:.0%})" if kind == "made" else "said, no target"
            met = new_i <= old_i * (1 + BAR) if kind == "made" else None
            table.append(
                (
                    f"{label}, {what}: M instructions",
                    target,
                    f"{old_i / 1e6:.2f}",
                    f"{new_i / 1e6:.2f} ({new_i / old_i - 1:+.0%})",
                    met,
                )
            )
    table.append(
        (
            "notes list p99 at 32 connections through the front",
            "< 100 ms",
            f"{old['p99_ms']:.1f} ms",
            f"{new['p99_ms']:.1f} ms",
            new["p99_ms"] < 100,
        )
    )
    table.append(
        (
            "web worker RSS after the page views, the larger of two",
            "≤ 120 MB",
            f"{old['rss_mb']:.1f} MB",
            f"{new['rss_mb']:.1f} MB",
            new["rss_mb"] <= 120,
        )
    )
    return table


def report(table, old_commit, new_commit, args, started):
    verdicts = {True: "met", False: "**MISSED**", None: "–"}
    load = ", ".join(f"{figure:.1f}" for figure in os.getloadavg())
    lines = [
        f"Issue #65's targets, {started:%Y-%m-%d %H:%M} UTC, load average at the end {load}; "
        f"{os.cpu_count()} cores",
        f"Instructions: callgrind, N = {args.requests}; load: wrk, 32 connections, "
        f"{args.seconds} s; memory: {args.views} page views, two web workers",
        "",
        f"| figure | target | {old_commit[:7]} | {new_commit[:7]} (this checkout) | |",
        "|---|---|--:|--:|---|",
    ]
    lines += [
        f"| {figure} | {target} | {old} | {new} | {verdicts[met]} |"
        for figure, target, old, new, met in table
    ]
    return "\n".join(lines)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--beside", default=REFERENCE, help="the commit to measure beside")
    parser.add_argument("--requests", type=int, default=30, help="N under callgrind")
    parser.add_argument("--seconds", type=int, default=12, help="wrk's seconds a scenario")
    parser.add_argument("--views", type=int, default=1000, help="page views before the RSS")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    started = datetime.now(UTC)
    RESULTS.mkdir(exist_ok=True)
    stem = RESULTS / f"targets-{started:%Y%m%dT%H%M%SZ}"
    log = stem.with_suffix(".log")
    (old_checkout, old_commit), (new_checkout, new_commit) = (
        checkout_of(args.beside),
        checkout_of("HEAD"),
    )
    old = measure(old_checkout, args, log)
    new = measure(new_checkout, args, log)
    table = rows(old, new)
    text = report(table, old_commit, new_commit, args, started)
    print(text)
    stem.with_suffix(".md").write_text(text + "\n\n" + json.dumps({"old": old, "new": new}) + "\n")
    return 0 if all(met is not False for *_, met in table) else 1


if __name__ == "__main__":
    sys.exit(main())
