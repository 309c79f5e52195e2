"""The reasons a field is refused (`invalid_params`), in the reader's language.

marshmallow words them in English only (its default error messages, 3.x/4.x); each is
matched here and said again through gettext, its numbers kept. A reason not listed stays as
marshmallow wrote it.
"""

import re

from flask_babel import lazy_gettext as _l

REASONS = (
    (r"Missing data for required field\.", _l("This field is required.")),
    (r"Field may not be null\.", _l("This field may not be null.")),
    (r"Unknown field\.", _l("There is no such field.")),
    (r"Not a valid string\.", _l("This must be a string.")),
    (r"Not a valid utf-8 string\.", _l("This must be a string.")),
    (r"Not a valid integer\.", _l("This must be a whole number.")),
    (r"Not a valid number\.", _l("This must be a number.")),
    (r"Number too large\.", _l("This number is too large.")),
    (r"Not a valid boolean\.", _l("This must be true or false.")),
    (r"Not a valid (?:aware )?datetime\.", _l("This must be a time such as 2026-05-01T09:30:00Z.")),
    (r"Not a valid list\.", _l("This must be a list.")),
    (
        r"Not a valid mapping type\.|Invalid type\.|Invalid input type\.",
        _l("This must be an object."),
    ),
    (r"Invalid value\.", _l("This value is not valid.")),
    (
        r"Length must be between (?P<min>\d+) and (?P<max>\d+)\.",
        _l("This must be %(min)s to %(max)s long."),
    ),
    (r"Longer than maximum length (?P<max>\d+)\.", _l("This must be at most %(max)s long.")),
    (r"Shorter than minimum length (?P<min>\d+)\.", _l("This must be at least %(min)s long.")),
    (r"Must be one of: (?P<choices>.*)\.", _l("This must be one of: %(choices)s.")),
    (
        r"Must be greater than or equal to (?P<min>-?\d+) "
        r"and less than or equal to (?P<max>-?\d+)\.",
        _l("This must be from %(min)s to %(max)s."),
    ),
    (r"Must be greater than or equal to (?P<min>-?\d+)\.", _l("This must be %(min)s or more.")),
    (r"Must be less than or equal to (?P<max>-?\d+)\.", _l("This must be %(max)s or less.")),
)
COMPILED = [(re.compile(pattern), message) for pattern, message in REASONS]


def translated_reason(reason):
    """Return marshmallow's English `reason` in the reader's language, where it is known."""
    for pattern, message in COMPILED:
        match = pattern.fullmatch(reason)
        if match:
            return str(message) % match.groupdict() if match.groupdict() else str(message)
    return reason
