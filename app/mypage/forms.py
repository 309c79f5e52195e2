"""The forms of my page; each acts on the signed-in user only."""

from flask_login import current_user
from flask_wtf.file import FileField, FileRequired
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, InputRequired, ValidationError

from app.auth import throttle
from app.forms import Form
from app.images import ImageError, check_signature
from app.models import User
from app.validators import (
    NICKNAME_RULES,
    PASSWORD_GIVEN,
    PASSWORD_RULES,
    no_control_characters,
    strip,
)


def is_own_password(form, field):
    """Check the field holds the signed-in user's password, as throttled as a login."""
    # A stolen session must not be a way around the login throttle.
    throttle.spend_attempt(current_user.email)
    if not current_user.check_password(field.data):
        raise ValidationError("That is not your current password.")
    throttle.forgive(current_user.email)


class PhotoForm(Form):
    """A new profile photo: a JPEG, PNG or WebP file, judged by its content."""

    photo = FileField(
        "Photo",
        validators=[FileRequired("Choose a photo to upload.")],
        render_kw={"accept": "image/jpeg,image/png,image/webp"},
    )
    data = None  # the upload as sent, once its first bytes say it is a photo

    def validate_photo(self, field):
        # Only the signature: a worker decodes the photo, under limits (app/mypage/photos.py).
        data = field.data.read()
        try:
            check_signature(data)
        except ImageError as error:
            raise ValidationError(str(error)) from None
        self.data = data


class NicknameForm(Form):
    """A new nickname, under the rules of signup."""

    nickname = StringField(
        "Nickname",
        filters=[strip],
        validators=[DataRequired("Choose a nickname."), *NICKNAME_RULES],
    )

    def validate_nickname(self, field):
        # Only a well-formed nickname is looked up (see SignupForm).
        if not field.errors and User.nickname_taken(field.data, exclude_id=current_user.id):
            raise ValidationError("This nickname is taken.")


class PasswordForm(Form):
    """The current password, and a new one confirmed."""

    current_password = PasswordField(
        "Current password",
        validators=[
            InputRequired("Enter your current password."),
            PASSWORD_GIVEN,
            is_own_password,
        ],
    )
    new_password = PasswordField(
        "New password",
        validators=[
            InputRequired("Choose a new password."),
            *PASSWORD_RULES,
            no_control_characters,
        ],
    )
    new_password_confirm = PasswordField(
        "Repeat the new password",
        validators=[
            InputRequired("Repeat the new password."),
            EqualTo("new_password", "Passwords differ."),
        ],
    )


class DeleteAccountForm(Form):
    """The password, to confirm that the account should go."""

    password = PasswordField(
        "Password",
        validators=[
            InputRequired("Enter your password to delete the account."),
            PASSWORD_GIVEN,
            is_own_password,
        ],
    )
