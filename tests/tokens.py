"""Making a personal access token as a person does, on /mypage/tokens, and reading its secret."""

import re

from devenv.visitors import PASSWORD

SECRET = re.compile(r'id="token-secret" type="text" readonly value="(memo_pat_[0-9A-Za-z]+)"')


def make_token(browser, name="nightly export", scope="read", days="30", password=PASSWORD):
    """Fill in the form that makes a token; return the answer."""
    form = {"name": name, "scope": scope, "expires_days": days, "password": password}
    return browser.submit("/mypage/tokens", form)


def secret_shown(answer):
    """Return the secret the answer page shows, or None."""
    found = SECRET.search(answer.get_data(as_text=True))
    return found[1] if found else None
