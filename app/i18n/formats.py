"""Times and sizes as the reader reads them: in their zone and language (the UTC instant beside)."""

from datetime import UTC, datetime, timedelta
from functools import cache

from babel.dates import (
    format_datetime,
    get_month_names,
    get_period_names,
    parse_pattern,
    tokenize_pattern,
)
from flask_babel import format_decimal, get_locale, get_timezone, gettext, ngettext
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

# A date and a time to the minute, as each language writes them ("2026년 11월 23일 오후 6:59").
# Babel's own medium format has seconds, and Korean's gives "PM" where people read 오후.
DATE_TIME_PATTERNS = {"en": "MMM d, y, h:mm a", "ko": "y년 M월 d일 aaaa h:mm"}
# The same to the second, where two times on one page would read alike (the history).
SECONDS_PATTERNS = {"en": "MMM d, y, h:mm:ss a", "ko": "y년 M월 d일 aaaa h:mm:ss"}
TIME_ELEMENT = Markup('<time datetime="%s">%s</time>')
# A time near the reader's today, in words ("오늘 오후 3:20"), the full date in its title.
RELATIVE_TIME_ELEMENT = Markup('<time datetime="%s" title="%s">%s</time>')
# The time of day alone, as each language writes it after "today" ("오후 3:20", "3:20 PM").
CLOCK_PATTERNS = {"en": "h:mm a", "ko": "aaaa h:mm"}
# The days said in words, by their distance from the reader's today; further ones are dates.
DAY_WORDS = {
    -1: _l("yesterday %(time)s"),
    0: _l("today %(time)s"),
    1: _l("tomorrow %(time)s"),
}
# The numeric fields a pattern may hold: the value each writes, zero-padded to its length.
NUMBERS = {
    "y": lambda moment: moment.year,
    "d": lambda moment: moment.day,
    "h": lambda moment: moment.hour % 12 or 12,
    "H": lambda moment: moment.hour,
    "K": lambda moment: moment.hour % 12,
    "k": lambda moment: moment.hour or 24,
    "m": lambda moment: moment.minute,
    "s": lambda moment: moment.second,
}
NAME_WIDTHS = {3: "abbreviated", 4: "wide", 5: "narrow"}


def two_digit_year(moment):
    """Return the year's last two digits, which Babel writes for "yy"."""
    return moment.year % 100


def month_field(char, length, locale):
    """Return the writer of a month field (M, L): its number, or its name in `locale`."""
    if length <= 2:
        return f"%0{length}d", lambda moment: moment.month
    context = "format" if char == "M" else "stand-alone"
    names = dict(get_month_names(width=NAME_WIDTHS[length], context=context, locale=locale).items())
    return "%s", lambda moment: names[moment.month]


def period_field(length, locale):
    """Return the writer of an AM/PM field (a) in `locale`, with Babel's fallback of widths."""
    widths = [NAME_WIDTHS[max(3, length)], "wide", "narrow", "abbreviated"]
    names = [get_period_names(width=width, context="format", locale=locale) for width in widths]
    am, pm = (next(found[period] for found in names if period in found) for period in ("am", "pm"))
    return "%s", lambda moment: pm if moment.hour >= 12 else am


@cache
def pattern_writer(locale, pattern):
    """Return a function that writes a local datetime by `pattern` in `locale`, or None.

    Babel's format_datetime reads the pattern's month and period names out of the locale's
    data on every call, through several lookups a field. This reads them once a process (a
    language and a pattern) and writes a time with one `%`: the notes list (20 times) went
    from 5.67 to 5.23 ms of CPU in English and 4.60 to 4.15 in Korean, 8-10 % (the in-process
    CPU benchmark of then; docs/performance.md). The names and the pattern's parts are
    still Babel's, and a test holds the output to Babel's byte for byte. Fields other than
    the date's numbers, month names and AM/PM, and the named formats ("medium"), are None:
    Babel writes those.
    """
    if pattern in ("full", "long", "medium", "short"):
        return None
    parse_pattern(pattern)  # Babel's own checks of the fields' lengths
    text, fields = "", []
    for kind, value in tokenize_pattern(pattern):
        if kind == "chars":
            text += value.replace("%", "%%")
            continue
        char, length = value
        if char in NUMBERS:
            spec = f"%0{length}d"
            field = two_digit_year if (char, length) == ("y", 2) else NUMBERS[char]
        elif char in "ML":
            spec, field = month_field(char, length, locale)
        elif char == "a":
            spec, field = period_field(length, locale)
        else:
            return None
        text += spec
        fields.append(field)
    return lambda moment: text % tuple([field(moment) for field in fields])


# Where a zone's offset would take a moment out of Python's calendar, it is moved this far in.
CALENDAR_MARGIN = timedelta(days=2)


def within_calendar(moment, zone):
    """Return `moment`, moved in by two days when it is so near year 1 or 9999 that `zone`'s
    offset would leave the calendar (OverflowError): a time no one wrote, shown at all."""
    try:
        moment.astimezone(zone)
    except OverflowError:
        earliest = datetime.min.replace(tzinfo=UTC) + CALENDAR_MARGIN
        return min(max(moment, earliest), datetime.max.replace(tzinfo=UTC) - CALENDAR_MARGIN)
    return moment


def local_time_writer(patterns=DATE_TIME_PATTERNS):
    """Return a function that writes a moment in the reader's zone and language, as now set.

    A naive moment is taken as UTC, as Babel takes it.
    """
    locale, zone = get_locale(), get_timezone()
    pattern = patterns.get(locale.language, "medium")
    writer = pattern_writer(locale, pattern)
    if writer is None:
        return lambda moment: format_datetime(
            within_calendar(moment, zone), pattern, tzinfo=zone, locale=locale
        )

    def local_time(moment):
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        # What Babel does with a pytz zone (its normalize() after astimezone() changes
        # nothing: astimezone() already picks the offset in force at that instant).
        try:
            return writer(moment.astimezone(zone))
        except OverflowError:  # year 1 west of UTC, or 9999 east of it
            return writer(within_calendar(moment, zone).astimezone(zone))

    return local_time


