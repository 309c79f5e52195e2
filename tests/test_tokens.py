"""Personal access tokens' service (app/features/tokens/service.py) against the real database.

A token's secret is shown once and kept only as its SHA-256; it authenticates until it
expires or is revoked; malformed secrets are refused before any query; the limits on live
tokens and tokens made an hour hold under concurrency; the last use is written at most
once a minute.
"""

import hashlib
import threading
from datetime import timedelta

import pytest
from sqlalchemy import event, select, text

from app.extensions import db
from app.features.tokens import service
from app.features.tokens import tasks as tokens_tasks
from app.features.tokens.service import TokenRefused, authenticate, make_token, revoke, revoke_all
from app.models import AccessToken, User, utcnow


@pytest.fixture
def ann_row(app, user):
    """The signed-up account `ann`, inside an app context."""
    with app.app_context():
        yield db.session.scalar(select(User).where(User.nickname == "ann"))


@pytest.fixture
def bob_row(app, other_user):
    with app.app_context():
        yield db.session.scalar(select(User).where(User.nickname == "bob"))


def made(user, name="laptop", scope="read", days=30):
    """Make a token and commit it, as the page and the API do; return (token id, secret)."""
    token, secret = make_token(user, name, scope, days)
    db.session.commit()
    return token.id, secret


def stored_row(token_id):
    return db.session.execute(
        text("SELECT * FROM access_token WHERE id = :id"), {"id": token_id}
    ).one()


def test_a_secret_has_the_prefix_256_random_bits_and_a_checksum_and_is_stored_only_hashed(ann_row):
    token_id, secret = made(ann_row)
    assert secret.startswith("memo_pat_") and len(secret) == 58
    assert service.well_formed(secret)
    row = stored_row(token_id)
    assert row.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in str(tuple(row))
    assert (row.name, row.scope, row.user_id) == ("laptop", "read", ann_row.id)
    assert row.expires_at - row.created_at == timedelta(days=30)
    # Two secrets never repeat (a million-to-one would be a broken generator).
    assert len({service.new_secret() for _ in range(1000)}) == 1000


def test_a_live_token_authenticates_as_its_account_with_its_scope(ann_row):
    _, secret = made(ann_row, scope="write")
    token = authenticate(secret, "198.51.100.4")
    assert token.user.email == "ann@example.com" and token.may_write


@pytest.mark.parametrize(
    "mangle",
    [
        lambda s: s[:-1],  # too short
        lambda s: s + "A",  # too long
        lambda s: s[len("memo_pat_") :],  # no prefix
        lambda s: "memo_pak_" + s[9:],  # another prefix
        lambda s: s[:20] + "\x00" + s[21:],  # a NUL (psycopg2 raises on one)
        lambda s: s[:20] + "é" + s[21:],  # not base62
        lambda s: s[:-1] + ("A" if s[-1] != "A" else "B"),  # a wrong checksum
        lambda s: s[:20] + ("A" if s[20] != "A" else "B") + s[21:],  # a typo: checksum fails
        lambda s: None,
        lambda s: "",
        lambda s: 12345,
    ],
)
def test_malformed_secrets_authenticate_nothing_and_never_reach_the_database(ann_row, mangle):
    _, secret = made(ann_row)
    queries = []

    def listen(*args):
        queries.append(args)

    event.listen(db.engine, "before_cursor_execute", listen)
    try:
        assert authenticate(mangle(secret), "198.51.100.4") is None
    finally:
        event.remove(db.engine, "before_cursor_execute", listen)
    assert queries == []


def test_an_unknown_well_formed_secret_authenticates_nothing(ann_row):
    made(ann_row)
    assert authenticate(service.new_secret(), "198.51.100.4") is None


def test_an_expired_token_authenticates_nothing(ann_row):
    token_id, secret = made(ann_row, days=1)
    db.session.execute(
        text("UPDATE access_token SET expires_at = now() - interval '1 second' WHERE id = :id"),
        {"id": token_id},
    )
    db.session.commit()
    assert authenticate(secret, "198.51.100.4") is None


def test_a_revoked_token_authenticates_nothing_and_another_account_cannot_revoke_it(
    ann_row, bob_row
):
    token_id, secret = made(ann_row)
    assert revoke(bob_row.id, token_id) is False
    db.session.commit()
    assert authenticate(secret, "198.51.100.4") is not None
    assert revoke(ann_row.id, token_id) is True
    db.session.commit()
    assert authenticate(secret, "198.51.100.4") is None
    assert revoke(ann_row.id, token_id) is True  # again: it is hers, and stays revoked
    assert revoke(ann_row.id, 2**63) is False and revoke(ann_row.id, -1) is False


