"""Exporting an account: a job writes one zip archive to the store; my page links to it briefly."""

import io
import json
import urllib.error
import urllib.request
import zipfile
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import IntegrityError

from app import storage
from app.extensions import db
from app.features.mypage.export import NoteFileNames
from app.features.mypage.tasks import delete_old_exports
from app.models import AccountExport, User
from app.objects import sweep
from devenv import pictures
from devenv.services import stored_keys
from devenv.uploads import Attacher
from tests.importing import rows
from tests.note_writers import set_up_directly
from tests.workers import run_queued_jobs

pytestmark = pytest.mark.usefixtures("no_jobs")


def exports(app):
    with app.app_context():
        return db.session.scalars(select(AccountExport).order_by(AccountExport.id)).all()


def export_status(user):
    """Return the state the export page shows (data-status), or None when there is none."""
    page = user.get("/mypage/export").get_data(as_text=True)
    marker = 'id="export-status" class="'
    if marker not in page:
        return None
    start = page.index('data-status="', page.index(marker)) + len('data-status="')
    return page[start : page.index('"', start)]


def start_export(user):
    user.get("/mypage/export")
    return user.post("/mypage/export")


def download(user):
    """Follow the page's download link to the store; return the archive and the link."""
    response = user.get("/mypage/export/download")
    assert response.status_code == 302
    link = response.headers["Location"]
    with urllib.request.urlopen(link, timeout=10) as answer:
        return zipfile.ZipFile(io.BytesIO(answer.read())), link


def test_export_is_a_job_that_writes_one_archive_of_the_account(app, user, other_user):
    user.create_note("First", "one")
    user.create_note("Second", "two")
    other_user.create_note("Bob's secret", "not ann's")
    assert start_export(user).headers["Location"] == "/mypage/export"
    assert export_status(user) == "queued"
    run_queued_jobs(app)
    assert export_status(user) == "done"
    archive, _ = download(user)
    exported = json.loads(archive.read("account.json"))
    assert exported["profile"]["email"] == "ann@example.com"
    assert [(n["title"], n["content"]) for n in exported["notes"]] == [
        ("First", "one"),
        ("Second", "two"),
    ]


def test_the_archive_holds_the_photo_file(app, user):
    data = pictures.png()
    user.upload_photo(data)
    run_queued_jobs(app)
    start_export(user)
    run_queued_jobs(app)
    archive, _ = download(user)
    [photo] = [name for name in archive.namelist() if name.startswith("photo.")]
    assert archive.read(photo)[:4] == b"RIFF"  # the WebP the worker made of it


def test_the_archive_keeps_each_attachment_under_its_own_name(app, user):
    user.create_note("Minutes", "of the meeting")
    attacher = Attacher(user)
    for name in ("회의록.txt", "../../etc/passwd", "report v2.txt"):
        attacher.attach_by_script(1, f"the file {name}".encode(), name)
    start_export(user)
    run_queued_jobs(app)
    archive, _ = download(user)
    files = sorted(n for n in archive.namelist() if n.startswith("attachments/"))
    assert files == [
        "attachments/1-회의록.txt",
        "attachments/2-passwd",
        "attachments/3-report v2.txt",
    ]
    assert archive.read("attachments/1-회의록.txt") == "the file 회의록.txt".encode()


def test_one_export_in_flight_per_user(app, user):
    start_export(user)
    response = start_export(user)
    assert response.status_code == 302
    assert [e.status for e in exports(app)] == ["queued"]
    [owner] = {e.user_id for e in exports(app)}
    with app.app_context():
        db.session.add(AccountExport(user_id=owner, status="running"))
        with pytest.raises(IntegrityError):  # PostgreSQL itself refuses a second one
            db.session.commit()
        db.session.rollback()


def test_the_download_link_is_short_lived_and_the_archive_private(app, user, object_store):
    start_export(user)
    run_queued_jobs(app)
    _, link = download(user)
    query = parse_qs(urlsplit(link).query)
    assert query["X-Amz-Expires"] == [str(app.config["EXPORT_DOWNLOAD_SECONDS"])]
    [key] = stored_keys(object_store, "exports/")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{object_store.public_url}/{key}", timeout=5)
    assert refused.value.code == 403


