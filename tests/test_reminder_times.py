"""When reminders fire: the wall clock of the reader's zone, across daylight-saving changes,
on the 31st, at a time the clock skips (app/features/notes/schedule.py, docs/reminders.md)."""

from datetime import UTC, datetime

import pytest

from app.features.notes.schedule import next_after, occurrences, rule_for

NEW_YORK, BERLIN, SEOUL = "America/New_York", "Europe/Berlin", "Asia/Seoul"


def utc(*parts):
    return datetime(*parts, tzinfo=UTC)


def times(start, zone, repeat, after, count):
    """Return the next `count` firings in UTC of a reminder set for wall-clock `start`."""
    return occurrences(start, zone, rule_for(repeat, start), after, count)


def test_daily_nine_stays_nine_across_new_yorks_spring_forward():
    start = datetime(2026, 3, 6, 9, 0)
    assert times(start, NEW_YORK, "daily", utc(2026, 3, 6), 4) == [
        utc(2026, 3, 6, 14, 0),  # EST, UTC-5
        utc(2026, 3, 7, 14, 0),
        utc(2026, 3, 8, 13, 0),  # EDT from 2026-03-08: still 09:00 on the clock
        utc(2026, 3, 9, 13, 0),
    ]


def test_daily_nine_stays_nine_across_new_yorks_fall_back():
    start = datetime(2026, 10, 30, 9, 0)
    assert times(start, NEW_YORK, "daily", utc(2026, 10, 31), 3) == [
        utc(2026, 10, 31, 13, 0),  # EDT
        utc(2026, 11, 1, 14, 0),  # EST from 2026-11-01
        utc(2026, 11, 2, 14, 0),
    ]


def test_a_time_the_clock_skips_fires_an_hour_later_on_the_clock():
    """02:30 does not exist in New York on 2026-03-08: it fires at 03:30 EDT (07:30 UTC),
    the moment a clock that had not jumped would show 02:30; the next day at 02:30 again."""
    start = datetime(2026, 3, 7, 2, 30)
    assert times(start, NEW_YORK, "daily", utc(2026, 3, 7, 12), 2) == [
        utc(2026, 3, 8, 7, 30),
        utc(2026, 3, 9, 6, 30),
    ]


def test_a_time_the_clock_shows_twice_fires_once_the_first_time():
    start = datetime(2026, 10, 31, 1, 30)
    assert times(start, NEW_YORK, "daily", utc(2026, 10, 31, 12), 2) == [
        utc(2026, 11, 1, 5, 30),  # 01:30 EDT, the first of the two
        utc(2026, 11, 2, 6, 30),
    ]


def test_berlin_weekdays_keep_eight_oclock_across_its_change():
    start = datetime(2026, 3, 27, 8, 0)  # a Friday; Berlin moves to CEST on 2026-03-29
    assert times(start, BERLIN, "weekdays", utc(2026, 3, 27), 3) == [
        utc(2026, 3, 27, 7, 0),  # CET, UTC+1
        utc(2026, 3, 30, 6, 0),  # Monday, CEST, UTC+2: the weekend skipped
        utc(2026, 3, 31, 6, 0),
    ]


def test_seoul_weekdays_at_nine_have_no_change_to_make():
    start = datetime(2026, 11, 26, 9, 0)  # a Thursday
    assert times(start, SEOUL, "weekdays", utc(2026, 11, 25), 3) == [
        utc(2026, 11, 26, 0, 0),
        utc(2026, 11, 27, 0, 0),
        utc(2026, 11, 30, 0, 0),  # Monday
    ]


def test_monthly_on_the_31st_comes_on_the_last_day_of_shorter_months():
    start = datetime(2026, 1, 31, 9, 0)
    fired = times(start, SEOUL, "monthly", utc(2026, 1, 1), 4)
    assert [moment.astimezone(UTC).date().isoformat() for moment in fired] == [
        "2026-01-31",
        "2026-02-28",
        "2026-03-31",
        "2026-04-30",
    ]


def test_yearly_on_the_29th_of_february_comes_on_the_28th_in_other_years():
    start = datetime(2028, 2, 29, 12, 0)
    fired = times(start, "UTC", "yearly", utc(2028, 1, 1), 2)
    assert fired == [utc(2028, 2, 29, 12), utc(2029, 2, 28, 12)]


def test_weekly_repeats_on_the_starts_weekday():
    start = datetime(2026, 11, 25, 18, 0)  # a Wednesday
    fired = times(start, BERLIN, "weekly", utc(2026, 11, 25), 2)
    assert fired == [utc(2026, 11, 25, 17), utc(2026, 12, 2, 17)]


def test_a_one_time_reminder_fires_once_and_not_after_its_time():
    start = datetime(2026, 3, 8, 9, 0)
    assert next_after(start, NEW_YORK, None, utc(2026, 3, 8)) == utc(2026, 3, 8, 13)
    assert next_after(start, NEW_YORK, None, utc(2026, 3, 8, 13)) is None


def test_the_rules_are_rfc_5545_rrules():
    assert rule_for("weekdays", datetime(2026, 1, 1)) == "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"
    assert rule_for("monthly", datetime(2026, 1, 30)) == (
        "FREQ=MONTHLY;BYMONTHDAY=28,29,30;BYSETPOS=-1"
    )
    assert rule_for("none", datetime(2026, 1, 1)) is None
    with pytest.raises(ValueError):
        rule_for("hourly", datetime(2026, 1, 1))
