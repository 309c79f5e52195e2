"""What the authorization and hardening tests do with each route of the matrix
(tests/routematrix.py): send it its request, and read what a request must not change."""

from sqlalchemy import select, text

from app.extensions import db
from app.models import User
from devenv.services import stored_keys


def snapshot(app, object_store, user_email=None):
    """Return every row of every table (or only one user's rows) and the stored objects."""
    rows = {}
    with app.app_context():
        user_id = db.session.scalar(select(User.id).where(User.email == user_email))
        for table in db.metadata.sorted_tables:
            query = f'SELECT * FROM "{table.name}"'
            if user_email and table.name == "user":
                query += f" WHERE id = {user_id}"
            elif user_email and "user_id" in table.columns:
                query += f" WHERE user_id = {user_id}"
            elif user_email:
                continue
            rows[table.name] = sorted(map(tuple, db.session.execute(text(query))), key=repr)
    prefix = f"avatars/{user_id}/" if user_email else ""
    return rows, stored_keys(object_store, prefix)


def send(browser, method, url, data, csrf=True):
    """Send a route its request: a GET with `data` as its query string, a POST of `data` as a
    form, or (the API's) another method with `data` as JSON, with the browser's cookies."""
    if method == "GET":
        return browser.get(url, query_string=data)
    if method != "POST" or url.startswith("/api/"):
        return browser.client.open(url, method=method, json=data)
    return browser.post(url, data, csrf=csrf)