def test_revoke_all_ends_every_token_of_the_account_and_no_other(ann_row, bob_row):
    secrets_of_ann = [made(ann_row, f"t{n}")[1] for n in range(3)]
    _, bobs = made(bob_row)
    assert revoke_all(ann_row.id) == 3
    db.session.commit()
    assert [authenticate(secret, None) for secret in secrets_of_ann] == [None] * 3
    assert authenticate(bobs, None).user_id == bob_row.id
    assert service.tokens_of(ann_row.id) == []


def test_the_last_use_is_recorded_with_the_address_at_most_once_a_minute(ann_row):
    token_id, secret = made(ann_row)
    assert stored_row(token_id).last_used_at is None
    authenticate(secret, "198.51.100.4")
    first = stored_row(token_id)
    assert first.last_used_address == "198.51.100.4"
    authenticate(secret, "2001:db8::1")  # within the minute: nothing written
    assert stored_row(token_id).last_used_at == first.last_used_at
    assert stored_row(token_id).last_used_address == "198.51.100.4"
    db.session.execute(text("UPDATE access_token SET last_used_at = now() - interval '61 seconds'"))
    db.session.commit()
    authenticate(secret, "2001:db8::1")
    assert stored_row(token_id).last_used_address == "2001:db8::1"
    authenticate(secret, "not an address\x00")
    assert stored_row(token_id).last_used_address == "2001:db8::1"


def test_a_read_within_the_minute_writes_nothing(ann_row):
    _, secret = made(ann_row)
    authenticate(secret, "198.51.100.4")
    statements = []

    def keep(conn, cursor, statement, *args):
        statements.append(statement.split()[0].upper())

    event.listen(db.engine, "before_cursor_execute", keep)
    try:
        assert authenticate(secret, "198.51.100.4") is not None
    finally:
        event.remove(db.engine, "before_cursor_execute", keep)
    assert statements == ["SELECT"]


@pytest.mark.parametrize(
    "fields, field",
    [
        (("", "read", 30), "name"),
        (("   ", "read", 30), "name"),
        (("x" * 101, "read", 30), "name"),
        (("a\x00b", "read", 30), "name"),
        (("a\nb", "read", 30), "name"),
        ((None, "read", 30), "name"),
        (("ok", "admin", 30), "scope"),
        (("ok", None, 30), "scope"),
        (("ok", "read", 0), "expires_days"),
        (("ok", "read", 366), "expires_days"),
        (("ok", "read", "30"), "expires_days"),
        (("ok", "read", True), "expires_days"),
        (("ok", "read", 30.0), "expires_days"),
    ],
)
def test_wrong_fields_are_refused_by_name_and_nothing_is_made(ann_row, fields, field):
    with pytest.raises(TokenRefused) as refused:
        make_token(ann_row, *fields)
    assert refused.value.field == field and refused.value.status == 422
    db.session.rollback()
    assert db.session.scalar(select(AccessToken.id)) is None


def test_a_name_may_hold_an_emoji_newer_than_pythons_unicode(ann_row):
    token, _ = make_token(ann_row, "🫨 phone", "read", 30)  # Unicode 15.0; Python 3.11 has 14.0
    db.session.commit()
    assert token.name == "🫨 phone"


def test_a_name_is_trimmed_and_365_days_is_the_longest(ann_row):
    token, _ = make_token(ann_row, "  ci  ", "write", 365)
    db.session.commit()
    assert token.name == "ci" and token.expires_at - token.created_at == timedelta(days=365)


def test_the_database_refuses_a_token_longer_than_a_year_or_of_another_scope(ann_row):
    for column, value in (("expires_at", "now() + interval '366 days'"), ("scope", "'admin'")):
        values = {"expires_at": "now() + interval '1 day'", "scope": "'read'", column: value}
        with pytest.raises(Exception, match="check constraint"):
            db.session.execute(
                text(
                    "INSERT INTO access_token (user_id, name, scope, secret_hash, created_at,"
                    f" expires_at) VALUES (:user, 'x', {values['scope']}, 'h', now(),"
                    f" {values['expires_at']})"
                ),
                {"user": ann_row.id},
            )
        db.session.rollback()


