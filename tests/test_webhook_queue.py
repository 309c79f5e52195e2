"""Webhooks take turns on the job queue (an outside attack: four accounts whose receivers never
answered, each pressing "Send a test event" 200 times, held every general slot of the worker
for more than ten minutes, another account's word counts and deliveries waiting behind them).

An account has one sending job waiting at most, in its own lane; a job that runs out of time
queues the rest behind every job that waited meanwhile, as the queue runs the oldest first.
"""

import time

import pytest
from sqlalchemy import func, select, text

from app.extensions import db
from app.features.webhooks import delivery, tasks
from app.models import Note, User, WebhookDelivery
from tests.receivers import Receiver, ann_id, make_hook, send

WAITING = (
    "SELECT id, lock FROM procrastinate_jobs"
    " WHERE task_name = 'send_webhooks' AND status = 'todo' ORDER BY id"
)


@pytest.fixture
def receiver():
    with Receiver() as running:
        yield running


def waiting_jobs(app):
    with app.app_context():
        return [tuple(row) for row in db.session.execute(text(WAITING))]


def user_id(app, email):
    with app.app_context():
        return db.session.scalar(select(User.id).where(User.email == email))


def test_presses_and_changes_wait_as_one_job_in_the_accounts_lane(app, user, ann_api, receiver):
    hook = make_hook(ann_api, receiver, events=["note.created"])
    for number in range(5):
        ann_api.new_note(title=f"Note {number}")  # each saved while the job waits
    for _ in range(20):
        assert user.post(f"/mypage/webhooks/{hook['id']}/test").status_code == 302
    page = user.get("/mypage/webhooks").get_data(as_text=True)
    assert "A test event is on its way already" in page
    ann = ann_id(app)
    [(_, lock)] = waiting_jobs(app)
    assert lock == f"user:{ann}"
    with app.app_context():
        notes = db.session.scalar(select(func.count(Note.id)))
        tests = db.session.scalar(
            select(func.count()).where(WebhookDelivery.type == "webhook.test")
        )
    assert (notes, tests) == (5, 1)  # every save kept; one test event waiting, not twenty
    send(app, ann)
    assert sorted(receiver.types) == ["note.created"] * 5 + ["webhook.test"]


def test_a_job_out_of_time_queues_the_rest_behind_the_jobs_that_waited(
    app, ann_api, bob_api, receiver, monkeypatch
):
    make_hook(ann_api, receiver, events=["note.created"])
    for number in range(3):
        ann_api.new_note(title=f"Ann {number}")
    make_hook(bob_api, receiver, events=["note.created"])
    bob_api.new_note(title="Bob")
    ann, bob = ann_id(app), user_id(app, "bob@example.com")
    with app.app_context():  # ann's job is taken by the worker: it runs, no longer waits
        db.session.execute(text(f"DELETE FROM procrastinate_jobs WHERE lock = 'user:{ann}'"))
        db.session.commit()
    monkeypatch.setattr(tasks, "SEND_SECONDS", 0.05)
    attempt = delivery.attempt

    def slow_attempt(delivery_id):  # a receiver slower than the job's time
        time.sleep(0.1)
        return attempt(delivery_id)

    monkeypatch.setattr(delivery, "attempt", slow_attempt)
    send(app, ann)  # one delivery, then its time is out
    assert receiver.types == ["note.created"]
    assert [lock for _, lock in waiting_jobs(app)] == [f"user:{bob}", f"user:{ann}"]
