"""Where the client keeps its server and finds its token: never in the synced folder.

`memo login URL` writes `config.json` under the user's config folder ($XDG_CONFIG_HOME/memo,
else ~/.config/memo; %APPDATA%\\memo on Windows) with the server's URL and where the token is
kept: the OS keyring (when the `keyring` package is installed), or the MEMO_TOKEN variable.
MEMO_TOKEN, when set, is always the token used.
"""

import json
import os
from pathlib import Path

try:
    import keyring
except ImportError:  # optional: `pip install ./client[keyring]`
    keyring = None

KEYRING_SERVICE = "memo"
TOKEN_VARIABLE = "MEMO_TOKEN"


class ConfigError(Exception):
    """The client is not set up; the message says how."""


def config_path():
    """Return the path of the client's config file."""
    base = os.environ.get("XDG_CONFIG_HOME") or os.environ.get("APPDATA")
    return Path(base or Path.home() / ".config") / "memo" / "config.json"


def load():
    """Return the config; ConfigError before `memo login`."""
    path = config_path()
    if not path.exists():
        raise ConfigError("not signed in: run `memo login URL` first")
    return json.loads(path.read_text(encoding="utf-8"))


def save(url, kept_in):
    """Write the server's URL and where its token is kept (`keyring` or `env`)."""
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"url": url, "token": kept_in}, indent=1), encoding="utf-8")
    path.chmod(0o600)
    return path


def keep_token(url, token):
    """Keep the token in the keyring when there is one that works; return where it is kept."""
    if keyring is None or os.environ.get(TOKEN_VARIABLE):
        return "env"
    try:
        keyring.set_password(KEYRING_SERVICE, url, token)
    except Exception:  # no backend (a machine without a desktop's keyring), a locked one...
        return "env"
    return "keyring"


def token_for(config):
    """Return the token: MEMO_TOKEN, else the keyring's; ConfigError without one."""
    token = os.environ.get(TOKEN_VARIABLE)
    if not token and config.get("token") == "keyring" and keyring is not None:
        try:
            token = keyring.get_password(KEYRING_SERVICE, config["url"])
        except Exception as error:  # the backend's own error, whatever its class
            message = f"the keyring could not be read ({error}): set {TOKEN_VARIABLE}"
            raise ConfigError(message) from None
    if not token:
        raise ConfigError(f"no token: set {TOKEN_VARIABLE} (a token made on My page)")
    return token
