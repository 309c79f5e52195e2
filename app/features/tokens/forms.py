"""The form that makes a personal access token: its fields are checked by the service's rules."""

from flask_babel import lazy_gettext as _l
from wtforms import PasswordField, SelectChoice, SelectField, StringField
from wtforms.validators import InputRequired, ValidationError

from app.features.tokens import service
from app.forms import Form, is_own_password
from app.models import TOKEN_MAX_DAYS, TOKEN_NAME_MAX_LENGTH
from app.validators import PASSWORD_GIVEN, strip

SCOPE_CHOICES = [
    SelectChoice("read", _l("Read only: notes, tags, search, attachments, export")),
    SelectChoice("write", _l("Read and write: also make, change and delete notes")),
]
DEFAULT_DAYS = 30


class TokenForm(Form):
    """A new token's name, scope and lifetime, with the account's password."""

    name = StringField(
        _l("Name"),
        filters=[strip],
        render_kw={"maxlength": TOKEN_NAME_MAX_LENGTH, "autocomplete": "off"},
    )
    scope = SelectField(_l("Access"), choices=SCOPE_CHOICES, validate_choice=False)
    expires_days = StringField(
        _l("Works for (days, 1 to %(max)d)", max=TOKEN_MAX_DAYS),
        default=str(DEFAULT_DAYS),
        render_kw={"type": "number", "min": 1, "max": TOKEN_MAX_DAYS, "inputmode": "numeric"},
    )
    password = PasswordField(
        _l("Your password"),
        validators=[InputRequired(_l("Enter your password.")), PASSWORD_GIVEN, is_own_password],
        render_kw={"autocomplete": "current-password"},
    )

    def validate_name(self, field):
        try:
            field.data = service.clean_name(field.data)
        except service.TokenRefused as refused:
            raise ValidationError(str(refused)) from None

    def validate_scope(self, field):
        if field.data not in {choice.value for choice in SCOPE_CHOICES}:
            raise ValidationError(_l("Choose whether the token may read or also write."))

    def validate_expires_days(self, field):
        text = (field.data or "").strip()
        days = int(text) if text.isascii() and text.isdigit() and len(text) < 4 else 0
        if not 1 <= days <= TOKEN_MAX_DAYS:
            raise ValidationError(_l("A token lasts from 1 to %(max)d days.", max=TOKEN_MAX_DAYS))
        self.days = days
