"""The intruder's access tokens in the recovery state machine (tests/test_recovery_sequences.py):
signed in with the password, the intruder makes a token to come back by; once the owner has
recovered the account, none of them authenticates."""

from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from app.features.tokens.service import authenticate
from tests.tokens import make_token, secret_shown


class TokenRules(RuleBasedStateMachine):
    """The rule and the invariant of the intruder's tokens; the machine's people and model
    (intruder, session_of, succeeded, told_everyone, owner_recovered, ...) are the subclass's."""

    @precondition(lambda self: not self.deleted)
    @rule()
    def intruder_makes_a_token(self):
        for password in sorted(self.intruder.passwords) if self.session_of(self.intruder) else []:
            secret = secret_shown(make_token(self.intruder.browser, "mine", "write", "9", password))
            if secret:
                self.succeeded(self.intruder, "token")
                self.intruders_tokens.append(secret)
                self.told_everyone("a token made")
                return

    @invariant()
    def no_token_the_intruder_made_works_after_the_owners_recovery(self):
        with self.app.app_context():
            working = [s for s in self.intruders_tokens if authenticate(s, None) is not None]
        assert not (self.owner_recovered and working), "the intruder's token outlived recovery"
