"""Grants: what lets someone read or write the account's notes without signing in (a share
link, an Atom feed, a webhook, an access token). One ceremony makes each (ceremony.py); each
records its maker and that maker's proofs then (app/models/grants.py), and pauses or ends
with what made it (app/accounts/pausing.py, app/accounts/ways_in.py)."""
