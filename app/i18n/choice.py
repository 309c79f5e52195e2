"""Which language and time zone a request is answered in, and Flask-Babel wired to them.

The signed-in user's saved choice comes first, then a visitor's cookie (the switcher's), then
the best match of Accept-Language, then English. Times follow the user's time zone; a
visitor's is the language's usual one.
"""

from datetime import UTC, datetime, time
from functools import cache
from zoneinfo import ZoneInfo

from babel import Locale
from babel.core import get_global
from flask import g, has_request_context, request
from flask_babel import get_locale, get_translations, gettext
from flask_login import current_user
from jinja2 import pass_eval_context
from markupsafe import Markup
from pytz import all_timezones_set, common_timezones, country_timezones

from app.errors import database_lost
from app.extensions import babel
from app.i18n.languages import (
    LANGUAGE_COOKIE,
    LANGUAGES,
    best_language,
    is_language,
)

LANGUAGE_COOKIE_SECONDS = 400 * 24 * 3600  # the longest browsers keep a cookie (RFC 6265bis)
# Where most readers of a language live; anyone else picks theirs on my page.
USUAL_TIME_ZONES = {"ko": "Asia/Seoul"}
DEFAULT_TIME_ZONE = "UTC"
# The zones offered on my page, by place (not the aliases US/*, Canada/*, ...); any IANA name
# a browser reports is taken too.
REGIONS = ("Africa", "America", "Antarctica", "Arctic", "Asia", "Atlantic", "Australia",
           "Europe", "Indian", "Pacific")  # fmt: skip
TIME_ZONES = tuple(name for name in common_timezones if name.split("/")[0] in REGIONS)


def is_time_zone(name):
    """Return whether `name` is an IANA time zone name (as pytz, and so Babel, knows them)."""
    return isinstance(name, str) and name in all_timezones_set


def usual_time_zone(language):
    """Return the time zone to assume for a reader of `language` until they say theirs."""
    return USUAL_TIME_ZONES.get(language, DEFAULT_TIME_ZONE)


# The older IANA names of a zone, by which CLDR may know it (Asia/Kolkata: Asia/Calcutta).
OLDER_NAMES = {}
for older, newer in get_global("zone_aliases").items():
    OLDER_NAMES.setdefault(newer, []).append(older)
# Each zone's country, by its IANA name (pytz's copy of the tz database's zone1970.tab).
ZONE_COUNTRIES = {zone: code for code, zones in country_timezones.items() for zone in zones}


def utc_offset(name, day):
    """Return the zone's offset from UTC at noon UTC of `day` (a date), as "UTC+09:00"."""
    moment = datetime.combine(day, time(12), tzinfo=UTC).astimezone(ZoneInfo(name))
    minutes = round(moment.utcoffset().total_seconds() / 60)
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def place_of(name, locale):
    """Return where a zone is, in the reader's language: "서울, 대한민국", "Indianapolis, 미국".

    The city is CLDR's name in that language, else the IANA name's last part (CLDR has no
    Korean name for Coyhaique, made in 2025); the country is always the language's own name.
    """
    keys = [name, *OLDER_NAMES.get(name, [])]
    cities = (locale.time_zones.get(key, {}).get("city") for key in keys)
    city = next(filter(None, cities), None) or name.rsplit("/", 1)[-1]
    city = city.replace("_", " ")
    country = locale.territories.get(ZONE_COUNTRIES.get(name, ""))
    return f"{city}, {country}" if country and country != city else city


@cache
def zone_names(language, day):
    """Return (IANA name, label) of every zone offered, as `language` reads them on `day`.

    The label is the offset then the place ("UTC+09:00 · 서울, 대한민국"), sorted by offset
    and place, so that a reader finds their zone among its neighbours.
    """
    locale = Locale.parse(language)
    zones = []
    for name in TIME_ZONES:
        offset = utc_offset(name, day)
        minutes = int(offset[3] + "1") * (int(offset[4:6]) * 60 + int(offset[7:9]))
        zones.append((minutes, place_of(name, locale), name, offset))
    return tuple((name, f"{offset} · {place}") for _, place, name, offset in sorted(zones))


