"""What a hostile or broken server sends is refused: ids that are no positive numbers, paths out
of the folder, names unsafe on some system, file:// links, redirects to another host (the
token never goes there), and feeds without end (issue 88)."""

import os
import unicodedata
from pathlib import Path

import pytest
from fakememo import TOKEN, FakeMemo, run
from hypothesis import given, settings
from hypothesis import strategies as st
from memo_sync import cli, folder, safety
from memo_sync.api import Api, ApiError, Unsafe
from memo_sync.engine import Sync
from memo_sync.files import attachment_path, fetch_files
from memo_sync.folder import Folder
from memo_sync.safety import Budget, FileNames, inside, name_key, note_stem


def note(note_id, title="t", content="c", revision=1):
    return {"id": note_id, "title": title, "content": content, "pinned": False,
            "completed": False, "archived": False, "trashed": False, "tags": [],
            "created_at": "2026-11-27T00:00:00+00:00", "updated_at": "2026-11-27T00:00:00+00:00",
            "revision": revision}  # fmt: skip


def files_in(root):
    return sorted(path.relative_to(root).as_posix() for path in root.rglob("*") if path.is_file())


def test_a_feed_of_hostile_ids_and_titles_writes_only_inside_the_folder(memo, tmp_path):
    root = tmp_path / "a" / "b" / "notes"
    hostile = ["../../x", "/tmp/x", -1, 0, True, "5", 2.5, None]
    items = [{"seq": seq, "note": note(note_id)} for seq, note_id in enumerate(hostile, 1)]
    items += [{"seq": 9, "note": note(7, title="../../y")}, {"seq": 10, "note": note(8, ".")}]
    items += [{"seq": 11, "deleted": {"id": "../../z"}}, {"seq": 12, "note": "x"}]
    memo.feed = lambda since: {"items": items if since == 0 else [], "next_since": 12}
    said = []
    sync = run(memo, root, steps=("pull",), said=said)
    assert sync.refused == 10 and sync.counts["pulled"] == 2
    assert sum("refused what the server sent" in line for line in said) == 10
    assert files_in(tmp_path) == ["a/b/notes/.memo-sync.json", "a/b/notes/8.md", "a/b/notes/y.md"]


def test_the_command_says_how_many_items_it_refused_and_goes_on(memo, tmp_path, monkeypatch,
                                                                 capsys):  # fmt: skip
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("MEMO_TOKEN", TOKEN)
    memo.add("Kept", "text")
    memo.feed = lambda since: {"items": [] if since else [
        {"seq": 1, "note": note("../../x")}, {"seq": 2, "note": dict(memo.notes[1])}
    ], "next_since": 2}  # fmt: skip
    assert cli.main(["login", memo.url]) == 0
    assert cli.main(["sync", str(tmp_path / "notes")]) == 0
    assert "1 pulled, 0 pushed, 0 in conflict, 1 refused" in capsys.readouterr().err
    assert (tmp_path / "notes" / "Kept.md").exists()


