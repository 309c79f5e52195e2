"""Everything Memo sends to an address a user chose, and only that: the word counter's page
fetch, a reminder's push and a webhook's POST.

- `addresses`: what an address may be (parsed, shortened for show, vetted after DNS); the web
  checks a form's address with it before a job is queued.
- `messages`: the reasons a fetch fails, in the words a person reads.
- `client`: the outbound HTTP requests themselves, run in the worker only.
- `text`: a fetched page's words, decoded and stripped of markup, in the worker's child.

This file imports nothing, so the web loads only what it asks for (`tests/test_layout.py`).
"""
