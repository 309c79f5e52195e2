"""Korean and English: which language a page is in, times in the reader's zone, and the catalogs."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import pytz
from babel import Locale
from babel.dates import format_datetime
from sqlalchemy import select

from app import throttle
from app.extensions import db
from app.fetcher import messages as fetch_messages
from app.i18n import formats, stored
from app.i18n.formats import DATE_TIME_PATTERNS, pattern_writer
from app.models import Note, User, WordCount
from devenv.visitors import Browser
from tests.languages import (
    KOREAN,
    NICKNAME,
    RELATIVE_TIME,
    TIME_ELEMENT,
    html_lang,
    korean_browser,
    saved,
)
from tests.noting import note_id_of
from tests.reading import latin_words

# --- Which language -----------------------------------------------------------------------


def test_a_visitor_gets_english_without_accept_language(client):
    response = client.get("/auth/login")
    assert html_lang(response) == "en"
    assert "<h2>Sign in</h2>" in response.get_data(as_text=True)
    assert "<h1>Memo: your notes, only yours</h1>" in response.get_data(as_text=True)


def test_a_visitor_gets_korean_from_accept_language(client):
    response = client.get("/auth/login", headers=KOREAN)
    assert html_lang(response) == "ko"
    assert "<h2>로그인</h2>" in response.get_data(as_text=True)
    assert "Accept-Language" in response.headers["Vary"]


@pytest.mark.parametrize(
    ("header", "language"),
    [
        ("en-US,ko;q=0.5", "en"),  # en-US falls back to en, which comes first
        ("fr-FR,ko;q=0.8,en;q=0.5", "ko"),
        ("ko_KR", "ko"),
        ("*;q=abc", "en"),
        ("garbage,,;;==,q=", "en"),
        ("ko;q=1e999", "en"),
        ("x" * 20_000, "en"),
        ("zz-ZZ", "en"),
        ("", "en"),
    ],
)
def test_accept_language_picks_the_best_language_and_malformed_ones_get_english(
    client, header, language
):
    response = client.get("/auth/login", headers={"Accept-Language": header})
    assert response.status_code == 200
    assert html_lang(response) == language


def test_the_switcher_sets_a_visitors_language_in_a_cookie(app):
    visitor = korean_browser(app)
    visitor.get("/auth/login")
    answer = visitor.post("/language", {"language": "en", "next": "/auth/signup"})
    assert answer.status_code == 302 and answer.headers["Location"] == "/auth/signup"
    assert "language=en" in answer.headers["Set-Cookie"]
    assert "HttpOnly" in answer.headers["Set-Cookie"]
    assert html_lang(visitor.get("/auth/signup")) == "en"  # the cookie beats Accept-Language


def test_the_switcher_goes_back_only_to_a_page_of_this_site(browser):
    answer = browser.post("/language", {"language": "ko", "next": "https://evil.example/"})
    assert answer.headers["Location"] == "/"


@pytest.mark.parametrize("code", ["xx", "", "ko-KR", "../en", "ko\x00"])
def test_an_unknown_language_from_the_switcher_is_a_400(browser, code):
    response = browser.post("/language", {"language": code})
    assert response.status_code == 400
    assert "Set-Cookie" not in response.headers


def test_the_switcher_needs_the_csrf_token(browser):
    assert browser.post("/language", {"language": "ko"}, csrf=False).status_code == 400


@pytest.mark.parametrize("cookie", ["xx", "ko-KR", "%00", "en;ko", "한국어"])
def test_an_unknown_language_cookie_is_ignored(client, cookie):
    client.set_cookie("language", cookie)
    response = client.get("/auth/login", headers=KOREAN)
    assert response.status_code == 200
    assert html_lang(response) == "ko"


def test_sign_up_saves_the_language_and_the_browsers_time_zone(app):
    visitor = korean_browser(app)
    form = {"email": "min@example.com", "nickname": NICKNAME, "password": "correct horse 9"}
    visitor.get("/auth/signup")
    visitor.post(
        "/auth/signup",
        {**form, "password_confirm": form["password"], "timezone": "America/Los_Angeles"},
    )
    assert saved(app, NICKNAME) == ("ko", "America/Los_Angeles")


@pytest.mark.parametrize(
    ("headers", "reported", "zone"),
    [
        (KOREAN, "", "Asia/Seoul"),  # no JavaScript: the language's usual zone
        (KOREAN, "Mars/Olympus_Mons", "Asia/Seoul"),
        ({}, "", "UTC"),
        ({}, "x" * 5000, "UTC"),
    ],
)
def test_sign_up_without_a_time_zone_takes_the_languages_usual_one(app, headers, reported, zone):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = headers.get("Accept-Language", "")
    visitor = Browser(client)
    form = {"email": "min@example.com", "nickname": "minji", "password": "correct horse 9"}
    visitor.get("/auth/signup")
    answer = visitor.post(
        "/auth/signup", {**form, "password_confirm": form["password"], "timezone": reported}
    )
    assert answer.status_code == 302
    assert saved(app, "minji")[1] == zone


def test_a_users_saved_language_beats_accept_language(user, app):
    user.post("/mypage/settings", {"language": "en", "timezone": "UTC"})
    response = user.get("/", headers=KOREAN)
    assert html_lang(response) == "en"
    assert "Your notes" in response.get_data(as_text=True)


def test_the_switcher_saves_a_signed_in_users_language(user, app):
    user.get("/")
    assert user.post("/language", {"language": "ko", "next": "/"}).status_code == 302
    assert saved(app)[0] == "ko"
    user.client.delete_cookie("language")  # another device: the account remembers
    assert "내 메모" in user.get("/").get_data(as_text=True)


# --- My page's settings ---------------------------------------------------------------------


def test_settings_change_the_language_and_the_time_zone(user, app):
    user.create_note("Groceries")
    answer = user.post("/mypage/settings", {"language": "ko", "timezone": "Asia/Seoul"})
    assert answer.status_code == 302 and answer.headers["Location"] == "/mypage"
    assert saved(app) == ("ko", "Asia/Seoul")
    page = user.get("/mypage").get_data(as_text=True)
    assert "언어와 시간대를 저장했어요." in page
    zones = re.search(r'<select[^>]*name="timezone"[^>]*>(.*?)</select>', page, re.S).group(1)
    first = re.search(r"<option([^>]*)>([^<]*)</option>", zones)
    assert 'value="Asia/Seoul"' in first.group(1) and "selected" in first.group(1)
    assert first.group(2) == "UTC+09:00 · 서울, 대한민국", "Seoul first, by its Korean name"
    assert "UTC+05:30 · 콜카타, 인도" in zones and "인디애나폴리스, 미국" in zones


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "", "Asia/Seoul\x00", "utc", "+09:00"])
def test_an_unknown_time_zone_is_a_400_field_error(user, app, zone):
    response = user.post("/mypage/settings", {"language": "en", "timezone": zone})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Choose a time zone" in page
    assert saved(app) == ("en", "UTC")


@pytest.mark.parametrize("code", ["xx", "", "KO", "ko-KR"])
def test_an_unknown_language_in_the_settings_is_a_400_field_error(user, app, code):
    response = user.post("/mypage/settings", {"language": code, "timezone": "Asia/Seoul"})
    assert response.status_code == 400
    assert "Choose" in response.get_data(as_text=True)
    assert saved(app) == ("en", "UTC")


# --- Times ----------------------------------------------------------------------------------


def set_note_time(app, moment):
    """Give every note the creation time `moment`."""
    with app.app_context():
        for note in db.session.scalars(select(Note)):
            note.created_at = note.updated_at = moment
        db.session.commit()


def test_times_are_shown_in_the_users_zone_and_language_with_the_utc_instant(user, app):
    user.create_note("Groceries")
    set_note_time(app, datetime(2026, 11, 23, 9, 59, 30, tzinfo=UTC))
    english = user.get("/").get_data(as_text=True)
    assert TIME_ELEMENT.findall(english) == [("2026-11-23T09:59:30Z", "Nov 23, 2026, 9:59 AM")]
    user.post("/mypage/settings", {"language": "ko", "timezone": "Asia/Seoul"})
    korean = user.get("/").get_data(as_text=True)
    assert TIME_ELEMENT.findall(korean) == [("2026-11-23T09:59:30Z", "2026년 11월 23일 오후 6:59")]


def test_just_after_midnight_utc_is_the_previous_evening_in_los_angeles(user, app):
    user.create_note("Groceries")
    set_note_time(app, datetime(2026, 11, 24, 0, 30, tzinfo=UTC))
    user.post("/mypage/settings", {"language": "en", "timezone": "America/Los_Angeles"})
    note_id = re.search(r'href="/notes/(\d+)"', user.get("/").get_data(as_text=True))[1]
    page = user.get(f"/notes/{note_id}").get_data(as_text=True)
    assert ("2026-11-24T00:30:00Z", "Nov 23, 2026, 4:30 PM") in TIME_ELEMENT.findall(page)


# 15:20 in Seoul on 27 November 2026, and the clocks pinned around it.
WRITTEN = datetime(2026, 11, 27, 6, 20, tzinfo=UTC)
SAME_EVENING = datetime(2026, 11, 27, 14, 59, tzinfo=UTC)  # 23:59 in Seoul
NEXT_MORNING = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)  # 00:00 on the 28th in Seoul
TWO_DAYS_ON = datetime(2026, 11, 28, 15, 0, tzinfo=UTC)


def pin_clock(monkeypatch, moment):
    """Make the pages' "now" `moment` (app/i18n/formats.py)."""
    monkeypatch.setattr(formats, "now", lambda: moment)