def time_zone_choices(current=None):
    """Return my page's time zone choices in the reader's language: the language's usual zone
    first (Seoul for Korean), then UTC, then every zone by offset."""
    language = get_locale().language
    zones = zone_names(language, datetime.now(UTC).date())
    usual = usual_time_zone(language)
    choices = [zone for zone in zones if zone[0] == usual]
    choices.append((DEFAULT_TIME_ZONE, gettext("Coordinated Universal Time (UTC)")))
    choices += [zone for zone in zones if zone[0] != usual]
    if current and current not in dict(choices):  # an older name a browser gave
        choices.append((current, current))
    return choices


def browser_language():
    """Return the best match of Accept-Language among Memo's languages, else English."""
    return best_language(request.headers.get("Accept-Language", ""))


def signed_in_user():
    """Return the signed-in user, or None (also when the request loaded nobody)."""
    if database_lost():  # no one can be loaded: the error page is in the browser's language
        return None
    user = current_user._get_current_object()  # the object: its callers read it twice each
    return user if user.is_authenticated else None


def select_locale():
    """Return the language of this request: saved choice, cookie, Accept-Language, English."""
    if not has_request_context():
        return None  # a job or a command: English, unless it forces the account's language
    user = signed_in_user()
    if user is not None and is_language(user.language):
        return user.language
    cookie = request.cookies.get(LANGUAGE_COOKIE)
    if is_language(cookie):
        return cookie
    return browser_language()


def select_timezone():
    """Return the time zone of this request: the user's own, else the language's usual one."""
    if not has_request_context():
        return None
    user = signed_in_user()
    if user is not None and is_time_zone(user.time_zone):
        return user.time_zone
    return usual_time_zone(str(get_locale()))


def vary_by_language(response):
    """Tell caches that pages and messages differ by Accept-Language and the language cookie."""
    if response.mimetype in ("text/html", "application/json"):
        response.vary.update(("Accept-Language", "Cookie"))
    return response


def html_lang():
    """Return the BCP 47 tag of the page's language, for <html lang>."""
    return str(get_locale()).replace("_", "-")


def template_translations():
    """Return the catalog of the language in use, looked up once a request (per language).

    Flask-Babel's own template callables look the catalog up on every `_()` (a note page
    makes about 30). Keyed on the locale object itself, so `refresh()` and `force_locale()`,
    which each set a new one, are followed at once.
    """
    locale = get_locale()
    cached = g.get("template_translations")
    if cached is None or cached[0] is not locale:
        cached = g.template_translations = (locale, get_translations())
    return cached[1]


def template_gettext(translations):
    """Return a template's `_()` for one catalog, as Jinja's newstyle gettext behaves.

    Jinja's own `_()` goes through its alias, its newstyle wrapper and the installed
    callable, three Context.call()s, then looks the catalog up. Bound once a render to the
    catalog, the notes list (17 words) went from 3.65 to 3.29 ms of CPU in English and 3.48
    to 3.28 in Korean, and the note page (28) from 4.82 to 4.59 and 4.50 to 4.29: 5-10 %
    (the in-process CPU benchmark of then, best of 25; docs/performance.md).
    """

    @pass_eval_context
    def gettext(eval_ctx, string, **variables):
        text = translations.ugettext(string)
        if eval_ctx.autoescape:
            text = Markup(text)  # noqa: S704  (our catalog, marked safe as Jinja marks it)
        # Always a format string, even without variables, as Jinja's newstyle gettext.
        return text % variables

    return gettext


def translations_context():
    """Give each template render `_()` and `gettext()` bound to the reader's catalog.

    Macros imported without the context, and ngettext() and pgettext(), use the globals
    installed in init_app.
    """
    gettext = template_gettext(template_translations())
    return {"_": gettext, "gettext": gettext}


def init_app(app):
    """Wire Flask-Babel to Memo's selectors and give templates the language helpers."""
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    app.jinja_env.install_gettext_callables(
        gettext=lambda string: template_translations().ugettext(string),
        ngettext=lambda singular, plural, n: template_translations().ungettext(singular, plural, n),
        pgettext=lambda context, string: template_translations().upgettext(context, string),
        npgettext=lambda context, singular, plural, n: template_translations().unpgettext(
            context, singular, plural, n
        ),
        newstyle=True,
    )
    app.context_processor(translations_context)
    app.after_request(vary_by_language)
    app.add_template_global(html_lang)
    app.add_template_global(LANGUAGES, "languages")