def test_there_is_nothing_to_download_before_an_export_is_written(app, user, other_user):
    assert user.get("/mypage/export/download").status_code == 404
    start_export(other_user)
    run_queued_jobs(app)
    assert user.get("/mypage/export/download").status_code == 404  # bob's is not ann's


def test_the_export_page_changes_nothing(app, user):
    assert user.get("/mypage/export").status_code == 200
    assert exports(app) == []


def test_old_archives_are_deleted_by_the_maintenance_schedule(app, user, object_store):
    start_export(user)
    run_queued_jobs(app)
    assert stored_keys(object_store, "exports/")
    with app.app_context():
        keep = app.config["EXPORT_KEEP"]
        db.session.execute(
            update(AccountExport).values(
                finished_at=AccountExport.finished_at - keep - timedelta(minutes=1)
            )
        )
        db.session.commit()
        delete_old_exports(timestamp=0)
    run_queued_jobs(app)  # the archive goes in the deletion job deferred with the rows
    assert stored_keys(object_store, "exports/") == set()
    assert exports(app) == []
    assert user.get("/mypage/export/download").status_code == 404


def test_deleting_the_account_deletes_its_archives(app, user, object_store):
    start_export(user)
    run_queued_jobs(app)
    user.get("/mypage")
    assert user.post("/mypage/delete", {"password": "correct horse battery"}).status_code == 302
    run_queued_jobs(app)
    assert stored_keys(object_store, "exports/") == set()
    with app.app_context():
        assert db.session.scalar(select(User)) is None


def test_a_new_export_replaces_the_last_archive(app, user, object_store):
    start_export(user)
    run_queued_jobs(app)
    [first] = stored_keys(object_store, "exports/")
    start_export(user)
    run_queued_jobs(app)
    [second] = stored_keys(object_store, "exports/")
    assert second != first, "one archive: the new one"
    assert [e.status for e in exports(app)] == ["done"]
    assert download(user)[1]


def test_an_account_deleted_while_its_archive_uploads_leaves_no_archive(
    app, user, object_store, monkeypatch
):
    upload_file = storage.upload_file

    def upload_then_the_account_goes(key, file, content_type):
        upload_file(key, file, content_type)
        with app.app_context():  # the owner deletes the account meanwhile, in another session
            db.session.execute(delete(User))
            db.session.commit()

    monkeypatch.setattr(storage, "upload_file", upload_then_the_account_goes)
    start_export(user)
    run_queued_jobs(app)  # the export, then the deletion of its archive
    assert stored_keys(object_store, "exports/") == set()


def test_the_sweep_deletes_archives_no_export_names_and_aborts_unfinished_uploads(
    app, user, object_store
):
    with app.app_context():
        owner = db.session.scalar(select(User.id))
        store = storage.transfers_bucket()
        orphan = f"exports/{owner}/left-by-a-deleted-account.zip"
        store.client.put_object(Bucket=store.name, Key=orphan, Body=b"PK")
        unfinished = store.client.create_multipart_upload(
            Bucket=store.name, Key=f"exports/{owner}/killed-while-sending.zip"
        )
        store.client.upload_part(
            Bucket=store.name,
            Key=unfinished["Key"],
            UploadId=unfinished["UploadId"],
            PartNumber=1,
            Body=b"x" * 1024,
        )
        swept = sweep(min_age=timedelta(0))
        assert orphan in swept.orphans
        assert (
            store.client.list_multipart_uploads(Bucket=store.name, Prefix="exports/").get(
                "Uploads", []
            )
            == []
        )
    assert stored_keys(object_store, "exports/") == set()


def test_the_archive_is_readable_korean_text_dated_as_written(app, user):
    user.create_note("회의록", "다음 주 장보기: 우유, 달걀")
    user.create_note("회의록", "같은 제목의 두 번째 메모")
    user.create_note("a/b\\c", "slashes")
    start_export(user)
    run_queued_jobs(app)
    archive, _ = download(user)
    raw = archive.read("account.json")
    assert "회의록".encode() in raw and b"\\u" not in raw, "UTF-8 text, not \\u escapes"
    names = archive.namelist()
    assert {"notes/회의록.md", "notes/회의록 (2).md", "notes/c.md"} <= set(names)
    first = archive.read("notes/회의록.md").decode()
    assert first.startswith("---\nid: ")  # then its revision: what `memo sync` keeps
    assert '\nrevision: 1\ntitle: "회의록"\ntags: []\npinned: false\n' in first
    assert first.endswith("---\n\n# 회의록\n\n다음 주 장보기: 우유, 달걀\n")
    this_year = datetime.now(UTC).year
    assert {item.date_time[0] for item in archive.infolist()} == {this_year}
    assert {item.compress_type for item in archive.infolist()} == {zipfile.ZIP_DEFLATED}
    link = user.get("/mypage/export/download").headers["Location"]
    assert "memo-export-20" in unquote(link) and ".zip" in unquote(link)