def test_times_near_today_are_said_in_words_in_the_readers_zone_with_the_date_in_the_title(
    user, app, monkeypatch
):
    note = note_id_of(user.create_note("Groceries"))
    set_note_time(app, WRITTEN)
    user.post("/mypage/settings", {"language": "ko", "timezone": "Asia/Seoul"})
    full = "2026년 11월 27일 오후 3:20"
    for clock, words in ((SAME_EVENING, "오늘 오후 3:20"), (NEXT_MORNING, "어제 오후 3:20")):
        pin_clock(monkeypatch, clock)
        for path in ("/", f"/notes/{note}", "/search?q=Groceries"):
            page = user.get(path).get_data(as_text=True)
            assert ("2026-11-27T06:20:00Z", full, words) in RELATIVE_TIME.findall(page), path
    pin_clock(monkeypatch, TWO_DAYS_ON)
    assert ("2026-11-27T06:20:00Z", full) in TIME_ELEMENT.findall(
        user.get("/").get_data(as_text=True)
    )
    assert not RELATIVE_TIME.findall(user.get("/").get_data(as_text=True))
    user.post("/mypage/settings", {"language": "en", "timezone": "America/Los_Angeles"})
    pin_clock(monkeypatch, SAME_EVENING)  # 06:59 on the 27th there; written 22:20 the 26th
    page = user.get("/").get_data(as_text=True)
    assert RELATIVE_TIME.findall(page) == [
        ("2026-11-27T06:20:00Z", "Nov 26, 2026, 10:20 PM", "yesterday 10:20 PM")
    ]


