"""No edit is lost between the folder and the server: a file saved while it is sent stays and goes
next; a create's key lives as long as its file; front matter as YAML editors write it; the
account's zone; one kind of line end; a conflict copy the web tells apart (issue 88)."""

import datetime
import os
import re
import subprocess
import sys
import zoneinfo

from fakememo import TOKEN, run
from memo_sync import cli, notefile
from memo_sync.notefile import read_draft

SEOUL = zoneinfo.ZoneInfo("Asia/Seoul")


def test_a_file_saved_while_its_change_is_sent_is_kept_and_pushed_next(memo, tmp_path):
    memo.add("Plan", "one")
    run(memo, tmp_path)
    path = tmp_path / "Plan.md"
    path.write_text(path.read_text().replace("\none\n", "\ntwo\n"))

    def saved_meanwhile(note_id, body):  # the editor saves while the PATCH is on its way
        path.write_text(path.read_text().replace("\ntwo\n", "\nthree\n"))

    memo.on_patch = saved_meanwhile
    said = []
    assert run(memo, tmp_path, said=said).counts == {"pulled": 0, "pushed": 1, "conflicts": 0}
    assert memo.notes[1]["content"] == "two" and "\nthree\n" in path.read_text()
    assert any("saved again while it was sent" in line for line in said)
    memo.on_patch = None
    assert run(memo, tmp_path).counts == {"pulled": 0, "pushed": 1, "conflicts": 0}
    assert memo.notes[1]["content"] == "three"
    assert read_draft("Plan.md", path.read_text()).revision == memo.notes[1]["revision"]
    assert run(memo, tmp_path).counts == {"pulled": 0, "pushed": 0, "conflicts": 0}


def test_a_new_file_saved_while_its_create_is_sent_is_kept_and_pushed_next(memo, tmp_path):
    path = tmp_path / "Idea.md"
    path.write_text("# Idea\n\nfirst")
    memo.on_create = lambda body: path.write_text("# Idea\n\nsecond")
    run(memo, tmp_path)
    assert memo.notes[1]["content"] == "first" and path.read_text() == "# Idea\n\nsecond"
    memo.on_create = None
    run(memo, tmp_path)
    assert [note["content"] for note in memo.notes.values()] == ["second"]


def test_the_same_template_written_again_after_its_note_was_trashed_makes_a_new_note(
    memo, tmp_path
):
    template = "# Daily\n\n- [ ] water the plants\n"
    (tmp_path / "Daily.md").write_text(template)
    run(memo, tmp_path)
    memo.edit(1, trashed=True)  # done on the web, the day's note trashed
    run(memo, tmp_path)
    assert not (tmp_path / "Daily.md").exists()
    (tmp_path / "Daily.md").write_text(template)  # the next morning
    run(memo, tmp_path)
    assert [note["trashed"] for note in memo.notes.values()] == [True, False]
    assert (tmp_path / "Daily.md").exists()
    keys = [headers.get("Idempotency-Key") for method, _, headers in memo.seen if method == "POST"]
    assert len(set(keys)) == 2


def test_front_matter_in_yamls_common_spellings_is_read(memo, tmp_path):
    memo.add("A", "a")
    memo.add("B", "b", pinned=True)
    run(memo, tmp_path)
    for name, lines in (("A.md", "pinned: yes\ncompleted: 'On'\narchived: 2026-11-28T09:15"),
                        ("B.md", "pinned: True\narchived: 2026-11-28")):  # fmt: skip
        path = tmp_path / name
        text = re.sub(r"pinned: \w+\n", "", path.read_text())
        path.write_text(text.replace("archived: null", lines))
    run(memo, tmp_path)
    a, b = memo.notes[1], memo.notes[2]
    assert (a["pinned"], a["completed"], a["archived"]) == (True, True, True)
    assert (b["pinned"], b["archived"]) == (True, True)
    for spelling, value in (("NO", False), ('"off"', False), ("~", False), ("true", True)):
        assert notefile.flag(notefile.read_scalar(spelling)) is value


