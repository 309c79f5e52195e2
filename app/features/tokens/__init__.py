"""Personal access tokens: the secrets a script uses the JSON API (/api/v1/) with.

service.py is the one owner of the rules (make, authenticate, revoke), used by the page
`/mypage/tokens` (routes.py, the blueprint `bp`) and by the API (app/features/api/); tasks.py
deletes tokens long revoked or expired.
"""
