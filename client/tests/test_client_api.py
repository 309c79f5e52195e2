"""The client's API calls and sign-in with no server needed: waits, one-line failures, the
keyring (moved here from tests/test_sync_client.py, which runs against the live server)."""

import socket
from types import SimpleNamespace

import pytest
from memo_sync import api as api_module
from memo_sync import cli, config
from memo_sync.api import Answer, Api, ApiError, FeedForgotten


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def answers(*sent):
    """Return a `send` that answers `sent` in turn, and the requests it got."""
    got, queue = [], list(sent)

    def send(method, url, headers, data):
        got.append((method, url))
        return queue.pop(0) if len(queue) > 1 else queue[0]

    return send, got


def test_a_429_is_waited_out_as_retry_after_says_within_a_bound():
    waits = []
    api = Api("http://memo.test", "memo_pat_x", say=lambda line: None, sleep=waits.append)
    api.send, got = answers(
        Answer(429, {"Retry-After": "7"}), Answer(200, {}, {"id": 1, "email": "a@b"})
    )
    assert api.me()["id"] == 1 and waits == [7] and len(got) == 2
    api.send, got = answers(Answer(429, {"Retry-After": "3600"}))
    with pytest.raises(ApiError, match="still busy"):
        api.me()
    assert waits[1:] == [60] * 5


def test_a_gone_server_and_a_410_are_one_line_each():
    api = Api(f"http://127.0.0.1:{free_port()}", "memo_pat_x", say=lambda line: None)
    with pytest.raises(ApiError, match="cannot reach"):
        api.me()
    api.send, _ = answers(Answer(410, {}, {"title": "Gone"}))
    with pytest.raises(FeedForgotten, match="--full"):
        api.changes(5)


def test_the_token_goes_to_a_working_keyring_and_a_failing_one_is_one_line(
    monkeypatch, tmp_path, capsys
):
    kept = {}
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv(config.TOKEN_VARIABLE, raising=False)
    monkeypatch.setattr(cli.sys, "stdin", SimpleNamespace(isatty=lambda: True))
    monkeypatch.setattr(cli.getpass, "getpass", lambda prompt: "memo_pat_secret")
    me = Answer(200, {}, {"id": 1, "email": "a@example.com"})
    monkeypatch.setattr(api_module, "urllib_send", lambda *request: me)
    keyring = SimpleNamespace(set_password=lambda *item: kept.update({item[:2]: item[2]}),
                              get_password=lambda *item: kept[item])  # fmt: skip
    monkeypatch.setattr(config, "keyring", keyring)
    assert cli.main(["login", "http://memo.test"]) == 0
    assert "token from the keyring" in capsys.readouterr().err
    assert config.token_for(config.load()) == "memo_pat_secret"
    assert not [
        path for path in tmp_path.rglob("*") if path.is_file() and b"secret" in path.read_bytes()
    ]

    def fail(*item):
        raise RuntimeError("No recommended backend was available")

    monkeypatch.setattr(config, "keyring", SimpleNamespace(set_password=fail, get_password=fail))
    assert cli.main(["pull", str(tmp_path / "notes")]) == 1
    assert capsys.readouterr().err.count("\n") == 1
    assert cli.main(["login", "http://memo.test"]) == 1
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "no keyring can keep it: set MEMO_TOKEN" in error
