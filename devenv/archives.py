"""Hostile import archives that tests and benchmarks share (issue #47)."""

import io
import random
import zipfile

MB = 1024 * 1024


def empty_notes_archive(unpacked=48 * MB, seed=47):
    """Return the issue's zip: `{"notes":[{},{},…]}`, ~1.45 MB deflating ~35:1.

    Separators vary a little at random (", " one time in 16), so that the entry stays under
    a 100:1 ratio check as the reported archive did.
    """
    chooser = random.Random(seed)  # noqa: S311  (a test file, not a secret)
    separators = chooser.choices([b",", b", "], weights=[15, 1], k=unpacked // 3)
    body = b'{"notes":[{}' + b"".join(separator + b"{}" for separator in separators) + b"]}"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("account.json", body)
    return buffer.getvalue()
