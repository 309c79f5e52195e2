"""When a reminder fires: an RFC 5545 RRULE on the wall clock of an IANA zone, in UTC.

The rule runs on the naive wall-clock time (dateutil's rrule knows no zones); each
occurrence is then placed in the zone with zoneinfo and turned into UTC, so a daily 09:00
stays 09:00 on the clock across a daylight-saving change (docs/reminders.md, "Time rules"):
- a wall-clock time the clock skips (02:30 on a spring-forward night) takes the offset of
  before the gap (zoneinfo's fold=0, as RFC 5545 §3.3.5 says): it fires at 03:30, the same
  moment a clock that had not jumped would show 02:30;
- a time the clock shows twice (01:30 on a fall-back night) fires once, the first time;
- a monthly reminder on the 29th, 30th or 31st comes on the last day of a shorter month,
  a yearly one on 29 February on 28 February of other years (BYMONTHDAY with BYSETPOS=-1).
"""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr

# The repeats a person can choose, and the RRULE each is (None: once). The shortest is a
# day: no rule here fires more often (docs/security.md, budgets).
REPEATS = ("none", "daily", "weekdays", "weekly", "monthly", "yearly")
WEEKDAYS = "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"
# How far an occurrence is looked for: the rarest rule (29 February) repeats within 8 years.
HORIZON_OCCURRENCES = 3000


def rule_for(repeat, start):
    """Return the RRULE (RFC 5545, without DTSTART) of `repeat` from wall-clock `start`."""
    if repeat == "none":
        return None
    if repeat == "daily":
        return "FREQ=DAILY"
    if repeat == "weekdays":
        return WEEKDAYS
    if repeat == "weekly":
        return f"FREQ=WEEKLY;BYDAY={('MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU')[start.weekday()]}"
    if repeat == "monthly":
        return f"FREQ=MONTHLY;{month_day(start.day)}"
    if repeat == "yearly":
        return f"FREQ=YEARLY;BYMONTH={start.month};{month_day(start.day)}"
    raise ValueError(f"no such repeat: {repeat!r}")


def month_day(day):
    """Return the BYMONTHDAY part for `day`: a day past the 28th falls back to the month's
    last day when the month is shorter (the last of the days 28..day it has)."""
    if day <= 28:
        return f"BYMONTHDAY={day}"
    return f"BYMONTHDAY={','.join(str(d) for d in range(28, day + 1))};BYSETPOS=-1"


def in_utc(wall_clock, zone):
    """Return the UTC instant the clock of `zone` shows as `wall_clock` (naive); a time the
    clock skips takes the offset of before the gap, one it shows twice the first (fold=0)."""
    return wall_clock.replace(tzinfo=ZoneInfo(zone), fold=0).astimezone(UTC)


def wall_clock(moment, zone):
    """Return what the clock of `zone` shows at UTC instant `moment`, naive."""
    return moment.astimezone(ZoneInfo(zone)).replace(tzinfo=None)


def next_after(start, zone, rule, after):
    """Return the first occurrence (UTC) of the reminder strictly after `after` (aware), or
    None when there is none: a one-time reminder whose time has passed."""
    if rule is None:
        first = in_utc(start, zone)
        return first if first > after else None
    recurrence = rrulestr(rule, dtstart=start, cache=False)
    # Begin a day of wall clock before `after`: an offset change moves the two apart.
    local_after = max(start, wall_clock(after, zone) - timedelta(days=1))
    for count, occurrence in enumerate(recurrence.xafter(local_after, inc=True)):
        moment = in_utc(occurrence, zone)
        if moment > after:
            return moment
        if count > HORIZON_OCCURRENCES:
            break
    return None


def occurrences(start, zone, rule, after, count):
    """Return the next `count` occurrences (UTC) after `after`: what the tests and docs show."""
    found = []
    while len(found) < count:
        moment = next_after(start, zone, rule, after)
        if moment is None:
            break
        found.append(moment)
        after = moment
    return found


def now():
    """Return the current time, aware, in UTC."""
    return datetime.now(UTC)
