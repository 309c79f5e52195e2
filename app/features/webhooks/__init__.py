"""Memo talks to other tools: signed webhooks of the account's note events, and private Atom
feeds of its notes (docs/webhooks.md).

service.py owns the rules (make, list, end, pause, keep; feeds' tokens), used by My page
(routes.py, `/mypage/webhooks`), the API (api.py, on the API's blueprint) and the feeds
(feeds.py, `/feeds/<token>`); outbox.py makes the account's events deliveries and picks the
next one due; delivery.py is the worker's side (sign, send, retry, turn off); tasks.py wakes
it from the one event point.
"""