def test_a_list_kept_or_tagged_yesterday_is_made_again_today(user, app, monkeypatch):
    user.create_note("Groceries")
    set_note_time(app, WRITTEN)
    user.post("/mypage/settings", {"language": "ko", "timezone": "Asia/Seoul"})
    user.client.set_cookie("memo-scripts", "1")  # a browser that may keep the page
    pin_clock(monkeypatch, SAME_EVENING)
    user.get("/")  # the settings' message, shown once
    first = user.get("/")
    assert "오늘 오후 3:20" in first.get_data(as_text=True)
    tag = first.headers["ETag"]
    assert user.get("/", headers={"If-None-Match": tag}).status_code == 304
    pin_clock(monkeypatch, NEXT_MORNING)  # a minute past midnight in Seoul: nothing changed
    after = user.get("/", headers={"If-None-Match": tag})
    assert after.status_code == 200 and after.headers["ETag"] != tag
    assert "어제 오후 3:20" in after.get_data(as_text=True)


@pytest.mark.parametrize(
    ("language", "pattern"),
    [
        *DATE_TIME_PATTERNS.items(),
        ("en", "yy.MM.dd HH:mm:ss, MMMM LLL LLLL MMMMM K k hh 'at' a aaaa aaaaa"),
        ("ko", "yyyy년 MMM MMMM d일 a aaaaa HH시 mm분 ss초 %"),
    ],
)
def test_times_are_written_byte_for_byte_as_babel_writes_them(language, pattern):
    locale, write = Locale.parse(language), pattern_writer(Locale.parse(language), pattern)
    zones = ["UTC", "Asia/Seoul", "America/Los_Angeles", "Australia/Lord_Howe", "Asia/Kathmandu"]
    # Every 7 hours and 13 minutes over two years: every month, hour and AM/PM, and the
    # changes to and from summer time, in zones of whole, half and quarter hours.
    moments = [datetime(2025, 1, 1, tzinfo=UTC) + timedelta(minutes=433 * n) for n in range(2500)]
    for zone in map(pytz.timezone, zones):
        expected = [format_datetime(m, pattern, tzinfo=zone, locale=locale) for m in moments]
        assert [write(moment.astimezone(zone)) for moment in moments] == expected


