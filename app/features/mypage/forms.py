"""The forms of my page; each acts on the signed-in user only."""

from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    EmailField,
    HiddenField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
)
from wtforms.validators import DataRequired, InputRequired, Length, ValidationError

from app.features.auth.forms import ResetPasswordForm
from app.forms import Form, is_own_password
from app.i18n.choice import LANGUAGES, is_time_zone, time_zone_choices
from app.i18n.stored import translated_text
from app.images import ImageError, check_signature
from app.models import EMAIL_MAX_LENGTH, User
from app.validators import (
    NICKNAME_RULES,
    PASSWORD_GIVEN,
    deliverable_email,
    strip,
    valid_email,
)


class PhotoForm(Form):
    """A new profile photo: a JPEG, PNG or WebP file, judged by its content."""

    photo = FileField(
        _l("Photo"),
        validators=[FileRequired(_l("Choose a photo to upload."))],
        render_kw={"accept": "image/jpeg,image/png,image/webp"},
    )
    data = None  # the upload as sent, once its first bytes say it is a photo

    def validate_photo(self, field):
        # Only the signature: a worker decodes the photo, under limits
        # (app/features/mypage/photos.py).
        data = field.data.read()
        try:
            check_signature(data)
        except ImageError as error:
            raise ValidationError(translated_text(str(error))) from None
        self.data = data


class NicknameForm(Form):
    """A new nickname, under the rules of signup."""

    nickname = StringField(
        _l("Nickname"),
        filters=[strip],
        validators=[DataRequired(_l("Choose a nickname.")), *NICKNAME_RULES],
    )

    def validate_nickname(self, field):
        # Only a well-formed nickname is looked up (see SignupForm).
        if not field.errors and User.nickname_taken(field.data, exclude_id=current_user.id):
            raise ValidationError(_l("This nickname is taken."))


UNKNOWN_LANGUAGE = _l("Choose one of the languages in the list.")


class SettingsForm(Form):
    """The language of every page and the time zone of every time shown."""

    language = SelectField(
        _l("Language"),
        choices=[SelectChoice(code, name, {"lang": code}) for code, name in LANGUAGES.items()],
        validators=[InputRequired(_l("Choose a language."))],
        validate_choice=False,  # the message below, not WTForms' "Not a valid choice"
    )
    timezone = SelectField(
        _l("Time zone"),
        validators=[InputRequired(_l("Choose a time zone."))],
        validate_choice=False,  # any IANA name is taken, not only those listed
        # static/zone-filter.js puts a search box above the 400 zones.
        render_kw={"data-filter-placeholder": _l("Find a city or country")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        zones = time_zone_choices(current=current_user.time_zone)
        self.timezone.choices = [SelectChoice(name, place) for name, place in zones]

    def validate_language(self, field):
        if field.data not in LANGUAGES:
            raise ValidationError(UNKNOWN_LANGUAGE)

    def validate_timezone(self, field):
        if not is_time_zone(field.data):
            raise ValidationError(_l("Choose a time zone from the list."))


class LanguageForm(Form):
    """The switcher on every page: a language Memo speaks, and the page to go back to."""

    language = SelectField(
        _l("Language"),
        choices=[SelectChoice(code, name) for code, name in LANGUAGES.items()],
        validators=[InputRequired(UNKNOWN_LANGUAGE)],
        validate_choice=True,
    )
    next = HiddenField()


class EmailForm(Form):
    """A new address for the account, with the current password."""

    email = EmailField(
        _l("New email"),
        filters=[strip],
        validators=[
            DataRequired(_l("Enter the new address.")),
            Length(max=EMAIL_MAX_LENGTH),
            valid_email,
            deliverable_email,
        ],
    )
    password = PasswordField(
        _l("Current password"),
        validators=[
            InputRequired(_l("Enter your current password.")),
            PASSWORD_GIVEN,
            is_own_password,
        ],
        id="email-password",  # the delete form's field is `password` too: one id each
    )


class PasswordForm(ResetPasswordForm):
    """The current password, and a new one confirmed (the reset link's fields)."""

    current_password = PasswordField(
        _l("Current password"),
        validators=[
            InputRequired(_l("Enter your current password.")),
            PASSWORD_GIVEN,
            is_own_password,
        ],
    )


class DeleteAccountForm(Form):
    """The password, to confirm that the account should go."""

    password = PasswordField(
        _l("Password"),
        validators=[
            InputRequired(_l("Enter your password to delete the account.")),
            PASSWORD_GIVEN,
            is_own_password,
        ],
    )


class ImportForm(Form):
    """An archive to import: a Memo export (.zip), or one .txt or .md file."""

    archive = FileField(
        _l("Archive or text file"),
        validators=[FileRequired(_l("Choose a Memo export (.zip) or a .txt or .md file."))],
        render_kw={"accept": ".zip,.txt,.md,application/zip,text/plain,text/markdown"},
    )


class ImportConfirmForm(Form):
    """The upload to import that the store reports arrived (the signed ticket Memo made)."""

    upload = HiddenField(validators=[DataRequired(), Length(max=1000)])