def utc_instant(moment):
    """Return `moment` as an RFC 3339 UTC instant ("2026-11-23T09:59:00Z")."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def local_today():
    """Return the reader's date now, in their zone: what "today" means on their pages."""
    return now().astimezone(get_timezone()).date()


def relative_writer():
    """Return a function that writes a moment as the reader says it near their today
    ("today 3:20 PM", "어제 오후 3:20"), or None for a moment further away.

    Pages that say it are kept and tagged with the reader's date (app/revalidation.py,
    shown_parts): a page made yesterday never says "today" today.
    """
    zone, today = get_timezone(), local_today()
    words = {days: str(word) for days, word in DAY_WORDS.items()}
    clock = local_time_writer(CLOCK_PATTERNS)

    def relative(moment):
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        try:
            word = words.get((moment.astimezone(zone).date() - today).days)
        except OverflowError:  # year 1 or 9999: never near today
            return None
        return None if word is None else word % {"time": clock(moment)}

    return relative


def time_elements():
    """Return `when(moment)` for one render: a <time> element, the UTC instant and local text.

    The reader's language and zone are looked up at the first time the render writes, then
    kept: Flask-Babel's get_locale() and get_timezone() go through `g` on every call (three
    context lookups each), and the notes list writes 20 times. Looked up once a render, the
    list went from 3.78 to 3.49 ms of CPU in English and 4.70 to 4.32 in Korean, 8 %
    (the in-process CPU benchmark of then; docs/performance.md).
    """
    writers = {}

    def when(moment, seconds=False, relative=False):
        """`seconds`: to the second, for a time that would read as another on the page.
        `relative`: yesterday, today and tomorrow in words, the full date in the title."""
        local_time = writers.get(seconds)
        if local_time is None:
            patterns = SECONDS_PATTERNS if seconds else DATE_TIME_PATTERNS
            local_time = writers[seconds] = local_time_writer(patterns)
        if relative:
            words = writers.get("relative")
            if words is None:
                words = writers["relative"] = relative_writer()
            said = words(moment)
            if said is not None:
                return RELATIVE_TIME_ELEMENT % (utc_instant(moment), local_time(moment), said)
        # `%`, not Markup.format, which runs string.Formatter in Python: a list page makes 20
        # of these, and .format was a quarter of each (docs/performance.md). Both escape.
        return TIME_ELEMENT % (utc_instant(moment), local_time(moment))

    return when


def file_size(size):
    """Return a size in bytes for people: "25 MB", "1.5 GB", "512 bytes" in their language."""
    for unit, scale in (("GB", 2**30), ("MB", 2**20), ("KB", 2**10)):
        if size >= scale:
            # Units are written alike in Korean and English; the number follows the locale.
            return gettext(
                "%(number)s %(unit)s", number=format_decimal(size / scale, "#,##0.#"), unit=unit
            )
    return ngettext("%(count)s byte", "%(count)s bytes", size, count=format_decimal(size))


# What a file is, for people, by its type (an attachment's type is decided at upload,
# app/features/attachments/naming.py): the first rule that matches, else "File".
FILE_KINDS = (
    (("application/pdf",), _l("PDF document")),
    (("image/",), _l("Image")),
    (("audio/",), _l("Audio")),
    (("video/",), _l("Video")),
    (
        (
            "text/csv",
            "application/vnd.ms-excel",
            "application/vnd.openxmlformats-officedocument.spreadsheetml",
            "application/vnd.oasis.opendocument.spreadsheet",
        ),
        _l("Spreadsheet"),
    ),
    (
        (
            "application/vnd.ms-powerpoint",
            "application/vnd.openxmlformats-officedocument.presentationml",
            "application/vnd.oasis.opendocument.presentation",
        ),
        _l("Presentation"),
    ),
    (
        (
            "application/msword",
            "application/vnd.openxmlformats-officedocument.wordprocessingml",
            "application/vnd.oasis.opendocument.text",
            "application/rtf",
        ),
        _l("Document"),
    ),
    (("text/",), _l("Text file")),
    (
        (
            "application/zip",
            "application/x-7z",
            "application/gzip",
            "application/x-tar",
            "application/x-rar",
        ),
        _l("Compressed archive"),
    ),
)


def file_kind(content_type):
    """Return what a file of this type is, in the reader's language: "PDF document", "Image"."""
    content_type = (content_type or "").lower()
    for starts, kind in FILE_KINDS:
        if content_type.startswith(starts):
            return str(kind)
    return gettext("File")


def now():
    """Return the current time (timezone-aware)."""
    return datetime.now(UTC)


def date_time_pattern():
    """Return the pattern of a date and time in the reader's language, for a script that
    writes one as the pages do (app/static/pocket.js, the offline banner)."""
    return DATE_TIME_PATTERNS.get(get_locale().language, DATE_TIME_PATTERNS["en"])


def times_context():
    """Give each template render its own `when(moment)` (see time_elements)."""
    return {"when": time_elements()}


def init_app(app):
    """Give templates `when(moment)`, `now()`, `date_time_pattern()`, `file_size(size)` and
    `file_kind(type)`."""
    app.context_processor(times_context)
    app.add_template_global(now)
    app.add_template_global(date_time_pattern)
    app.add_template_global(file_size)
    app.add_template_global(file_kind)