def test_times_are_stored_as_utc_instants_whatever_the_zone(user, app):
    user.post("/mypage/settings", {"language": "ko", "timezone": "Asia/Seoul"})
    user.create_note("Groceries")
    with app.app_context():
        created_at = db.session.scalar(select(Note.created_at))
    shown = TIME_ELEMENT.findall(user.get("/").get_data(as_text=True))
    assert created_at.utcoffset().total_seconds() == 0  # timestamptz, read back in UTC
    assert shown == [(created_at.strftime("%Y-%m-%dT%H:%M:%SZ"), shown[0][1])]


# --- Stored messages and error pages ----------------------------------------------------------


def test_a_stored_failure_reason_is_shown_in_the_readers_language(user, app):
    with app.app_context():
        owner = db.session.scalar(select(User))
        reason = (
            "The page redirected to http://example.com/a. Memo only fetches public web pages: "
            "10.0.0.1 is a private address."
        )
        count = WordCount(
            url="http://example.com/", user_id=owner.id, status="failed", error=reason
        )
        db.session.add(count)
        db.session.commit()
        count_id = count.id
    english = user.get(f"/wordcount/{count_id}").get_data(as_text=True)
    assert reason in english
    user.post("/mypage/settings", {"language": "ko", "timezone": "Asia/Seoul"})
    korean = user.get(f"/wordcount/{count_id}").get_data(as_text=True)
    assert (
        "페이지가 다른 주소로 넘어갔어요: http://example.com/a. "
        "공개된 웹 페이지만 가져올 수 있어요. 10.0.0.1: 사설 주소예요."
    ) in korean
    as_json = user.get(f"/wordcount/{count_id}", headers={"Accept": "application/json"})
    assert as_json.get_json()["error"].startswith("페이지가 다른 주소로 넘어갔어요")


def test_every_stored_message_is_read_back_as_itself_and_translated(app):
    nested = fetch_messages.PRIVATE  # a reason inside a reason is translated in turn
    for message in stored.MESSAGES:
        names = stored.PLACEHOLDER.findall(message)
        values = {name: nested if name in stored.NESTED else f"v-{name}.9" for name in names}
        english = message % values
        with app.test_request_context("/", headers=KOREAN):
            expected = stored.translated(message, values)
            assert stored.translated_text(english) == expected, message
            assert expected != english, message  # Korean, not the English sentence
        with app.test_request_context("/"):
            assert stored.translated_text(english) == english, message


def test_error_pages_and_json_errors_are_in_the_readers_language(client):
    page = client.get("/no/such/page", headers=KOREAN)
    assert page.status_code == 404
    assert "404 · 찾을 수 없음" in page.get_data(as_text=True)
    answer = client.get("/no/such/page", headers={**KOREAN, "Accept": "application/json"})
    assert answer.get_json() == {
        "error": "여기에는 아무것도 없어요. "
        "주소가 잘못됐거나 페이지가 옮겨졌거나 지워졌을 수 있어요.",
        "status": 404,
    }
    refused = client.post("/auth/login", headers={**KOREAN, "Accept": "application/json"})
    assert refused.status_code == 400
    assert refused.get_json()["error"].startswith("보안 확인 정보가 빠졌어요.")


def test_the_429_messages_say_when_in_the_readers_language(app):
    with app.test_request_context("/", headers=KOREAN):
        assert throttle.too_many_signups(1) == (
            "지금 이곳에서 가입 요청이 너무 많아요. 1분 뒤에 다시 시도해 주세요."
        )
        assert "15분 뒤에" in throttle.too_many_passwords(15)
    with app.test_request_context("/"):
        assert throttle.too_many_passwords(1).endswith("try again in a minute.")
        assert throttle.too_many_passwords(15).endswith("try again in 15 minutes.")


def test_wtforms_own_messages_follow_the_language(app):
    visitor = korean_browser(app)
    visitor.get("/auth/signup")
    response = visitor.post(
        "/auth/signup",
        {
            "email": "a" * 250 + "@example.com",
            "nickname": "민지",
            "password": "correct horse 9",
            "password_confirm": "correct horse 9",
        },
    )
    assert response.status_code == 400
    assert "254" in response.get_data(as_text=True)
    own = ["a" * 250 + "@example.com", "민지", "name@example.com"]  # and the example address
    assert latin_words(response.get_data(as_text=True), *own) == []


def test_counts_use_plural_forms(user):
    for title in ("cat one", "cat two"):
        user.create_note(title, "cat")
    assert "2 notes match" in user.get("/search?q=cat").get_data(as_text=True)
    user.create_note("dog", "dog")
    assert "1 note matches" in user.get("/search?q=dog").get_data(as_text=True)
    user.post("/mypage/settings", {"language": "ko", "timezone": "UTC"})
    assert "검색 결과 메모 2개" in user.get("/search?q=cat").get_data(as_text=True)
