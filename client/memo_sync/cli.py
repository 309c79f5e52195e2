"""`memo`: a folder of Markdown files in step with a Memo account (docs/sync.md)."""

import argparse
import getpass
import os
import sys
from pathlib import Path

from memo_sync import config
from memo_sync.api import Api, ApiError
from memo_sync.engine import Sync
from memo_sync.files import fetch_files
from memo_sync.folder import Folder
from memo_sync.status import report


def say(line):
    """Progress and errors go to stderr; stdout stays for what a command reports."""
    print(line, file=sys.stderr, flush=True)


def connect():
    """Return the Api of the configured server and token."""
    settings = config.load()
    return Api(settings["url"], config.token_for(settings), say)


class NoTerminal(Exception):
    """`memo login` has no one to ask (cron, CI): exit code 2."""


def ask_token():
    """Ask for the token on the terminal; NoTerminal when there is none to ask on."""
    missing = NoTerminal(
        f"no terminal to ask for the token on, and no {config.TOKEN_VARIABLE}: "
        f"set {config.TOKEN_VARIABLE} to a token made on My page (/mypage/tokens)"
    )
    if not (sys.stdin and sys.stdin.isatty()):
        raise missing
    try:
        return getpass.getpass("Token (memo_pat_…): ")
    except (EOFError, OSError):
        raise missing from None


def login(args):
    """Check a token against the server and remember the server."""
    url = args.url.rstrip("/")
    if not url.startswith(("https://", "http://")):
        raise config.ConfigError(f"{url} is not an http(s) address")
    token = os.environ.get(config.TOKEN_VARIABLE) or ask_token()
    account = Api(url, token, say).me()
    email = account.get("email")
    if not isinstance(email, str):
        raise ApiError(f"{url} answered no account for the token: is it a Memo server?")
    kept_in = config.keep_token(url, token)
    path = config.save(url, kept_in)
    if kept_in == "env" and not os.environ.get(config.TOKEN_VARIABLE):
        raise config.ConfigError(
            f"the token is good, but no keyring can keep it: set {config.TOKEN_VARIABLE} to it "
            "for each command, or install a keyring (pip install './client[keyring]')"
        )
    where = "the keyring" if kept_in == "keyring" else f"${config.TOKEN_VARIABLE}"
    say(f"memo: signed in to {url} as {email[:200]}; token from {where}; config {path}")


def run(args, steps):
    """Run `steps` ("pull", "push") on the folder, then say what was done."""
    root = Path(args.dir)
    if "push" in steps and "pull" not in steps and not root.is_dir():
        raise config.ConfigError(f"{root} is not a folder")
    root.mkdir(parents=True, exist_ok=True)
    sync = Sync(Folder(root), connect(), say)
    sync.prepare()
    if "pull" in steps:
        sync.pull(full=args.full)
    if "push" in steps:
        sync.push()
    counts = sync.counts
    files = f", {fetch_files(sync.folder, sync.api, say)} files fetched" if args.with_files else ""
    refused = f", {sync.refused} refused" if sync.refused else ""
    say(f"memo: {counts['pulled']} pulled, {counts['pushed']} pushed, "
        f"{counts['conflicts']} in conflict{files}{refused}")  # fmt: skip


def status(args):
    """Say what a sync would do."""
    report(Folder(Path(args.dir), readonly=True), connect(), print)


def parser():
    """Return the command line's parser."""
    main = argparse.ArgumentParser(prog="memo", description=__doc__)
    commands = main.add_subparsers(dest="command", required=True)
    command = commands.add_parser("login", help="check a token and remember the server")
    command.add_argument("url", help="the server, e.g. https://memo.example.com")
    command.set_defaults(act=login)
    for name, steps, text in (
        ("pull", ("pull",), "bring the server's changes into the folder"),
        ("push", ("push",), "send the folder's changes to the server"),
        ("sync", ("pull", "push"), "both: pull, then push"),
    ):
        command = commands.add_parser(name, help=text)
        command.add_argument("dir", help="the folder of notes")
        if "pull" in steps:
            command.add_argument("--full", action="store_true", help="read every note again")
            attachments = "fetch the notes' attachments too (into attachments/)"
            command.add_argument("--with-files", action="store_true", help=attachments)
        command.set_defaults(
            act=lambda args, steps=steps: run(args, steps), full=False, with_files=False
        )
    command = commands.add_parser("status", help="say what a sync would do")
    command.add_argument("dir")
    command.set_defaults(act=status)
    return main


def main(argv=None):
    """Run one command; an expected failure is one line on stderr and exit code 1 (2 for a
    login with no terminal and no MEMO_TOKEN)."""
    args = parser().parse_args(argv)
    try:
        args.act(args)
    except NoTerminal as error:
        say(f"memo: {error}")
        return 2
    except (ApiError, config.ConfigError) as error:
        say(f"memo: {error}")
        return 1
    except KeyboardInterrupt:
        say("memo: stopped; run the command again to go on where it stopped")
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
