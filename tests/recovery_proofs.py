"""The one rule in the recovery state machine (tests/test_recovery_sequences.py; docs/mail.md,
"The one rule"): a change needs the proofs the account holds when it completes, and a
recovery ends every way in the owner's proofs did not make.

Random sequences rarely draw the four- and five-step orders that took accounts (a move asked
before the second step turned on, pressed after it; a passkey added with the password alone,
then the owner's reset), so these rules play them in one go, beside the single acts:
- the intruder leaves ways in behind (a token, a share link, a move asked), then the owner
  turns her second step on: none of them works afterwards;
- the intruder adds the first second step, then the owner recovers;
- a move asked before any change of the second steps never completes after it;
- a grant made from a copy of the owner's browser (issue 87), then a recovery: no grant that a
  session or token the recovery ended made stays live.
"""

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from sqlalchemy import func, select

from app.accounts.pausing import GRANTS, made_by_a_maker
from app.extensions import db
from app.features.tokens.service import authenticate
from app.models import User, Webhook
from devenv.visitors import Browser
from tests.noting import SHARE_LINK, make_link, note_id_of
from tests.signing_in import copy_of


class ProofRules(RuleBasedStateMachine):
    """Rules and invariants of the one rule; the machine's people and model are the
    subclass's (owner, intruder, since, clock, app_on, keys_on, ...)."""

    def __init__(self):
        super().__init__()
        # Each second step on the account ("app", a person's key): when the password alone
        # began its chain of proofs (app/models/two_step.py, chain_start).
        self.added = {}
        self.arrived = {}  # an address a move brought: whether that move needed a second step
        self.asked_under = {}  # a move's address: the second steps when it was asked
        self.intruders_links = []  # the share links the intruder made
        self.recovered_at = None  # when the owner's last recovery was (the database's clock)

    def database_now(self):
        with self.app.app_context():
            return db.session.scalar(select(func.now()))

    def live_grants_made_before(self, moment):
        """Return how many of the account's grants a session or token made before `moment`
        still work (neither paused nor revoked)."""
        live = 0
        with self.app.app_context():
            user_id = db.session.scalar(select(User.id).where(User.email.in_(list(self.since))))
            for model in GRANTS:
                statement = select(func.count()).where(
                    model.user_id == user_id,
                    model.created_at <= moment,
                    made_by_a_maker(model),
                    model.paused_at.is_(None),
                )
                if model is not Webhook:
                    statement = statement.where(model.revoked_at.is_(None))
                live += db.session.scalar(statement)
        return live

    def second_steps(self):
        return (self.app_on, frozenset(self.keys_on))

    def asked_move(self, target):
        """Record the proofs the account held when a move to `target` was asked."""
        self.asked_under[target] = self.second_steps()

    def move_completed(self, person, target):
        """A move to `target` completed: the account's second steps are those it was asked
        under (a change in between voids the link)."""
        assert self.asked_under.get(target) == self.second_steps(), (
            f"the {person.name}'s move asked under other second steps completed"
        )
        self.arrived[target] = bool(self.added)

    def second_step_added(self, what):
        """Record a second step added: the first begins a chain of its own (the password
        alone made it); any other joins the chain of the one its adder passed (her passkey
        where it is on, else the owner's phone)."""
        adder = "owner" if what == "app" else what
        passed = self.added.get(adder if adder in self.keys_on - {what} else "app")
        others = {key: chain for key, chain in self.added.items() if key != what}
        self.added[what] = passed if others and passed is not None else next(self.clock)

    def recovered_from(self, address):
        """The model of a recovery from `address`: the chains the password alone began since
        the account came to it go (no time passes here: the undo window never ends), but
        none when it is the current address and came by a move that needed no second step."""
        since = self.since.get(address, -1)
        if address == self.current and self.arrived.get(address) is False:
            return
        if address != self.current:
            self.arrived[address] = None  # an undo takes the account back there
        gone = {what for what, chain in self.added.items() if chain > since}
        if "app" in gone:
            self.app_on, self.owner.phone = False, None
        self.keys_on -= gone
        for what in gone:
            del self.added[what]

    # --- rules -------------------------------------------------------------------------------

    @precondition(lambda self: not self.deleted)
    @rule()
    def intruder_shares_a_note(self):
        browser = self.session_of(self.intruder)
        if browser is None:
            return
        note = note_id_of(browser.create_note("mine now", "read along"))
        self.intruders_links.append(make_link(browser, note, days=""))
        self.succeeded(self.intruder, "share link")

    @precondition(lambda self: not self.deleted)
    @rule(then=st.sampled_from(["app", "passkey"]))
    def intruder_leaves_ways_in_then_the_owner_adds_a_second_step(self, then):
        """The dangerous order: ways in made with the password alone, then the owner's first
        second step; none of them works after it."""
        if self.app_on or self.keys_on:
            return
        if self.session_of(self.intruder) is None:
            self.sign_in("intruder")
        if self.session_of(self.intruder) is None:
            return
        self.intruder_makes_a_token()
        self.intruder_shares_a_note()
        self.ask_move("intruder")
        if self.session_of(self.owner) is None:
            self.sign_in("owner")
        if then == "app":
            self.owner_turns_on_the_app()
        else:
            self.add_a_passkey("owner")
        if not (self.app_on or self.keys_on):
            return
        with self.app.app_context():
            working = [s for s in self.intruders_tokens if authenticate(s, None) is not None]
        assert not working, "a token made with the password alone outlived the second step"
        self.confirm_move("intruder")  # void: the second steps changed since it was asked
        self.sign_in("intruder")

    @precondition(lambda self: not self.deleted)
    @rule()
    def intruder_adds_the_first_second_step_then_the_owner_recovers(self):
        if self.session_of(self.intruder) is None:
            self.sign_in("intruder")
        self.add_a_passkey("intruder")
        self.intruder_shares_a_note()
        self.owner_recovers()
        self.sign_in_with_a_passkey("intruder")

    @precondition(lambda self: not self.deleted)
    @rule()
    def a_grant_made_from_a_copied_session_then_a_recovery(self):
        """The intruder copies the owner's whole browser (its session and remember-me cookies)
        and shares a note from the copy, then the owner recovers: the link pauses with the
        session that made it, however many proofs that session had passed."""
        if self.session_of(self.owner) is None:
            self.sign_in("owner")
        owner = self.session_of(self.owner)
        if owner is None:
            return
        copy = copy_of(self.app, owner)
        note = note_id_of(copy.create_note("copied", "read along"))
        copy.get(f"/notes/{note}")
        made = copy.post(f"/notes/{note}/share", {"expires_days": ""})
        if made.status_code == 302 and made.headers["Location"] == f"/notes/{note}":
            self.intruders_links.append(SHARE_LINK.search(copy.get(f"/notes/{note}").text)[1])
        self.owner_recovers()

    # --- invariants --------------------------------------------------------------------------

    @invariant()
    def no_grant_made_by_an_ended_session_or_token_stays_live_after_a_recovery(self):
        if self.recovered_at is not None and not self.deleted:
            live = self.live_grants_made_before(self.recovered_at)
            assert live == 0, "a grant outlived the session or token that made it"

    @invariant()
    def no_share_link_of_the_intruders_opens_after_the_owners_recovery(self):
        if self.owner_recovered and not self.deleted:
            for link in self.intruders_links:
                opened = Browser(self.app.test_client()).get(link).status_code
                assert opened == 404, "the intruder's share link outlived the recovery"