def test_past_the_live_limit_a_token_is_refused_until_one_is_revoked(app, ann_row, monkeypatch):
    monkeypatch.setitem(app.config, "TOKENS_PER_ACCOUNT", 3)
    ids = [made(ann_row, f"t{n}")[0] for n in range(3)]
    with pytest.raises(TokenRefused) as refused:
        make_token(ann_row, "one more", "read", 1)
    assert refused.value.status == 409 and "Revoke one" in str(refused.value)
    db.session.rollback()
    revoke(ann_row.id, ids[0])
    db.session.commit()
    made(ann_row, "now it fits")


def test_past_the_hourly_limit_a_token_is_refused_with_the_time_to_wait(app, ann_row):
    for n in range(10):
        revoke(
            ann_row.id, made(ann_row, f"t{n}")[0]
        )  # revoked ones count: making is what's limited
        db.session.commit()
    with pytest.raises(TokenRefused) as refused:
        make_token(ann_row, "eleventh", "read", 1)
    assert refused.value.status == 429 and 3500 < refused.value.retry_after <= 3600
    db.session.rollback()
    db.session.execute(text("UPDATE access_token SET created_at = created_at - interval '1 hour'"))
    db.session.execute(text("UPDATE access_token SET expires_at = created_at + interval '1 day'"))
    db.session.commit()
    made(ann_row, "an hour later")


def test_tokens_made_at_once_stay_within_the_live_limit(app, ann_row, monkeypatch):
    monkeypatch.setitem(app.config, "TOKENS_PER_ACCOUNT", 5)
    monkeypatch.setitem(app.config, "TOKENS_PER_HOUR", 100)
    user_id = ann_row.id
    outcomes = []

    def make_one(n):
        with app.app_context():
            try:
                made(db.session.get(User, user_id), f"t{n}")
                outcomes.append("made")
            except TokenRefused:
                db.session.rollback()
                outcomes.append("refused")

    threads = [threading.Thread(target=make_one, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["made"] * 5 + ["refused"] * 7
    assert len(service.tokens_of(user_id)) == 5


def test_deleting_the_account_deletes_its_tokens(ann_row, bob_row):
    made(ann_row)
    made(bob_row)
    db.session.execute(text('DELETE FROM "user" WHERE id = :id'), {"id": ann_row.id})
    db.session.commit()
    owners = db.session.scalars(select(AccessToken.user_id)).all()
    assert owners == [bob_row.id]


def test_the_clean_up_deletes_only_tokens_long_revoked_or_expired(ann_row):
    kept_id, _ = made(ann_row, "live")
    old_revoked, _ = made(ann_row, "old revoked")
    old_expired, _ = made(ann_row, "old expired", days=1)
    db.session.execute(
        text("UPDATE access_token SET revoked_at = now() - interval '8 days' WHERE id = :id"),
        {"id": old_revoked},
    )
    db.session.execute(
        text(
            "UPDATE access_token SET created_at = now() - interval '9 days',"
            " expires_at = now() - interval '8 days' WHERE id = :id"
        ),
        {"id": old_expired},
    )
    revoke(ann_row.id, kept_id)  # revoked just now: kept for the hour's count
    assert service.delete_spent(timedelta(days=7)) == 2
    db.session.commit()
    assert db.session.scalars(select(AccessToken.id)).all() == [kept_id]


def test_tokens_of_lists_the_live_and_expired_newest_first_but_not_the_revoked(ann_row):
    first, _ = made(ann_row, "first")
    second, _ = made(ann_row, "second")
    third, _ = made(ann_row, "third")
    revoke(ann_row.id, second)
    db.session.commit()
    assert [token.id for token in service.tokens_of(ann_row.id)] == [third, first]
    assert utcnow() < service.tokens_of(ann_row.id)[0].expires_at


def test_the_hourly_job_deletes_tokens_revoked_more_than_a_week_ago(ann_row):
    old, _ = made(ann_row, "old")
    recent, _ = made(ann_row, "recent")
    db.session.execute(
        text("UPDATE access_token SET revoked_at = now() - interval '8 days' WHERE id = :id"),
        {"id": old},
    )
    db.session.commit()
    tokens_tasks.delete_spent_access_tokens(timestamp=0)
    assert db.session.scalars(select(AccessToken.id)).all() == [recent]