def test_my_page_exports_in_one_step_and_says_when_the_archive_is_ready(app, user):
    user.get("/mypage")
    assert user.post("/mypage/export").headers["Location"] == "/mypage/export"
    following = user.get("/mypage/export", headers={"Accept": "application/json"}).get_json()
    assert following == {"status": "queued", "finished": False, "reload": True}
    run_queued_jobs(app)
    page = user.get("/mypage").get_data(as_text=True)
    assert 'id="export-download"' in page and "is ready" in page


class CountingSet(set):
    """A set that counts the names looked up in it."""

    lookups = 0

    def __contains__(self, item):
        self.lookups += 1
        return super().__contains__(item)


def names_of(titles):
    """Name notes of these titles as an export does; return the names and the lookups made."""
    names = NoteFileNames()
    names.taken = CountingSet()
    named = [
        names.name(SimpleNamespace(id=number, title=title)) for number, title in enumerate(titles)
    ]
    return named, names.taken.lookups


def test_naming_ten_thousand_notes_of_one_title_tries_each_name_about_once():
    named, lookups = names_of(["회의록"] * 10_000)
    assert named[:3] == ["회의록.md", "회의록 (2).md", "회의록 (3).md"]
    assert named[-1] == "회의록 (10000).md" and len(set(named)) == 10_000
    assert lookups <= 2 * 10_000  # counting from 1 for each note looked up 50 million


def test_titles_that_look_numbered_still_get_free_names_in_linear_tries():
    # The worst order for a title's counter: the numbered titles taken first, in steps.
    titles = [f"a ({n})" for n in range(2, 5_002, 2)] + ["a", "A"] * 2_500 + ["a (3)"] * 2
    named, lookups = names_of(titles)
    assert len({name.casefold() for name in named}) == len(titles)
    assert named[2_500:2_504] == ["a.md", "A (3).md", "a (5).md", "A (7).md"]
    assert named[-2:] == ["a (3) (2).md", "a (3) (3).md"]
    assert lookups <= 2 * len(titles)


COPIED = (
    "title, content, updated_at, user_id, completed, version, pinned, tags, tagged_version,"
    " preview, tasks_done, tasks_total, open_tasks, read_version, rendered, rendered_version,"
    " title_key"
)


def copy_note(app, copies):
    """Give the one note's account `copies` more copies of it, each as a save would have left
    it (summary, HTML and change number), so no upkeep job has anything to redo."""
    with app.app_context(), set_up_directly(), db.engine.begin() as connection:
        connection.execute(
            text(
                f"INSERT INTO note ({COPIED}, created_at, seq) SELECT {COPIED},"
                " created_at + n * interval '1 second', seq + n"
                " FROM note, generate_series(1, :copies) AS n"
            ),
            {"copies": copies},
        )
        connection.execute(
            text("UPDATE note_change_counter SET last_seq = last_seq + :copies"), {"copies": copies}
        )


def test_an_export_of_the_most_notes_of_one_title_finishes_in_its_owners_lane(app, user):
    user.create_note("회의록", "first")
    limit = app.config["NOTES_PER_USER"]
    copy_note(app, limit - 1)
    start_export(user)
    [(lock,)] = rows(app, "SELECT lock FROM procrastinate_jobs WHERE task_name = 'write_export'")
    [(user_id,)] = rows(app, 'SELECT id FROM "user"')
    assert lock == f"user:{user_id}"  # one account's exports wait behind its other jobs
    run_queued_jobs(app)
    archive, _ = download(user)
    notes = {name for name in archive.namelist() if name.startswith("notes/")}
    assert len(notes) == limit and f"notes/회의록 ({limit}).md" in notes
