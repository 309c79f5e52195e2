"""The owner's authenticator app in the recovery state machine (tests/test_recovery_sequences.py):
she turns it on with her phone and off again; the intruder, who knows the password, tries to
sign in, to reset and sign in, and to turn it off. While it is on, the intruder's password
never signs in; an undo link turns off an app turned on within its 7 days."""

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from sqlalchemy import select

from app.extensions import db
from app.models import TotpCredential, User
from devenv.visitors import Browser
from tests.phones import enter_code, try_to_turn_on


class TwoStepRules(RuleBasedStateMachine):
    """The rules and the invariant of the second step; the machine's people, mail and model
    (owner, intruder, current, app_on, sign_in, ask_reset, ...) are the subclass's."""

    def signs_in(self, person, password):
        """Sign in with `password` in a new browser, with a code where one is asked for and
        `person` has one (her phone, else a recovery code); return the browser, or None."""
        browser = Browser(self.app.test_client())
        answer = browser.login(self.current, password)
        if answer.status_code != 302:
            return None
        if answer.headers["Location"] == "/auth/two-step":
            code = self.code_of(person)
            if code is None or enter_code(browser, code).status_code != 302:
                return None
        assert not (person is self.intruder and self.app_on), "a password alone signed in"
        return browser

    def code_of(self, person):
        """Return a code of the second step `person` can give: none for the intruder."""
        if person.phone is None:
            return None
        code = person.phone.fresh_code()
        if code is None and person.recovery_codes:
            code = person.recovery_codes.pop()
        return code or person.phone.code()

    @precondition(lambda self: not self.deleted and not self.app_on)
    @rule()
    def owner_turns_on_the_app(self):
        """The owner, signed in at an address of hers, turns on the app with her phone."""
        browser = self.session_of(self.owner)
        if browser is None or self.current not in self.owner.mailboxes:
            return
        (password,) = self.owner.passwords
        phone, codes = try_to_turn_on(browser, password)
        if phone is None:
            return
        self.owner.phone, self.owner.recovery_codes, self.app_on = phone, codes, True
        self.intruder.browser = None  # every other session ends
        self.told_everyone("the app turned on")

    @precondition(lambda self: not self.deleted)
    @rule()
    def owner_turns_on_the_app_then_the_intruder_tries(self):
        """What the app is for, in one go: the owner turns it on; the intruder, who knows the
        password, tries to sign in, to reset the password and sign in, and to turn it off."""
        if self.session_of(self.owner) is None:
            self.sign_in("owner")
        if not self.app_on:
            self.owner_turns_on_the_app()
        self.sign_in("intruder")
        self.ask_reset()
        self.use_reset("intruder")
        self.sign_in("intruder")
        if self.app_on:
            self.turn_off_the_app("intruder")

    @precondition(lambda self: not self.deleted and self.app_on)
    @rule(name=st.sampled_from(["owner", "intruder"]))
    def turn_off_the_app(self, name):
        """Turn the app off from a session: a code within 10 minutes and the password."""
        person = self.person(name)
        browser = self.session_of(person)
        for password in sorted(person.passwords) if browser else []:
            answer = browser.post("/mypage/totp/disable", {"password": password})
            if answer.headers.get("Location", "").startswith("/auth/two-step"):
                code = self.code_of(person)
                if code is None or enter_code(browser, code, "/mypage/security").status_code != 302:
                    return
                answer = browser.post("/mypage/totp/disable", {"password": password})
            if answer.status_code == 302 and answer.headers["Location"] == "/mypage/security":
                assert person is self.owner, "the intruder turned the app off"
                self.app_on, self.owner.phone = False, None
                self.told_everyone("the app turned off")
                return

    @invariant()
    def the_model_agrees_on_the_app(self):
        if not self.deleted:
            with self.app.app_context():
                ours = select(User.id).where(User.email == self.current)
                credential = select(TotpCredential.user_id).where(TotpCredential.user_id.in_(ours))
                on = db.session.scalar(credential) is not None
            assert on == self.app_on
