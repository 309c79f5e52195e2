#!/usr/bin/env python3
"""Benchmark: a worker's peak memory while it makes photos from the worst uploads it accepts.

    .venv/bin/python bench/photo_peak.py

Makes the two worst uploads the form accepts (just under 10 MiB and 40 megapixels each): a PNG
with an alpha channel (RGBA: 160 MB of pixels once decoded) and a baseline JPEG. For each, a
fresh process loads the app as `flask worker` does and makes four photos at once in four
threads, as four photo jobs of one worker process do (app/features/mypage/photos.py's decode_alone:
one decode at a time, the others wait their turn). The process and its decoding children are
sampled every 20 ms; the peak is their summed RSS. Target: 300 MB per worker process.
"""

import io
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import psutil

from bench.jobs import peak_rss_mb
from devenv import ROOT

SIDE = 6324  # 6324 x 6324 = 39.99 MP, just under the limit of 40
MAX_UPLOAD = 10 * 2**20

WORKER_LIKE = """
import sys, threading
from app import create_app
app = create_app("config.TestingConfig")  # never connects: decoding queries nothing
from app.features.mypage.photos import DecoderBusy, decode_alone
data = open(sys.argv[1], "rb").read()
sys.stdout.write("ready\\n"); sys.stdout.flush(); sys.stdin.readline()

def make(number):
    while True:
        try:
            return decode_alone(number, data)
        except DecoderBusy:
            continue  # the job would go back to the queue and come again

threads = [threading.Thread(target=make, args=(n,)) for n in range(4)]
for thread in threads: thread.start()
for thread in threads: thread.join()
"""


def worst_uploads():
    """Return {name: bytes}: a 40 MP RGBA PNG and a 40 MP JPEG, each under 10 MiB."""
    from PIL import Image

    small = Image.effect_noise((SIDE // 8, SIDE // 8), 60)
    rgba = Image.merge("RGBA", [small, small.rotate(90), small.rotate(180), small.rotate(270)])
    nearest, smooth = Image.Resampling.NEAREST, Image.Resampling.BICUBIC
    pictures = {"PNG, RGBA": (rgba, nearest, "PNG", {"compress_level": 9})}
    pictures["JPEG, baseline"] = (rgba.convert("RGB"), smooth, "JPEG", {"quality": 85})
    uploads = {}
    for name, (picture, resample, format_, options) in pictures.items():
        output = io.BytesIO()
        picture.resize((SIDE, SIDE), resample).save(output, format_, **options)
        assert len(output.getvalue()) < MAX_UPLOAD, (name, len(output.getvalue()))
        uploads[name] = output.getvalue()
    return uploads


def peak_of_four(path):
    """Return (MB before the photos, peak MB) of a worker-like process making four photos."""
    environ = {**os.environ, "DATABASE_URL": "postgresql+psycopg2://bench@127.0.0.1:9/none"}
    child = subprocess.Popen(
        [sys.executable, "-c", WORKER_LIKE, str(path)],
        cwd=ROOT,
        env=environ,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout.readline() == "ready\n"
    process = psutil.Process(child.pid)
    before = round(process.memory_info().rss / 2**20, 1)

    def make_four():
        child.stdin.write("go\n")
        child.stdin.flush()
        assert child.wait(timeout=600) == 0

    return before, peak_rss_mb([process], make_four)


def main():
    folder = Path(tempfile.mkdtemp(prefix="memo-photo-peak-"))
    figures = {}
    for name, data in worst_uploads().items():
        path = folder / "upload"
        path.write_bytes(data)
        before, peak = peak_of_four(path)
        figures[name] = {"upload_mib": round(len(data) / 2**20, 2), "before_mb": before,
                         "peak_mb": peak}  # fmt: skip
    print(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
