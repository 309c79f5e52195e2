"""Times and sizes as the reader reads them: in their zone and language (the UTC instant beside)."""

from datetime import UTC, datetime

from babel.dates import format_datetime
from flask_babel import format_decimal, get_locale, get_timezone, gettext, ngettext
from markupsafe import Markup

# A date and a time to the minute, as each language writes them ("2026년 11월 23일 오후 6:59").
# Babel's own medium format has seconds, and Korean's gives "PM" where people read 오후.
DATE_TIME_PATTERNS = {"en": "MMM d, y, h:mm a", "ko": "y년 M월 d일 aaaa h:mm"}
TIME_ELEMENT = Markup('<time datetime="%s">%s</time>')


def local_time(moment):
    """Return `moment` (timezone-aware) as text in the reader's zone and language."""
    locale = get_locale()
    pattern = DATE_TIME_PATTERNS.get(locale.language, "medium")
    return format_datetime(moment, pattern, tzinfo=get_timezone(), locale=locale)


def utc_instant(moment):
    """Return `moment` as an RFC 3339 UTC instant ("2026-11-23T09:59:00Z")."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def time_element(moment):
    """Return a <time> element: the UTC instant for machines, the local reading for people."""
    # `%`, not Markup.format, which runs string.Formatter in Python: a list page makes 20
    # of these, and .format was a quarter of each (docs/performance.md). Both escape.
    return TIME_ELEMENT % (utc_instant(moment), local_time(moment))


def file_size(size):
    """Return a size in bytes for people: "25 MB", "1.5 GB", "512 bytes" in their language."""
    for unit, scale in (("GB", 2**30), ("MB", 2**20), ("KB", 2**10)):
        if size >= scale:
            # Units are written alike in Korean and English; the number follows the locale.
            return gettext(
                "%(number)s %(unit)s", number=format_decimal(size / scale, "#,##0.#"), unit=unit
            )
    return ngettext("%(count)s byte", "%(count)s bytes", size, count=format_decimal(size))


def now():
    """Return the current time (timezone-aware)."""
    return datetime.now(UTC)


def init_app(app):
    """Give templates `when(moment)`, `now()` and `file_size(size)`."""
    app.add_template_global(time_element, "when")
    app.add_template_global(now)
    app.add_template_global(file_size)
