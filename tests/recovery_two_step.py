"""The second step in the recovery state machine (tests/test_recovery_sequences.py): the owner
turns her authenticator app on with her phone and off again; either person adds a passkey
of their own from a session, and signs in with it; the intruder, who knows the password,
tries to sign in, to reset and sign in, to turn the app off, and to have the second step
turned off as lost. While a second step of the
owner's is on, the intruder's password never signs in; a recovery (a reset or an undo link)
removes the app, passkeys and codes whose chain of proofs the password alone began within
its window (recovery_proofs.py's model), and an app set up through an old passkey survives
that passkey's removal."""

from hypothesis import event
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from sqlalchemy import select

from app.extensions import db
from app.models import Passkey, TotpCredential, User
from devenv.visitors import Browser
from tests.passkeying import PASSKEY_ID, SoftPasskey, add_passkey, sign_in_with
from tests.phones import RECOVERY_CODE, enter_code, try_to_turn_on
from tests.signing_in import settle_second_steps


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
        if answer.headers["Location"] == "/auth/two-step" and not self.second_step(person, browser):
            return None
        owners_step_on = self.app_on or "owner" in self.keys_on
        assert not (
            person is self.intruder and owners_step_on and "intruder" not in self.keys_on
        ), "a password alone signed in"
        return browser

    def second_step(self, person, browser, next_path=None):
        """Pass the second step in `browser` as `person` can: with their passkey where it is
        on, else a code; return whether it passed."""
        if person.name in self.keys_on:
            return (
                sign_in_with(browser, person.passkey, next_path=next_path or "").status_code == 302
            )
        code = self.code_of(person)
        return code is not None and enter_code(browser, code, next_path).status_code == 302

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
        if not self.keys_on:
            self.intruder.browser = None  # every other session ends: none passed a second step
        self.owner.phone, self.owner.recovery_codes, self.app_on = phone, codes, True
        self.second_step_added("app")
        self.intruder.recovery_codes = []  # the app's set-up made new ones
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
                if not self.second_step(person, browser, "/mypage/security"):
                    return
                answer = browser.post("/mypage/totp/disable", {"password": password})
            if answer.status_code == 302 and answer.headers["Location"] == "/mypage/security":
                assert person is self.owner, "the intruder turned the app off"
                self.app_on, self.owner.phone = False, None
                self.added.pop("app", None)
                self.told_everyone("the app turned off")
                return

    @precondition(lambda self: not self.deleted)
    @rule(name=st.sampled_from(["owner", "intruder"]))
    def add_a_passkey(self, name):
        """Add a passkey of one's own from a session, with the password (and a second step
        within 10 minutes, if one is on)."""
        person = self.person(name)
        browser = self.session_of(person)
        if browser is None or name in self.keys_on:
            return
        person.passkey = person.passkey or SoftPasskey()
        (password, *_) = sorted(person.passwords)
        answer = add_passkey(browser, person.passkey, name=name, password=password)
        if answer.status_code == 403:  # a second step first
            if not self.second_step(person, browser, "/mypage/security"):
                return
            answer = add_passkey(browser, person.passkey, name=name, password=password)
        if (
            answer.status_code not in (200, 302)
            or answer.headers.get("Location", "/mypage/security") != "/mypage/security"
        ):
            return
        self.succeeded(person, "a passkey")
        if answer.status_code == 200:  # the first second step: codes, and other sessions end
            person.recovery_codes = RECOVERY_CODE.findall(answer.get_data(as_text=True))
            for other in (self.owner, self.intruder, self.keeper):
                if other is not person:
                    other.browser = None
        self.keys_on.add(name)
        self.second_step_added(name)
        self.told_everyone("a passkey added")

    @precondition(lambda self: not self.deleted)
    @rule(name=st.sampled_from(["owner", "intruder"]))
    def sign_in_with_a_passkey(self, name):
        """Sign in with one's passkey alone, in a new browser: only one that is on works."""
        person = self.person(name)
        if person.passkey is None:
            return
        browser = Browser(self.app.test_client())
        sign_in_with(browser, person.passkey)
        worked = browser.get("/mypage").status_code == 200  # a refusal redirects too
        assert worked == (name in self.keys_on), f"the {name}'s passkey: {worked}"
        if worked:
            self.succeeded(person, "a passkey sign-in")
            person.browser = browser

    @precondition(lambda self: not self.deleted and self.keys_on == {"owner"} and not self.app_on)
    @rule()
    def owner_replaces_her_phone_then_her_mailbox_is_read(self):
        """Issue #78's order: her passkey weeks old, the owner sets her new phone's app up
        through it and removes the passkey; then whoever keeps copies of her mail resets the
        password. The app was made through a second step: the reset leaves it, and it asks."""
        if self.current != self.a:
            return
        settle_second_steps(self.app)
        self.added = dict.fromkeys(self.added, -1)  # older than anything since
        browser = Browser(self.app.test_client())
        sign_in_with(browser, self.owner.passkey)
        (password,) = self.owner.passwords
        phone, codes = try_to_turn_on(browser, password)
        assert phone is not None, "the owner's app, set up through her passkey"
        self.owner.phone, self.owner.recovery_codes, self.app_on = phone, codes, True
        self.second_step_added("app")
        self.told_everyone("the app turned on")
        passkey_id = PASSKEY_ID.search(browser.get("/mypage/security").get_data(as_text=True))[1]
        assert browser.post(f"/mypage/passkeys/{passkey_id}/delete").status_code == 302
        self.keys_on.discard("owner")
        self.added.pop("owner")
        self.owner.browser = browser
        self.told_everyone("a passkey removed")
        self.ask_reset()
        self.keeper_copies_the_mail_of_a()
        reset = [link for link in self.keeper.copies if "/auth/reset/" in link][-1]
        assert self.set_password(self.keeper, reset), "the mailbox resets the password"
        self.act_from(self.current)
        self.told_everyone("a reset")
        assert self.app_on, "the model keeps the app: its chain is the old passkey's"
        event("the owner replaced her phone, then her mailbox reset the password")
        for stolen in self.keeper.passwords:
            assert self.signs_in(self.keeper, stolen) is None, "the mailbox alone signed in"

    @precondition(lambda self: not self.deleted)
    @rule()
    def intruder_says_every_second_step_is_lost(self):
        """The intruder, with the password, asks to turn the second step off: every address
        with standing is told at once, and he is signed in nowhere (the week never passes)."""
        for password in sorted(self.intruder.passwords):
            browser = Browser(self.app.test_client())
            if browser.login(self.current, password).headers.get("Location") != "/auth/two-step":
                continue
            browser.get("/auth/two-step")
            browser.post("/auth/two-step/lost")
            if "Every address of the account is told" in browser.get("/auth/two-step").get_data(
                as_text=True
            ):
                self.told_everyone("a request to turn the second step off")
            assert browser.get("/mypage").status_code != 200, "asking signed the intruder in"
            return

    @invariant()
    def the_model_agrees_on_the_passkeys(self):
        if not self.deleted:
            with self.app.app_context():
                ours = select(User.id).where(User.email == self.current)
                names = db.session.scalars(select(Passkey.name).where(Passkey.user_id.in_(ours)))
                assert set(names) == self.keys_on

    @invariant()
    def the_model_agrees_on_the_app(self):
        if not self.deleted:
            with self.app.app_context():
                ours = select(User.id).where(User.email == self.current)
                credential = select(TotpCredential.user_id).where(TotpCredential.user_id.in_(ours))
                on = db.session.scalar(credential) is not None
            assert on == self.app_on
