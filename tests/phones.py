"""A phone with an authenticator app, as a person uses one with Memo: it reads the secret off
the set-up page and shows a code for each time step, never the same step twice (Memo takes
each step once); and the forms of two-step sign-in."""

import re
import time

import pyotp

from devenv.visitors import PASSWORD

SECRET = re.compile(r'id="totp-secret">([A-Z2-7 ]+)<')  # in groups of four
RECOVERY_CODE = re.compile(r"<code>([a-z2-7]{4}(?:-[a-z2-7]{4}){3})</code>")


class Phone:
    """An authenticator app holding one secret."""

    def __init__(self, secret):
        self.totp = pyotp.TOTP(secret.replace(" ", ""))  # as an app reads it, spaces dropped
        self.last_step = None

    def code(self):
        """Return the code of the earliest step Memo would still take (one step either side
        of now, after the last one used), waiting for the next step when none is left."""
        while (code := self.fresh_code()) is None:
            time.sleep(1)
        return code

    def fresh_code(self):
        """Return a code Memo would still take now, or None when all three are used.

        The last step's code is offered only while 10 s or more of the present step are left:
        Memo stops taking it when the next step begins, and a busy machine's request may
        arrive a few seconds after the code was read."""
        moment = time.time()
        now = self.totp.timecode(moment)
        left = self.totp.interval - moment % self.totp.interval
        for step in (now - 1, now, now + 1) if left >= 10 else (now, now + 1):
            if self.last_step is None or step > self.last_step:
                self.last_step = step
                return self.totp.generate_otp(step)
        return None


def turn_on(browser, password=PASSWORD):
    """Set up the app from /mypage/totp; return (the phone, the recovery codes shown)."""
    phone, codes = try_to_turn_on(browser, password)
    assert phone is not None, "the app is on"
    return phone, codes


def try_to_turn_on(browser, password):
    """Set up the app from /mypage/totp; return (the phone, the codes), or (None, None)."""
    page = browser.get("/mypage/totp")
    text = page.get_data(as_text=True)
    secret = SECRET.search(text)
    if page.status_code != 200 or secret is None:
        return None, None
    phone = Phone(secret.group(1))
    form = {"code": phone.code(), "password": password, "setup": setup_field(text)}
    answer = browser.post("/mypage/totp", form)
    if answer.status_code != 200:
        return None, None
    return phone, RECOVERY_CODE.findall(answer.get_data(as_text=True))


def setup_field(page):
    """Return the set-up form's hidden field (the secret, encrypted for this account)."""
    return re.search(r'name="setup" type="hidden" value="([^"]+)"', page).group(1)


def enter_code(browser, code, next_path=None):
    """Submit the code page (finishing a sign-in, or before a change that needs one)."""
    url = "/auth/two-step" + (f"?next={next_path}" if next_path else "")
    browser.get(url)
    return browser.post(url, {"code": code})
