"""The registry of the ways into an account (app/accounts/ways_in.py) is complete: every model
that keeps a secret, a credential or a link is in it, or is named here with why it lets
nobody in. A new credential that is not registered fails here before a recovery forgets it.
No database needed: the models' columns are read from SQLAlchemy's metadata."""

import re

from app.accounts.ways_in import WAYS_IN
from app.extensions import db

# A column whose name says it holds a secret, a credential or a link's token.
CREDENTIAL_COLUMN = re.compile(
    r"(_hash$|secret|credential|public_key|user_handle|^token|_token$|password)"
)
# Models with such a column that open nothing, and why.
NOT_WAYS_IN = {}


def mapped_models():
    return [mapper.class_ for mapper in db.Model.registry.mappers]


def credential_columns(model):
    return [c.name for c in model.__table__.columns if CREDENTIAL_COLUMN.search(c.name)]


def test_every_model_with_a_secret_or_a_link_is_a_registered_way_in():
    registered = {way.model for way in WAYS_IN}
    forgotten = [
        f"{model.__name__} ({', '.join(credential_columns(model))})"
        for model in mapped_models()
        if credential_columns(model) and model not in registered and model not in NOT_WAYS_IN
    ]
    assert not forgotten, f"register in app/accounts/ways_in.py what ends each: {forgotten}"


def test_the_check_finds_the_credentials_it_must():
    names = {model.__name__ for model in mapped_models() if credential_columns(model)}
    expected = {"User", "LoginSession", "AccessToken", "Passkey", "TotpCredential"}
    assert expected | {"RecoveryCode", "MailToken", "NoteShare"} <= names


def test_every_way_in_says_what_made_it_and_what_ends_it():
    for way in WAYS_IN:
        assert way.made_by and way.ended_by and callable(way.on_recovery), way.model


def test_the_exemptions_are_still_models_with_such_columns():
    for model in NOT_WAYS_IN:
        assert credential_columns(model), f"{model.__name__} needs no exemption any more"
