"""Who may undo what, and the one rule, over sequences of actions (docs/mail.md).

A Hypothesis state machine plays three people against one account, with real mail through
the real queue to the real SMTP server and the real database:
- the owner, who reads the address the account was made with (A) and a second one (B), and
  may turn on an authenticator app (her phone) or add a passkey;
- an intruder, who knows the first password (phished or reused), reads an address (I), and
  adds passkeys, tokens, share links and moves of his own;
- a keeper, who holds copies of some of A's mail (a shared computer, a forwarded message).
Rules are what they can do (tests/recovery_two_step.py, recovery_tokens.py and
recovery_proofs.py add the second step, tokens and the dangerous orders); after each, every
address with standing must have been told. Invariants: the intruder with the password alone
never completes a change that needs another proof (a move asked under other second steps);
after the owner's recovery from her highest-ranked address she signs in (never locked out),
and nothing the intruder made works: no link, password, passkey, token or share link.

CI runs a fixed, derandomized set of examples; the deep run is `./scripts/bench
recovery-sequences` (bench/recovery_sequences.py).
"""

import itertools
import os

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import select

from app.extensions import db
from app.models import User
from devenv.visitors import PASSWORD, Browser
from tests.mailbox import deliver, link_pattern, path_of, sign_up, text_of
from tests.recovery_proofs import ProofRules
from tests.recovery_tokens import TokenRules
from tests.recovery_two_step import TwoStepRules

pytestmark = pytest.mark.usefixtures("no_jobs")

EXAMPLES = int(os.environ.get("MEMO_RECOVERY_EXAMPLES", "5"))
STEPS = int(os.environ.get("MEMO_RECOVERY_STEPS", "10"))
accounts = itertools.count()


class Person:
    """Someone who reads some mailboxes, knows some passwords, and may hold a session."""

    def __init__(self, name, mailboxes, passwords):
        self.name, self.mailboxes, self.passwords = name, mailboxes, set(passwords)
        self.browser = None
        self.copies = []  # links copied from someone else's mail (the keeper's)
        self.phone = None  # the authenticator app the account's second step is on, if hers
        self.recovery_codes = []
        self.passkey = None  # a passkey of their own, on the account or not


