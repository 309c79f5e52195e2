"""The registry of the ways into an account (app/accounts/ways_in.py) is complete: every model
that belongs to an account, or keeps a secret, a credential or a link, is in it or named
with why it lets nobody in; every route a link opens without a session is in its LINKS. A
new credential or link that is not registered fails here before a recovery forgets it.
No database needed: the models' columns are read from SQLAlchemy's metadata."""

import re

from app.accounts.classification import LINKS, NOT_WAYS_IN
from app.accounts.ways_in import WAYS_IN
from app.extensions import db
from tests.routematrix import LINK, MATRIX, SHARED

# A column whose name says it holds a secret, a credential or a link's token.
CREDENTIAL_COLUMN = re.compile(
    r"(_hash$|secret|credential|public_key|user_handle|^token|_token$|password)"
)


def mapped_models():
    return [mapper.class_ for mapper in db.Model.registry.mappers]


def credential_columns(model):
    return [c.name for c in model.__table__.columns if CREDENTIAL_COLUMN.search(c.name)]


def belongs_to_an_account(model):
    return any(
        key.column.table.name == "user"
        for column in model.__table__.columns
        for key in column.foreign_keys
    )


def test_every_model_of_an_account_or_with_a_secret_is_classified():
    registered = {way.model for way in WAYS_IN}
    forgotten = [
        f"{model.__name__} ({', '.join(credential_columns(model)) or 'a foreign key to user'})"
        for model in mapped_models()
        if (credential_columns(model) or belongs_to_an_account(model))
        and model not in registered
        and model.__name__ not in NOT_WAYS_IN
    ]
    assert not forgotten, (
        "register in app/accounts/ways_in.py what ends each, or say in NOT_WAYS_IN why it "
        f"lets nobody in: {forgotten}"
    )


def test_every_route_a_link_opens_is_a_registered_way_in():
    opened_by_links = {rule for rule, route in MATRIX.items() if route.access in (LINK, SHARED)}
    missing, gone = opened_by_links - set(LINKS), set(LINKS) - opened_by_links
    assert not missing and not gone, (
        "app/accounts/ways_in.py's LINKS must name what ends each link: "
        f"missing {sorted(missing)}, gone {sorted(gone)}"
    )


def test_the_classification_finds_what_it_must():
    names = {model.__name__ for model in mapped_models() if belongs_to_an_account(model)}
    assert {"Note", "AddressHold", "Passkey", "ReminderOccurrence"} <= names
    assert "/reminders/act/<secret:token>" in LINKS and "/s/<secret:token>" in LINKS


def test_the_check_finds_the_credentials_it_must():
    names = {model.__name__ for model in mapped_models() if credential_columns(model)}
    expected = {"User", "LoginSession", "AccessToken", "Passkey", "TotpCredential"}
    assert expected | {"RecoveryCode", "MailToken", "NoteShare"} <= names


def test_every_way_in_says_what_made_it_and_what_ends_it():
    for way in WAYS_IN:
        assert way.made_by and way.ended_by and callable(way.on_recovery), way.model


def test_the_exemptions_are_still_models_of_an_account():
    by_name = {model.__name__: model for model in mapped_models()}
    for name in NOT_WAYS_IN:
        assert name in by_name and belongs_to_an_account(by_name[name]), name
