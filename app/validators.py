"""Field rules shared by several forms."""

import re

from flask_babel import lazy_gettext as _l
from wtforms.validators import Length, Regexp, ValidationError

from app.models import NICKNAME_MAX_LENGTH, NICKNAME_MIN_LENGTH

NICKNAME_RULES = [
    Length(
        min=NICKNAME_MIN_LENGTH,
        max=NICKNAME_MAX_LENGTH,
        message=_l("Nickname must be %(min)d to %(max)d characters."),
    ),
    Regexp(
        r"^[\w.-]+$",
        message=_l("Nickname may use letters, digits, '.', '-' and '_' only."),
    ),
]
PASSWORD_MIN_LENGTH, PASSWORD_MAX_LENGTH = 8, 256
PASSWORD_RULES = [
    Length(
        min=PASSWORD_MIN_LENGTH,
        max=PASSWORD_MAX_LENGTH,
        message=_l("Password must be %(min)d to %(max)d characters."),
    )
]
# A password given to be checked: longer than any password that can be set is wrong anyway.
PASSWORD_GIVEN = Length(max=PASSWORD_MAX_LENGTH)

# Line breaks and tabs are text; other control characters (NUL above all, which
# PostgreSQL refuses to store) are not.
ALLOWED_CONTROLS = {"\n", "\r", "\t"}
# What is never text: control characters but those, lone surrogates, and the noncharacters
# (U+FDD0..U+FDEF, the last two code points of each plane; XML refuses U+FFFE and U+FFFF). A
# code point merely unassigned in this Python's Unicode (14.0) is kept: it may be a newer
# emoji (🫨, U+1FAE8, is Unicode 15.0, on every phone's keyboard).
NONCHARACTERS = "".join(
    f"{chr(plane * 0x10000 + 0xFFFE)}-{chr(plane * 0x10000 + 0xFFFF)}" for plane in range(17)
)
NOT_TEXT = re.compile(
    f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef{NONCHARACTERS}]"
)


def without_non_text(value):
    """Return `value` without what is never text (NOT_TEXT): for text read in bulk (an
    import), where a form or the API refuses it."""
    return NOT_TEXT.sub("", value)


def strip(value):
    """Trim surrounding whitespace from a submitted string."""
    return value.strip() if isinstance(value, str) else value


def no_control_characters(form, field):
    """Refuse NUL and whatever else is never text (NOT_TEXT)."""
    if NOT_TEXT.search(field.data or ""):
        raise ValidationError(_l("Please remove control characters from this field."))


# Characters that reorder the text around them (Unicode bidi controls): in a one-line name
# they would make a mail or a page read otherwise than it is written.
BIDI_CONTROLS = set("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def one_line(form, field):
    """Refuse line breaks, tabs and bidi controls in a name that is shown on one line (in a
    list, in a mail's sentence)."""
    if any(char in ALLOWED_CONTROLS or char in BIDI_CONTROLS for char in field.data or ""):
        raise ValidationError(_l("Write the name on one line, without tabs."))


def valid_email(form, field):
    """Check the address as email-validator does (no DNS), and store it normalized."""
    # Imported at first use: its RFC patterns cost about 30 ms of CPU to compile, paid at the
    # start of every web worker, worker and `flask` command (wsgi's import: 3.53 G instructions
    # with it at the top, 3.24 G with this and app/i18n/stored.py's patterns compiled late).
    from email_validator import EmailNotValidError, validate_email  # (see above)

    try:
        field.data = validate_email(field.data or "", check_deliverability=False).normalized
    except EmailNotValidError:
        # email-validator explains in English only; one sentence covers every case.
        raise ValidationError(
            _l("Enter a valid email address, such as name@example.com.")
        ) from None


def deliverable_email(form, field):
    """Refuse an address whose part before the @ is not ASCII: sending to it needs SMTPUTF8,
    which Memo's mail does not use, so it would never receive a link (a domain like
    네이버.com is fine: it is sent as its ASCII form)."""
    local_part = (field.data or "").rpartition("@")[0]
    if not local_part.isascii():
        raise ValidationError(
            _l(
                "Memo cannot send mail yet to an address with letters other than Latin ones "
                "before the @. Please use another address."
            )
        )


# Matched whole (fullmatch): `$` would also match before a final line break.
SAME_SITE_PATH = re.compile(r"/(?![/\\])[^\s\\\x00-\x1f\x7f-\x9f]*")


def is_same_site_path(target):
    """Return whether `target` is a local path such as `/notes/3?page=2`."""
    return bool(target) and SAME_SITE_PATH.fullmatch(target) is not None


# ASCII digits only (str.isdigit() also takes "²" and "١"), few enough that an OFFSET fits bigint.
PAGE_NUMBER = re.compile(r"[0-9]{1,9}")


def page_number(value):
    """Return the page number a query parameter names, or None if it names none."""
    if PAGE_NUMBER.fullmatch(value) is None or int(value) < 1:
        return None
    return int(value)