def test_an_endless_change_feed_stops_at_the_runs_budget_and_exits_non_zero(
    memo, tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("MEMO_TOKEN", TOKEN)
    monkeypatch.setattr(folder, "Budget", lambda: Budget(pages=30))
    memo.feed = lambda since: {"items": [{"seq": since + 1, "note": note(since + 1)}],
                               "next_since": since + 1}  # fmt: skip
    assert cli.main(["login", memo.url]) == 0
    assert cli.main(["sync", str(tmp_path / "notes")]) == 1
    error = capsys.readouterr().err
    assert "budget of 30 change-feed pages" in error and "run it again" in error
    assert len(list((tmp_path / "notes").glob("*.md"))) == 30


def test_a_feed_that_does_not_move_on_stops_and_budgets_of_files_and_bytes_hold(memo, tmp_path):
    memo.feed = lambda since: {"items": [{"seq": 1, "note": note(1)}], "next_since": since}
    with pytest.raises(ApiError, match="does not move on"):
        run(memo, tmp_path / "a", steps=("pull",))
    memo.feed = None
    for number in range(5):
        memo.add(f"n{number}", "text")
    with pytest.raises(ApiError, match="budget of 3 files"):
        run(memo, tmp_path / "b", steps=("pull",), budget=Budget(files=3))
    assert len(list((tmp_path / "b").glob("*.md"))) == 3
    memo.add("Big", "x" * 5000)
    with pytest.raises(ApiError, match="budget of 4096 bytes"):
        run(memo, tmp_path / "c", steps=("pull",), budget=Budget(bytes=4096))
    assert not (tmp_path / "c" / "Big.md").exists()


def test_unsafe_names_are_made_safe_and_collisions_of_case_and_normalisation_numbered(
    memo, tmp_path
):
    nfc, nfd = "Café", unicodedata.normalize("NFD", "Café")
    titles = ['a<b>:c"d|e?f*', "CON", "lpt1.txt", "trailing. ", "Notes", "notes", nfc, nfd]
    for title in titles:
        memo.add(title, "text")
    run(memo, tmp_path, steps=("pull",))
    names = sorted(path.name for path in tmp_path.glob("*.md"))
    assert names == sorted(["a_b__c_d_e_f_.md", "_CON.md", "_lpt1.txt.md", "trailing.md",
                            "Notes.md", "notes (2).md", "Café.md", "Café (2).md"])  # fmt: skip
    assert len({name_key(name) for name in names}) == len(names)


SAFE_EXCEPT = set('<>:"/\\|?*')


def is_safe(name):
    return (
        name
        and not set(name) & SAFE_EXCEPT
        and not any(unicodedata.category(char) in ("Cc", "Cf", "Cs", "Co", "Cn") for char in name)
        and name[-1] not in " ."
        and name.split(".")[0].rstrip(" ").upper() not in safety.RESERVED_NAMES
        and len(name.encode("utf-8")) <= 255
    )


@settings(max_examples=300, deadline=None)
@given(title=st.one_of(st.text(), st.sampled_from(["..", "../x", "/", "CON.md", "nul", " . "])),
       note_id=st.integers(1, 10**12))  # fmt: skip
def test_no_title_makes_an_unsafe_name_or_a_path_out_of_the_folder(title, note_id):
    stem = note_stem(title, note_id)
    name = f"{stem}.md"
    assert is_safe(stem) and is_safe(name)
    root = Path("/tmp/memo-folder")
    assert inside(root, name).parent == root


@settings(max_examples=300, deadline=None)
@given(
    attachment_id=st.one_of(st.integers(), st.text(), st.none(), st.booleans()),
    name=st.one_of(st.text(), st.none(), st.sampled_from(["../../x", "/etc/passwd", "AUX"])),
)
def test_no_attachment_id_or_name_makes_a_path_out_of_attachments(attachment_id, name):
    try:
        path = attachment_path({"id": attachment_id, "name": name})
    except Unsafe:
        whole = isinstance(attachment_id, int) and 0 < attachment_id <= safety.ID_MAX
        assert not whole or attachment_id is True
        return
    folder_of, _, file_name = path.partition("/")
    assert folder_of == "attachments" and is_safe(file_name)
    assert file_name.startswith(f"{attachment_id}-")
    root = Path("/tmp/memo-folder")
    assert inside(root, path).parent == root / "attachments"


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(min_size=1), max_size=12))
def test_names_given_in_turn_never_collide_as_a_file_system_compares_them(titles):
    names = FileNames()
    given_names = [names.name(note_stem(title, number)) for number, title in enumerate(titles, 1)]
    assert len({name_key(name) for name in given_names}) == len(given_names)
    again = FileNames()
    assert given_names == [again.name(note_stem(title, n)) for n, title in enumerate(titles, 1)]


