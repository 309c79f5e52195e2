"""What bench/web.py prints: one Markdown table of the figures with the targets met or missed,
and, with --profile, where a worker's CPU went while it served the notes list (py-spy).
"""

import subprocess
from datetime import UTC, datetime

from devenv import ROOT, say
from devenv.liveserver import (
    program,
)

# What a profile of the notes list is split into: the frames a sample's stack holds.
PROFILE_PARTS = [
    ("templates (Jinja, url_for, the CSRF token)", ("render_template (",)),
    ("the login session and its user (one ORM query)", ("load_user (app/models.py",)),
    ("the notes query (ORM, 21 rows)", ("notes_page (",)),
    ("the log line", ("log_request (",)),
]

RESULTS = ROOT / "bench" / "results"
WRK_THREADS = 2
WARM_UP_SECONDS = 3
BOOTS = 5


def profile(load, server, path, cookie, seconds):
    """Record one worker with py-spy while wrk drives `path`; return (file, summary) or None.

    Only the thread holding the GIL is sampled (`--gil`): the samples show where the
    worker spends CPU in Python, not where its threads wait for the database.
    """
    RESULTS.mkdir(exist_ok=True)
    output = RESULTS / f"profile-notes-list-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.txt"
    command = [program("py-spy"), "record", "--pid", str(server.worker_processes()[0].pid), "--gil"]
    command += ["--duration", str(seconds), "--rate", "200", "--format", "raw"]
    command += ["--output", str(output)]
    spy = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    load.run(server.port, path, seconds, cookie, ("get",))
    _, errors = spy.communicate(timeout=60)
    if spy.returncode != 0 or not output.exists():
        say(f"py-spy could not record (it needs ptrace rights): {errors.strip()[-300:]}")
        return None
    return output, summarize_profile(output)


def summarize_profile(path):
    """Return (all samples, samples inside Flask's request handling, {part: samples})."""
    total, inside = 0, 0
    parts = {name: 0 for name, _ in PROFILE_PARTS}
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        total += int(count)
        if "Flask.wsgi_app (" not in stack:
            continue  # gunicorn itself: accepting, parsing requests, writing responses
        inside += int(count)
        for name, frames in PROFILE_PARTS:
            if any(frame in stack for frame in frames):
                parts[name] += int(count)
    return total, inside, parts


def profile_lines(profiled):
    """Describe a profile: where the worker's CPU went."""
    path, (total, inside, parts) = profiled
    if not total:
        return [f"Profile {path.name}: no samples."]
    shares = ", ".join(f"{name} {count / total:.0%}" for name, count in parts.items())
    rest = (inside - sum(parts.values())) / total
    return [
        f"Profile of one worker's CPU serving the notes list (py-spy --gil, {total:,} samples, "
        f"{path.relative_to(ROOT)}): gunicorn outside the app {1 - inside / total:.0%}; "
        f"{shares}; the rest of Flask, Werkzeug and Flask-Login (request and app contexts, "
        f"the session cookie, connection checkout, rollback) {rest:.0%}."
    ]


def row(name, figures):
    errors = str(figures["errors"])
    kinds = ("unexpected", "connect", "read", "write", "timeout")
    if figures["errors"]:
        errors += f" ({', '.join(f'{kind} {figures[kind]}' for kind in kinds if figures[kind])})"
    return (
        f"| {name} | {figures['rps']:,.0f} | {figures['p50_us'] / 1000:.1f} | "
        f"{figures['p99_us'] / 1000:.1f} | {errors} | {figures['peak_connections']} | "
        f"{figures['cpu_ms']:.2f} |"
    )


def verdict(met):
    return "met" if met else "**MISSED**"


def report(context, results, boots, samples, profiled=None):
    """Return the Markdown report: the table, the ratios and the targets."""
    lines = [
        f"Machine: {context['machine']}; load average at start {context['load']}",
        f"Commit {context['commit']}, {context['date']}; PostgreSQL {context['postgres']}, "
        f"{context['wrk']}",
        f"Command: `{context['command']}`; wrk -t{WRK_THREADS} -c{context['connections']}, "
        f"{context['seconds']} s per scenario after a {WARM_UP_SECONDS} s warm-up; gunicorn "
        f"{context['workers']} workers x {context['threads']} threads (gthread) for both apps,"
        " Memo behind its front (front/)",
        "",
        "| scenario | requests/s | p50 ms | p99 ms | errors | peak DB connections "
        "| gunicorn CPU ms/request |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    lines += [row(name, figures) for name, figures in results.items()]
    notes_list, baseline = results["notes list `/` (20 of 100 notes)"], results["baseline"]
    ratio = notes_list["rps"] / baseline["rps"]
    note_ratio = results["note page"]["rps"] / baseline["rps"]
    lines += [
        "",
        f"Notes list / baseline: **{ratio:.2f}x** the requests/s (target 0.5x); note page / "
        f"baseline: **{note_ratio:.2f}x** (target 0.7x). In gunicorn CPU per request: "
        f"{baseline['cpu_ms'] / notes_list['cpu_ms']:.2f}x and "
        f"{baseline['cpu_ms'] / results['note page']['cpu_ms']:.2f}x.",
    ]
    checks = [
        ("notes list >= 0.5x baseline requests/s", ratio >= 0.5),
        ("note page >= 0.7x baseline requests/s", note_ratio >= 0.7),
        ("notes list p99 < 100 ms", notes_list["p99_us"] < 100_000),
        ("notes list without errors", notes_list["errors"] == 0),
    ]
    for page, small, big in context["paging"]:
        cost = results[small]["rps"] / results[big]["rps"]
        lines.append(f"{page} with 100,000 notes costs {cost:.2f}x the same page with 100.")
        checks.append((f"{page}: 100,000 notes within 1.5x of 100", cost <= 1.5))
    lines.append(
        f"Worker boot, median of {BOOTS}: {boots['worker_s']:.2f} s after the master's fork "
        f"(import and app factory {boots['import_s']:.2f} s, first request "
        f"{boots['first_request_s']:.2f} s); a whole new process, interpreter and the "
        f"master's imports included: {boots['process_s']:.2f} s."
    )
    checks.append(("worker boot < 1.5 s", boots["worker_s"] < 1.5))
    start, middle, end = samples[0], samples[len(samples) // 2], samples[-1]
    per_worker = end[0] // len(end[1])
    growth = max(b - a for a, b in zip(middle[1], end[1], strict=True))
    lines.append(
        f"Worker RSS (MB, each worker), soak with recycling off: {fmt(start[1])} after warm-up, "
        f"{fmt(middle[1])} at {middle[0]:,} requests, {fmt(end[1])} at {end[0]:,} "
        f"(~{per_worker:,} per worker); growth over the second half at most {growth:+.1f} MB."
    )
    if profiled:
        lines += profile_lines(profiled)
    checks.append(("worker RSS < 150 MB after the soak", max(end[1]) < 150))
    checks.append(("worker RSS not growing (< 5 MB over the second half)", growth < 5))
    lines += ["", "| target | result |", "|---|---|"]
    lines += [f"| {name} | {verdict(met)} |" for name, met in checks]
    return "\n".join(lines)


def fmt(values):
    return "/".join(f"{value:.0f}" for value in values)
