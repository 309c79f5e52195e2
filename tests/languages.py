"""Languages in tests: a browser that asks for Korean, Korean content, a page's language."""

import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import User
from devenv.visitors import Browser

TIME_ELEMENT = re.compile(r'<time datetime="([^"]+)"(?: title="[^"]*")?>([^<]+)</time>')
# A time near today said in words: its instant, its full date (the title) and its words.
RELATIVE_TIME = re.compile(r'<time datetime="([^"]+)" title="([^"]+)">([^<]+)</time>')
KOREAN = {"Accept-Language": "ko-KR,ko;q=0.9,en-US;q=0.8,en;q=0.7"}
NICKNAME = "김민지"
TITLE = "주간 회의록 — 11월"
CONTENT = "다음 주 장보기 목록: 우유, 달걀, 빵"
FILE_NAME = "회의 자료 (최종).txt"
# Who reads the front's own pages (its 429s and 400s), and the language they get: the app's
# rule, a `language` cookie first, then Accept-Language's best.
FRONT_READERS = [
    pytest.param("ko-KR,ko;q=0.9", "", "ko", id="accept-language"),
    pytest.param("en;q=0.5, ko", "", "ko", id="q-weighted-best"),
    pytest.param("en-US,ko;q=0.5", "", "en", id="primary-subtag"),
    pytest.param("ko", "language=en", "en", id="cookie-first"),
    pytest.param("", "", "en", id="english"),
]
TRY_AGAIN = {"ko": "30초 뒤에 다시 시도해 주세요", "en": "try again in 30 seconds"}


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
