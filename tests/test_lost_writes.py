"""No lever of speed loses or doubles a write (issue #89): a statement is sent again on a new
connection only when the session holds nothing staged, and a commit whose connection is lost
is answered as what it is, a write that may have landed."""

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import OperationalError

from app.extensions import db
from app.models import Note, User, WordCount
from tests.apiclients import is_problem

COUNTS = {"total": 1, "distinct": 1, "top": [["memo", 1]]}


def drop_every_connection_but_ours(postgres):
    """Terminate the app's pooled connections from another one, as a restart would."""
    postgres.execute(
        "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity"
        " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        " AND backend_type = 'client backend'"
    )


def owner_id():
    return db.session.scalar(select(User.id).where(User.email == "ann@example.com"))


def test_a_statement_after_the_connection_dropped_never_discards_a_staged_object(
    app, user, postgres
):
    with app.app_context():
        owner = owner_id()
        db.session.commit()  # the connection goes back to the pool, nothing begun on it
        drop_every_connection_but_ours(postgres)
        db.session.add(
            WordCount(
                url="https://example.com/kept",
                all_words=COUNTS,
                without_stop_words=COUNTS,
                user_id=owner,
            )
        )
        # The autoflush's INSERT fails on the dropped connection: sending the SELECT again
        # would first roll back, expunging the staged count, and the request would go on.
        with pytest.raises(OperationalError):
            db.session.scalar(select(func.count()).select_from(WordCount))
        db.session.rollback()
        assert db.session.scalar(select(func.count()).select_from(WordCount)) == 0


def test_a_statement_with_nothing_staged_is_sent_again_on_a_new_connection(app, user, postgres):
    with app.app_context():
        owner = owner_id()
        db.session.commit()
        drop_every_connection_but_ours(postgres)
        assert db.session.scalar(select(User.id).where(User.id == owner)) == owner


@pytest.fixture
def commits_lose_their_connection(app, postgres):
    """The next COMMIT the app sends finds its connection gone (the backend terminated just
    before it): the client cannot know whether it landed."""
    armed = {"left": 1}

    def terminate(connection):
        if armed["left"]:
            armed["left"] -= 1
            pid = connection.connection.dbapi_connection.get_backend_pid()
            postgres.execute(f"SELECT pg_terminate_backend({pid}, 5000)")

    with app.app_context():
        engine = db.engine
    event.listen(engine, "commit", terminate)
    yield armed
    event.remove(engine, "commit", terminate)


def test_an_api_write_whose_commit_was_cut_says_to_send_it_again_with_the_same_key(
    app, ann_api, commits_lose_their_connection
):
    key = {"Idempotency-Key": "cut-at-commit"}
    cut = ann_api.post("/notes", {"title": "Once", "content": "x"}, headers=key)
    assert is_problem(cut, 503, "unavailable"), cut.get_json()
    assert "may have been saved" in cut.get_json()["detail"]
    assert "same Idempotency-Key" in cut.get_json()["detail"]
    assert cut.headers["Retry-After"] == "5"
    again = ann_api.post("/notes", {"title": "Once", "content": "x"}, headers=key)
    once_more = ann_api.post("/notes", {"title": "Once", "content": "x"}, headers=key)
    assert again.status_code == 201 and once_more.get_json()["id"] == again.get_json()["id"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).where(Note.title == "Once")) == 1


def test_a_page_save_whose_commit_was_cut_says_so_and_its_key_makes_it_once(
    app, user, commits_lose_their_connection
):
    # drafts.js keeps a save its answer did not settle (a 503) and sends it again, same key.
    sent = {"title": "Maybe", "content": "x", "idempotency_key": "draft-key-1"}
    response = user.post("/notes/new", sent)
    assert response.status_code == 503
    assert "it may have been saved" in response.get_data(as_text=True)
    assert user.post("/notes/new", sent).status_code == 302
    assert user.post("/notes/new", sent).status_code == 302
    with app.app_context():
        assert db.session.scalar(select(func.count()).where(Note.title == "Maybe")) == 1
