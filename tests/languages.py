"""Languages in tests: a browser that asks for Korean, Korean content, a page's language."""

import re

from sqlalchemy import select

from app.extensions import db
from app.models import User
from devenv.visitors import Browser

TIME_ELEMENT = re.compile(r'<time datetime="([^"]+)">([^<]+)</time>')
KOREAN = {"Accept-Language": "ko-KR,ko;q=0.9,en-US;q=0.8,en;q=0.7"}
NICKNAME = "김민지"
TITLE = "주간 회의록 — 11월"
CONTENT = "다음 주 장보기 목록: 우유, 달걀, 빵"
FILE_NAME = "회의 자료 (최종).txt"


def korean_browser(app):
    """A visitor whose browser asks for Korean."""
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = KOREAN["Accept-Language"]
    return Browser(client)


def html_lang(response):
    return re.search(r'<html lang="([^"]+)">', response.get_data(as_text=True))[1]


def saved(app, nickname="ann"):
    """Return the user's saved (language, time_zone)."""
    with app.app_context():
        user = db.session.scalar(select(User).filter_by(nickname=nickname))
        return user.language, user.time_zone
