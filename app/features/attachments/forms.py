"""The form a script sends before it uploads a file: what the file is, to check the limits."""

from flask_babel import lazy_gettext as _l
from wtforms import IntegerField, StringField
from wtforms.validators import InputRequired, Length, NumberRange

from app.forms import Form
from app.models import BIGINT_MAX


class UploadStartForm(Form):
    """The chosen file's name (cleaned before it is kept) and size in bytes."""

    name = StringField(
        _l("File name"),
        validators=[Length(max=4096, message=_l("The file name is too long."))],
    )
    size = IntegerField(
        _l("Size"),
        validators=[
            InputRequired(_l("Say how large the file is.")),
            NumberRange(min=0, max=BIGINT_MAX, message=_l("The size must be a number of bytes.")),
        ],
    )
