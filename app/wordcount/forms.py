"""The word count form."""

from wtforms import URLField
from wtforms.validators import DataRequired, Length, ValidationError

from app.fetcher import FetchError, check_address
from app.forms import Form
from app.models import URL_MAX_LENGTH
from app.validators import strip
from app.wordcount.pages import fetch_settings


def web_address(form, field):
    """Refuse an address the fetcher would refuse without looking its host up."""
    try:
        check_address(field.data, fetch_settings()["allow_loopback"])
    except FetchError as error:
        raise ValidationError(str(error)) from None


class WordCountForm(Form):
    """The address of a web page, http or https."""

    url = URLField(
        "Web page address",
        filters=[strip],
        validators=[
            DataRequired("Enter the address of a web page."),
            Length(
                max=URL_MAX_LENGTH,
                message=f"The address must be at most {URL_MAX_LENGTH:,} characters.",
            ),
            web_address,
        ],
    )