def test_a_value_that_does_not_parse_leaves_the_servers_field_and_status_says_so(
    memo, tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("MEMO_TOKEN", TOKEN)
    memo.add("Pinned", "text", pinned=True)
    assert cli.main(["login", memo.url]) == 0
    assert cli.main(["sync", str(tmp_path / "notes")]) == 0
    path = tmp_path / "notes" / "Pinned.md"
    path.write_text(path.read_text().replace("pinned: true", "pinned: maybe").replace(
        "\ntext\n", "\nmore text\n"))  # fmt: skip
    capsys.readouterr()
    assert cli.main(["status", str(tmp_path / "notes")]) == 0
    out = capsys.readouterr().out
    assert "unread:   Pinned.md: pinned: 'maybe'" in out and "left as it is" in out
    assert cli.main(["sync", str(tmp_path / "notes")]) == 0
    assert "pinned: 'maybe' is not read" in capsys.readouterr().err
    assert (memo.notes[1]["pinned"], memo.notes[1]["content"]) == (True, "more text")


def test_times_are_in_the_accounts_zone_and_a_conflict_copy_is_titled_apart(memo, tmp_path):
    note = memo.add("Plan", "first")
    memo.notes[1]["created_at"] = "2026-11-27T15:30:00+00:00"  # the 28th in Seoul
    run(memo, tmp_path)
    path = tmp_path / "Plan.md"
    assert 'created: "2026-11-28T00:30:00+09:00"' in path.read_text()
    path.write_text(path.read_text().replace("\nfirst\n", "\nmine\n"))
    memo.edit(note["id"], content="theirs")
    before = datetime.datetime.now(SEOUL)
    assert run(memo, tmp_path).counts["conflicts"] == 1
    after = datetime.datetime.now(SEOUL)
    titles = {n["content"]: n["title"] for n in memo.notes.values()}
    stamps = {f"{moment:%Y-%m-%d %H:%M}" for moment in (before, after)}
    assert titles["theirs"] == "Plan" and titles["mine"] in {f"Plan (conflict {s})" for s in stamps}
    days = {f"Plan (conflict {moment:%Y-%m-%d}).md" for moment in (before, after)}
    assert {p.name for p in tmp_path.glob("*.md")} - {"Plan.md"} <= days


def test_a_note_with_crlf_is_a_file_of_crlf_alone_and_stays_in_step(memo, tmp_path):
    memo.add("Web", "line one\r\nline two")
    run(memo, tmp_path)
    data = (tmp_path / "Web.md").read_bytes()
    assert b"\r\n" in data and data.count(b"\n") == data.count(b"\r\n")
    assert run(memo, tmp_path).counts == {"pulled": 0, "pushed": 0, "conflicts": 0}
    (tmp_path / "Web.md").write_bytes(data.replace(b"line two", b"line 2"))
    run(memo, tmp_path)
    assert memo.notes[1]["content"] == "line one\r\nline 2"


def test_login_with_no_terminal_and_no_token_is_one_line_and_exit_code_2(tmp_path):
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path)}
    env.pop("MEMO_TOKEN", None)
    done = subprocess.run(
        [sys.executable, "-m", "memo_sync", "login", "http://127.0.0.1:9"],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1 and "set MEMO_TOKEN" in done.stderr


def test_a_file_whose_own_name_holds_252_bytes_is_written_back_and_its_conflict_kept(
    memo, tmp_path
):
    name = "회" * 83 + ".md"  # 252 bytes, a name Linux and macOS allow
    path = tmp_path / name
    path.write_text("# 회의\n\none")
    run(memo, tmp_path)
    path.write_text(path.read_text().replace("\none\n", "\ntwo\n"))
    assert run(memo, tmp_path).counts["pushed"] == 1  # written back through a temporary file
    assert memo.notes[1]["content"] == "two"
    memo.edit(1, content="the web's")
    path.write_text(path.read_text().replace("\ntwo\n", "\nthis folder's\n"))
    said = []
    assert run(memo, tmp_path, said=said).counts["conflicts"] == 1
    [conflict] = [item for item in tmp_path.glob("*.md") if "(conflict " in item.name]
    assert len(conflict.name.encode()) <= 255 and "this folder's" in conflict.read_text()
    assert "the web's" in path.read_text()
    assert sorted(note["content"] for note in memo.notes.values()) == ["the web's", "this folder's"]


def test_a_title_with_a_line_break_survives_an_edit_of_the_text(memo, tmp_path):
    memo.add("회의\n2부", "one")  # the API takes a title with a line break
    run(memo, tmp_path)
    path = tmp_path / "회의2부.md"
    assert "\n# 회의 2부\n\none\n" in path.read_text()  # the heading is one line
    path.write_text(path.read_text().replace("\none\n", "\ntwo\n"))
    run(memo, tmp_path)
    assert (memo.notes[1]["title"], memo.notes[1]["content"]) == ("회의\n2부", "two")
    path.write_text(path.read_text().replace("# 회의 2부", "# 회의 3부"))
    run(memo, tmp_path)
    assert memo.notes[1]["title"] == "회의 3부"  # the heading edited: its title