@pytest.mark.skipif(os.name == "nt", reason="symlinks")
def test_no_write_and_no_read_through_a_symlink_out_of_the_folder(memo, tmp_path):
    outside, root = tmp_path / "outside", tmp_path / "notes"
    outside.mkdir()
    root.mkdir()
    (outside / "secret.md").write_text("# Secret\n\nkeys")
    (root / "linked.md").symlink_to(outside / "secret.md")
    (root / "sub").symlink_to(outside, target_is_directory=True)
    with pytest.raises(Unsafe):
        inside(root, "sub/x.md")
    run(memo, root)
    assert memo.notes == {}  # the file out of the folder was not sent
    memo.add("linked", "from the server")
    run(memo, root, steps=("pull",))
    assert (outside / "secret.md").read_text() == "# Secret\n\nkeys"


def test_attachments_refuse_climbing_ids_file_links_and_other_hosts(memo, tmp_path):
    other = FakeMemo()
    try:
        memo.add("Trip", "map")
        secret = tmp_path / "home-secret"
        secret.write_bytes(b"private")
        memo.files["/files/ok"] = b"fine"
        other.files["/files/x"] = b"elsewhere"
        memo.attachments[1] = [{"id": "../../x", "name": "evil"}, {"id": 2, "name": "file"},
                               {"id": 3, "name": "away"}, {"id": 4, "name": "m.png"}]  # fmt: skip
        memo.links.update({"2": secret.as_uri(), "3": f"{memo.url}/files/away",
                           "4": f"{memo.url}/files/ok"})  # fmt: skip
        memo.redirects["/files/away"] = f"{other.url}/files/x"
        root = tmp_path / "notes"
        sync = run(memo, root, steps=("pull",))
        said = []
        assert fetch_files(sync.folder, sync.api, said.append) == 1
        assert files_in(root / "attachments") == ["4-m.png"]
        assert len(said) == 3 and all("refused an attachment" in line for line in said)
        assert "another host" in said[2] and other.seen == []
    finally:
        other.stop()


def test_the_token_is_never_sent_to_another_host_a_redirect_names(memo):
    other = FakeMemo()
    try:
        memo.redirects["/api/v1/me"] = f"{other.url}/api/v1/me"
        api = Api(memo.url, TOKEN, say=lambda line: None)
        with pytest.raises(Unsafe, match="another host"):
            api.me()
        assert other.seen == []
        memo.redirects["/api/v1/me"] = f"{memo.url}/api/v1/me?same=host"
        assert api.me()["id"] == 1  # the same host: followed, with the token
    finally:
        other.stop()


class FeedOnly:
    """An API that answers `me` and a change feed of `items` (no HTTP: many examples fast)."""

    url = "http://memo.test"

    def __init__(self, items):
        self.items = items

    def me(self):
        return {"id": 1, "timezone": "Asia/Seoul"}

    def changes(self, since):
        return {"items": self.items if since == 0 else [], "next_since": len(self.items) + 1}


hostile_ids = st.one_of(
    st.integers(-3, 40), st.text(max_size=12), st.sampled_from(["../../x", "/etc/x", "..", "~"])
)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(hostile_ids, st.text(max_size=30)), max_size=8))
def test_no_feed_of_generated_ids_and_titles_writes_outside_or_an_unsafe_name(tmp_path_factory,
                                                                              changes):  # fmt: skip
    base = tmp_path_factory.mktemp("feed")
    root = base / "notes"
    items = [{"seq": seq, "note": note(note_id, title)}
             for seq, (note_id, title) in enumerate(changes, 1)]  # fmt: skip
    sync = Sync(Folder(root), FeedOnly(items), say=lambda line: None)
    sync.prepare()
    sync.pull()
    written = files_in(base)
    assert all(path.startswith("notes/") for path in written)
    names = [path.removeprefix("notes/") for path in written if path.endswith(".md")]
    assert all(is_safe(name) and "/" not in name for name in names)
    assert len({name_key(name) for name in names}) == len(names)
