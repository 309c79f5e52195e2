"""A hostile server's answers, tried as an outsider would (issue 88's attack): what is refused
or bounded with one clear line, never a traceback, and nothing written outside the folder."""

import pytest
from fakememo import TOKEN, FakeMemo, run
from memo_sync import api, cli
from memo_sync.notefile import read_draft


def note(note_id, title="t", content="c", revision=1):
    return {"id": note_id, "title": title, "content": content, "pinned": False,
            "completed": False, "archived": False, "trashed": False, "tags": [],
            "created_at": "2026-11-27T00:00:00+00:00", "updated_at": "2026-11-27T00:00:00+00:00",
            "revision": revision}  # fmt: skip


def once(items, next_since):
    return lambda since: {"items": [] if since else items, "next_since": next_since}


@pytest.fixture
def memo_cli(memo, tmp_path, monkeypatch, capsys):
    """Run `memo` against the fake server: return (exit code, stderr)."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("MEMO_TOKEN", TOKEN)

    def memo_command(*argv):
        code = cli.main([arg.replace("DIR", str(tmp_path / "notes")) for arg in argv])
        return code, capsys.readouterr().err

    return memo_command


def files_in(root):
    return sorted(path.relative_to(root).as_posix() for path in root.rglob("*") if path.is_file())


def test_an_id_past_the_servers_bigints_is_refused_and_not_a_file_name_too_long(
    memo, memo_cli, tmp_path
):
    memo.add("Trip", "map")
    memo.feed = once([{"seq": 1, "note": note(10**300, title=" ")},
                      {"seq": 2, "note": dict(memo.notes[1])}], 2)  # fmt: skip
    memo.attachments[1] = [{"id": 2**63, "name": "a.png"}]
    assert memo_cli("login", memo.url)[0] == 0
    code, error = memo_cli("sync", "--with-files", "DIR")
    assert code == 0 and "Traceback" not in error
    assert "1 pulled, 0 pushed, 0 in conflict, 0 files fetched, 1 refused" in error
    assert "refused an attachment of note 1: an attachment's id '9223372036854775808'" in error
    assert files_in(tmp_path / "notes") == [".memo-sync.json", "Trip.md"]


@pytest.mark.parametrize("account", [{"id": 1}, [1, 2], {"id": 1, "email": 5}])
def test_a_login_whose_account_is_no_account_is_one_line(memo, memo_cli, account):
    memo.account = account
    code, error = memo_cli("login", memo.url)
    assert code == 1 and error.count("\n") == 1 and "answered no account" in error


def test_a_me_or_feed_that_is_no_json_object_is_one_line(memo, memo_cli):
    assert memo_cli("login", memo.url)[0] == 0
    memo.feed = lambda since: [{"seq": 1, "note": note(1)}]
    code, error = memo_cli("pull", "DIR")
    assert code == 1 and "change feed is not one this client reads" in error
    memo.account = ["not", "an", "object"]
    code, error = memo_cli("pull", "DIR")
    assert code == 1 and "account id 'None'" in error and "Traceback" not in error


def test_a_list_of_attachments_that_is_no_list_is_one_line(memo, memo_cli):
    memo.add("Trip", "map")
    memo.attachments[1] = 5
    assert memo_cli("login", memo.url)[0] == 0
    code, error = memo_cli("pull", "--with-files", "DIR")
    assert code == 1 and "note 1's attachments is no list" in error


def test_a_feed_page_past_the_limit_asked_is_refused_before_a_file_is_written(
    memo, memo_cli, tmp_path
):
    memo.feed = once([{"seq": seq, "note": note(seq)} for seq in range(1, 502)], 501)
    assert memo_cli("login", memo.url)[0] == 0
    code, error = memo_cli("pull", "DIR")
    assert code == 1 and "sent 501 changes in a page of at most 500" in error
    memo.feed = once([{"seq": seq, "note": note(seq)} for seq in range(1, 100_001)], 100_000)
    code, error = memo_cli("pull", "DIR")
    assert code == 1 and "answer is larger than 16 MiB" in error  # 100,000 items: 20 MiB
    assert list((tmp_path / "notes").glob("*.md")) == []


def test_an_answer_past_its_bound_is_not_read_into_memory(memo, memo_cli, tmp_path, monkeypatch):
    monkeypatch.setattr(api, "MAX_ANSWER_BYTES", 4096)
    memo.feed = once([{"seq": 1, "note": note(1, content="x" * 5000)}], 1)
    assert memo_cli("login", memo.url)[0] == 0
    code, error = memo_cli("pull", "DIR")
    assert code == 1 and "answer is larger than" in error
    assert list((tmp_path / "notes").glob("*.md")) == []


@pytest.mark.parametrize(
    "revision",
    ["3", -1, None, True, 2.5, [1]],
    ids=["string", "negative", "null", "bool", "float", "list"],  # fmt: skip
)
def test_a_revision_that_is_no_whole_number_is_refused(memo, memo_cli, tmp_path, revision):
    memo.feed = once([{"seq": 1, "note": note(1, revision=revision)}], 1)
    assert memo_cli("login", memo.url)[0] == 0
    code, error = memo_cli("pull", "DIR")
    assert code == 0 and "revision" in error and "1 refused" in error
    assert list((tmp_path / "notes").glob("*.md")) == []


@pytest.mark.parametrize("zone", ["Not/AZone", "../../etc/passwd", 5, {"a": 1}, None, "", "\x00"])
def test_a_timezone_that_is_no_zone_writes_times_in_utc(memo, memo_cli, tmp_path, zone):
    memo.account["timezone"] = zone
    memo.add("Plan", "one")
    assert memo_cli("login", memo.url)[0] == 0
    code, error = memo_cli("sync", "DIR")
    text = (tmp_path / "notes" / "Plan.md").read_text()
    assert code == 0 and "Traceback" not in error and "+00:00" in text


TITLES = {
    "C:\\Windows\\evil": "evil.md", "\\\\host\\share\\x": "x.md", "a\x00b": "ab.md",
    "...": "4.md", "aux.md": "_aux.md.md", "COM1": "_COM1.md", "a/../../b": "b.md",
}  # fmt: skip


def test_drive_letters_unc_nul_dots_and_reserved_titles_make_names_in_the_folder(
    memo, tmp_path, memo_cli
):
    root = tmp_path / "deep" / "notes"
    items = [{"seq": seq, "note": note(seq, title)} for seq, title in enumerate(TITLES, 1)]
    memo.feed = once(items, len(items))
    assert memo_cli("login", memo.url)[0] == 0
    assert cli.main(["pull", str(root)]) == 0
    names = {read_draft(path.name, path.read_text()).id: path.name for path in root.glob("*.md")}
    assert names == dict(enumerate(TITLES.values(), 1))
    written = [".memo-sync.json", *names.values()]
    assert files_in(tmp_path / "deep") == sorted(f"notes/{name}" for name in written)


def test_a_download_link_to_another_host_gets_no_token_and_its_redirects_stay_there(memo, tmp_path):
    store, third = FakeMemo(), FakeMemo()
    try:
        store.files["/files/z"] = b"stored"
        store.redirects["/files/away"] = f"{third.url}/files/z"
        memo.add("Trip", "map")
        memo.attachments[1] = [{"id": 2, "name": "a.png"}, {"id": 3, "name": "b.png"}]
        memo.links.update({"2": f"{store.url}/files/z", "3": f"{store.url}/files/away"})
        client = api.Api(memo.url, TOKEN, say=lambda line: None)
        with client.download(2) as source:
            assert source.read() == b"stored"
        with pytest.raises(api.Unsafe, match="another host"):
            client.download(3)
        assert [headers.get("Authorization") for _, _, headers in store.seen] == [None, None]
        assert third.seen == []
    finally:
        store.stop()
        third.stop()


def test_a_new_file_answered_as_a_note_in_the_trash_is_kept_not_deleted(memo, tmp_path):
    def lying_create(body, key):  # a new key's note, already in the trash: a lie
        return 201, {}, memo.add(body["title"], body["content"], trashed=True)

    memo.create = lying_create
    path = tmp_path / "Only here.md"
    path.write_text("# Only here\n\nmy unsent text")
    said = []
    assert run(memo, tmp_path, said=said).counts == {"pulled": 0, "pushed": 0, "conflicts": 0}
    assert path.read_text() == "# Only here\n\nmy unsent text"
    assert said == [
        "memo: Only here.md was not sent: the server answered a new note as one in the trash: "
        "the file stays"
    ]
    del memo.create  # the server mended: the file goes as a new note
    assert run(memo, tmp_path).counts["pushed"] == 1
    assert [note["trashed"] for note in memo.notes.values()] == [True, False]