class Recovery(TwoStepRules, TokenRules, ProofRules):
    app = mail_server = None  # set by the test below

    def __init__(self):
        super().__init__()
        n = next(accounts)
        self.a, self.b, self.i = (f"own{n}@a.example", f"own{n}@b.example", f"in{n}@i.example")
        self.owner = Person("owner", [self.a, self.b], [PASSWORD])
        self.intruder = Person("intruder", [self.i], [PASSWORD])
        self.keeper = Person("keeper", [], [])
        self.passwords = itertools.count()
        # The reference model: when each address began to be held (a step), and the current.
        self.clock = itertools.count()
        self.since = {self.a: next(self.clock)}
        self.current = self.a
        self.deleted = False
        self.app_on = False  # the account's authenticator app (the owner's phone)
        self.keys_on = set()  # whose passkeys are on the account: "owner", "intruder"
        self.owner_recovered = False  # since then, nothing the intruder does may succeed
        self.read = {}  # how many messages of each mailbox were looked at
        self.intruders_tokens = []  # the secrets of the access tokens the intruder made
        browser = Browser(self.app.test_client())
        assert sign_up(browser, self.a, f"own{n}").status_code == 302
        deliver(self.app)
        verify = self.links(self.a, "verify")[-1]
        browser.get(path_of(verify))
        assert browser.post(path_of(verify)).status_code == 302
        self.seen_everything()

    # --- the mail, the model -------------------------------------------------------------

    def links(self, address, kind):
        """Return every link of `kind` (verify, reset, secure) mailed to `address`, oldest first."""
        found = []
        for message in self.mail_server.to(address):
            found += link_pattern(kind).findall(text_of(message))
        return list(dict.fromkeys(found))

    def seen_everything(self):
        deliver(self.app)
        self.read = {a: len(self.mail_server.to(a)) for a in (self.a, self.b, self.i)}

    def standing(self):
        """The model's addresses with standing (no time passes here), highest rank first."""
        return sorted(self.since, key=self.since.get)

    def told_everyone(self, what):
        """Deliver the mail; every address with standing has a new message about `what`."""
        deliver(self.app)
        for address in self.standing():
            got = len(self.mail_server.to(address))
            assert got > self.read.get(address, 0), f"{address} was not told of {what}"
        self.seen_everything()

    def account_email(self):
        with self.app.app_context():
            return db.session.scalar(select(User.email).where(User.email.in_(list(self.since))))

    def act_from(self, address):
        """An undo or a reset from `address`: the addresses ranked below it lose standing."""
        ranked = self.standing()
        for lower in ranked[ranked.index(address) + 1 :]:
            del self.since[lower]

    def moved_to(self, address):
        self.since.setdefault(address, next(self.clock))
        self.current = address

    def new_password(self, person):
        return f"{person.name} password {next(self.passwords)}"

    def session_of(self, person):
        browser = person.browser
        if browser is None or browser.get("/mypage").status_code != 200:
            person.browser = None
            return None
        return browser

    def person(self, name):
        return {"owner": self.owner, "intruder": self.intruder}[name]

    def succeeded(self, person, what):
        """Record that `person` succeeded at `what`: never the intruder after her recovery."""
        assert not (person is self.intruder and self.owner_recovered), (
            f"the intruder's {what} worked after the owner's recovery"
        )

    # --- the rules: what people can do ---------------------------------------------------

    @precondition(lambda self: not self.deleted)
    @rule(name=st.sampled_from(["owner", "intruder"]))
    def sign_in(self, name):
        person = self.person(name)
        for password in sorted(person.passwords):
            browser = self.signs_in(person, password)
            if browser is not None:
                self.succeeded(person, "sign-in")
                person.browser = browser
                if person is self.intruder:  # who leaves a token behind, to come back by
                    self.intruder_makes_a_token()
                return

    @precondition(lambda self: not self.deleted)
    @rule(name=st.sampled_from(["owner", "intruder"]))
    def change_password(self, name):
        person = self.person(name)
        browser = self.session_of(person)
        if browser is None:
            return
        new = self.new_password(person)
        for password in sorted(person.passwords):
            if browser.change_password(password, new).status_code == 302:
                person.passwords = {new} if person is self.owner else {*person.passwords, new}
                self.told_everyone("a password change")
                return

    @precondition(lambda self: not self.deleted)
    @rule(name=st.sampled_from(["owner", "intruder"]))
    def ask_move(self, name):
        person = self.person(name)
        browser = self.session_of(person)
        target = next((a for a in person.mailboxes if a != self.current), None)
        if browser is None or target is None:
            return
        for password in sorted(person.passwords):
            form = {"email": target, "password": password}
            if browser.submit("/mypage/email", form).status_code == 302:
                self.told_everyone("a move asked for")
                self.asked_move(target)
                return

    @precondition(lambda self: not self.deleted)
    @rule(name=st.sampled_from(["owner", "intruder"]))
    def confirm_move(self, name):
        person = self.person(name)
        for address in person.mailboxes:
            for link in self.links(address, "verify")[-1:]:
                presser = Browser(self.app.test_client())
                presser.get(path_of(link))
                if presser.post(path_of(link)).status_code == 302 and address != self.current:
                    self.succeeded(person, "move")
                    self.move_completed(person, address)
                    self.moved_to(address)
                    self.told_everyone("a move made")
                    return

    @precondition(lambda self: not self.deleted)
    @rule(name=st.sampled_from(["owner", "intruder"]))
    def moves_the_account_to_their_address(self, name):
        """Sign in, ask for a move and confirm it, in one go: what an attacker does first."""
        if self.session_of(self.person(name)) is None:
            self.sign_in(name)
        self.ask_move(name)
        self.confirm_move(name)

    @precondition(lambda self: not self.deleted)
    @rule(name=st.sampled_from(["owner", "intruder"]))
    def cancel_move(self, name):
        browser = self.session_of(self.person(name))
        if browser is not None:
            assert browser.post("/mypage/email/cancel").status_code == 302

    @precondition(lambda self: not self.deleted)
    @rule()
    def ask_reset(self):
        Browser(self.app.test_client()).submit("/auth/reset", {"email": self.current})
        deliver(self.app)

    @precondition(lambda self: not self.deleted)
    @rule(name=st.sampled_from(["owner", "intruder"]))
    def use_reset(self, name):
        person = self.person(name)
        for address in person.mailboxes:
            for link in self.links(address, "reset")[-1:]:
                if self.set_password(person, link):
                    self.succeeded(person, "reset")
                    self.act_from(self.current)
                    self.told_everyone("a reset")
                    return

    @precondition(lambda self: not self.deleted)
    @rule(name=st.sampled_from(["owner", "intruder", "keeper"]), pick=st.integers(0, 2))
    def use_undo(self, name, pick):
        person = self.keeper if name == "keeper" else self.person(name)
        held = list(person.copies)
        for address in person.mailboxes:
            held += self.links(address, "secure")
        held = [link for link in held if "/auth/secure/" in link]
        if not held:
            return
        link = held[-1 - pick % len(held)]
        to = self.address_of(link)
        if self.set_password(person, link):
            self.succeeded(person, "undo")
            if to != self.current:
                self.moved_to(to)
            self.act_from(to)
            self.told_everyone("an undo")

    @precondition(lambda self: not self.deleted)
    @rule()
    def keeper_copies_the_mail_of_a(self):
        self.keeper.copies += [link for k in ("secure", "reset") for link in self.links(self.a, k)]

    @precondition(lambda self: not self.deleted)
    @rule()
    def owner_recovers(self):
        """The owner's recovery from the highest-ranked address she reads; then she holds the
        account, and nothing anyone else holds works."""
        ours = [a for a in self.standing() if a in self.owner.mailboxes]
        assert ours, "the owner reads no address with standing"
        recovered = any(
            self.set_password(self.owner, link)
            for address in ours[:1]
            for link in reversed(self.links(address, "secure"))
        )
        if recovered:
            self.moved_to(ours[0])
            self.act_from(ours[0])
        elif self.current in self.owner.mailboxes:
            self.ask_reset()
            recovered = self.set_password(self.owner, self.links(self.current, "reset")[-1])
            self.act_from(self.current)
        assert recovered, f"the owner could not recover from {ours[0]}"
        self.owner_recovered = True
        self.recovered_at = self.database_now()
        deliver(self.app)
        self.seen_everything()
        assert self.account_email() in self.owner.mailboxes
        (owner_password,) = self.owner.passwords  # she remembers her newest only
        signed_in = self.signs_in(self.owner, owner_password)
        assert signed_in is not None, "the owner cannot sign in after her recovery"
        for person in (self.intruder, self.keeper):
            for link in self.held_by(person):
                assert not self.works(link), f"the {person.name}'s {link} worked after recovery"
            for password in person.passwords:
                browser = self.signs_in(person, password)
                assert browser is None, f"the {person.name} signed in after recovery"

    @precondition(lambda self: not self.deleted)
    @rule()
    def owner_deletes_the_account(self):
        browser = self.session_of(self.owner)
        if browser is None:
            return
        for password in sorted(self.owner.passwords):
            if browser.submit("/mypage/delete", {"password": password}).status_code == 302:
                self.deleted = True
                return

    @rule()
    def time_passes(self):
        """The worker sends what was queued (after a deletion, the one thing left to happen)."""
        deliver(self.app)

    # --- what holds after every step -----------------------------------------------------

    @invariant()
    def the_model_agrees_on_the_address(self):
        if not self.deleted:
            assert self.account_email() == self.current

    # --- helpers ---------------------------------------------------------------------------

    def address_of(self, link):
        """Return the mailbox a link was mailed to."""
        for address in (self.a, self.b, self.i):
            if link in self.links(address, "secure|reset|verify"):
                return address
        return None

    def held_by(self, person):
        held = list(person.copies)
        for address in person.mailboxes:
            held += self.links(address, "verify|reset|secure")
        return held

    def set_password(self, person, link):
        """Use a reset or undo link with a new password; return whether it worked."""
        new, address = self.new_password(person), self.address_of(link)
        browser = Browser(self.app.test_client())
        browser.get(path_of(link))
        form = {"new_password": new, "new_password_confirm": new}
        if browser.submit(path_of(link), form).status_code != 302:
            return False
        person.passwords.add(new)
        if person is self.owner:
            self.owner.passwords = {new}
        for other in (self.owner, self.intruder, self.keeper):
            other.browser = None  # every session ends
        self.recovered_from(address)  # second steps its proofs did not make go
        return True

    def works(self, link):
        """Try a link as its holder would (a new password, or the confirm button)."""
        browser = Browser(self.app.test_client())
        browser.get(path_of(link))
        if "/auth/verify/" in link:
            return browser.post(path_of(link)).status_code == 302
        form = {"new_password": "a stolen password", "new_password_confirm": "a stolen password"}
        return browser.submit(path_of(link), form).status_code == 302


UNLIMITED = {
    name: 10_000
    for name in (
        "MAILS_PER_ACCOUNT",
        "MAILS_PER_RECIPIENT",
        "RESETS_PER_EMAIL",
        "RESETS_PER_CLIENT",
        "LOGIN_FAILURES_PER_EMAIL",
        "LOGIN_FAILURES_PER_CLIENT",
        "LOGIN_FAILURES_PER_NETWORK",
        "SIGNUPS_PER_CLIENT",
        "SIGNUPS_PER_NETWORK",
        "TOKENS_PER_HOUR",
        "TWO_STEP_FAILURES_PER_WINDOW",
        "TWO_STEP_FAILURES_PER_DAY",
    )
}


def test_nobody_outruns_the_owner_over_any_sequence(app, mail_server, monkeypatch):
    for name, limit in UNLIMITED.items():  # the throttles have tests of their own
        monkeypatch.setitem(app.config, name, limit)
    Recovery.app, Recovery.mail_server = app, mail_server
    run_state_machine_as_test(
        Recovery,
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=STEPS,
            # The same examples every run in CI; the deep run (bench/) draws new ones.
            derandomize=not os.environ.get("MEMO_RECOVERY_RANDOM"),
            database=None,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
