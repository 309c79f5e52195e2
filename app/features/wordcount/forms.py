"""The word count form."""

import re

from flask_babel import lazy_gettext as _l
from wtforms import URLField
from wtforms.validators import DataRequired, Length, ValidationError

from app.features.wordcount.settings import fetch_settings
from app.fetcher.addresses import check_address
from app.fetcher.messages import FetchError
from app.forms import Form
from app.i18n.stored import translated_text
from app.models import URL_MAX_LENGTH
from app.validators import strip

# What a scheme looks like at the start of an address: letters, then a colon ("http:",
# "javascript:"); "example.com:8080" has a dot before its colon, so it is a host.
SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+-]*:")


def with_scheme(value):
    """Return an address typed without a scheme ("example.com/page") as an https:// one."""
    if isinstance(value, str) and value and "://" not in value and not SCHEME.match(value):
        return "https://" + value.lstrip("/")
    return value


def web_address(form, field):
    """Refuse an address the fetcher would refuse without looking its host up."""
    try:
        check_address(field.data, fetch_settings()["allow_loopback"])
    except FetchError as error:
        raise ValidationError(translated_text(str(error))) from None


class WordCountForm(Form):
    """The address of a web page, http or https."""

    url = URLField(
        _l("Web page address"),
        filters=[strip, with_scheme],
        validators=[
            DataRequired(_l("Enter the address of a web page.")),
            Length(
                max=URL_MAX_LENGTH,
                message=_l(
                    "The address must be at most %(limit)s characters.", limit=f"{URL_MAX_LENGTH:,}"
                ),
            ),
            web_address,
        ],
    )
