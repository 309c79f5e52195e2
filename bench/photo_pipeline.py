#!/usr/bin/env python3
"""Benchmark: the web side of a 12-megapixel JPEG upload, through the real route.

    .venv/bin/python bench/photo_pipeline.py [--runs 20]

Starts an embedded PostgreSQL and a local S3 server (moto over HTTP) in this
process, migrates, then runs a separate worker process that creates the app as a
gunicorn worker would, signs up, and POSTs the photo to /mypage/photo `--runs`
times (CSRF, multipart parsing, the signature check, the PUT of the upload to the
store, the row and its job, the commit). The picture is made into a photo by the
worker, which bench/jobs.py measures. Prints the median time per upload and the
process's peak RSS (VmHWM: the whole process, Python and all).
"""

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from devenv import ROOT
from devenv.memory import rss_mb


def make_photo(path):
    """Write a 4000x3000 JPEG that compresses like a photo (gradients, grain, soft edges)."""
    from PIL import Image, ImageFilter

    size = (4000, 3000)
    red = Image.radial_gradient("L").resize(size)
    green = Image.effect_noise(size, 40)
    blue = Image.linear_gradient("L").resize(size)
    photo = Image.merge("RGB", (red, green, blue)).filter(ImageFilter.GaussianBlur(1))
    photo.save(path, "JPEG", quality=90)


def worker(photo_path, runs):
    """Create the app, sign up, upload the photo `runs` times; print the figures as JSON."""
    from app import create_app
    from devenv.visitors import Browser

    # No worker runs here: let the uploads queue up past the per-user limit.
    app = create_app("config.TestingConfig", {"PHOTOS_UNFINISHED_PER_USER": runs + 1})
    browser = Browser(app.test_client())
    assert browser.signup().status_code == 302
    data = Path(photo_path).read_bytes()
    assert browser.upload_photo(data).status_code == 302  # warm-up: first-use imports
    rss_before = rss_mb()
    timings = []
    for _ in range(runs):
        browser.get("/mypage")
        started = time.perf_counter()
        response = browser.post("/mypage/photo", {"photo": (io.BytesIO(data), "photo.jpg")})
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 302, response.get_data(as_text=True)
    peak = rss_mb(peak=True)
    print(json.dumps({"timings_ms": timings, "rss_before_mb": rss_before, "peak_rss_mb": peak}))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--worker", metavar="PHOTO", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args.worker, args.runs)

    from devenv.services import ObjectStore, ensure_database, start_postgres

    folder = Path(tempfile.mkdtemp(prefix="memo-bench-"))
    photo = folder / "photo.jpg"
    make_photo(photo)
    postgres = start_postgres(folder / "postgres", cleanup_mode="delete")
    store = ObjectStore("memo-bench").start()
    try:
        ensure_database(postgres.get_uri(), "memo_bench", recreate=True)
        env = {
            **os.environ,
            **store.environment(),
            "APP_SETTINGS": "config.TestingConfig",
            "TEST_DATABASE_URL": postgres.get_uri("memo_bench"),
            "LOG_LEVEL": "WARNING",
        }
        flask = Path(sys.executable).parent / "flask"
        subprocess.run([flask, "--app", "wsgi", "db", "upgrade"], env=env, cwd=ROOT, check=True)
        command = [sys.executable, __file__, "--worker", str(photo), "--runs", str(args.runs)]
        output = subprocess.run(
            command, env=env, cwd=ROOT, check=True, capture_output=True, text=True
        ).stdout
    finally:
        store.stop()
        postgres.cleanup()
    figures = json.loads(output.strip().splitlines()[-1])
    timings = figures["timings_ms"]
    print(f"photo: 4000x3000 JPEG (12 MP), {photo.stat().st_size / 1e6:.1f} MB")
    print(f"uploads through POST /mypage/photo: {len(timings)} (after one warm-up)")
    print(
        f"median {statistics.median(timings):.0f} ms "
        f"(min {min(timings):.0f}, max {max(timings):.0f})"
    )
    print(
        f"worker peak RSS {figures['peak_rss_mb']:.0f} MB "
        f"(before the measured uploads: {figures['rss_before_mb']:.0f} MB)"
    )


if __name__ == "__main__":
    sys.exit(main())
