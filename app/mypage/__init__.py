"""My page: the profile photo, nickname, password, export and account deletion."""

from flask import Blueprint

bp = Blueprint("mypage", __name__, url_prefix="/mypage")

from app.mypage import routes  # noqa: E402,F401  (routes attach themselves to bp)
