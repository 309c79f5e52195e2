"""Forms for signing up and signing in."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, InputRequired, Length, ValidationError

from app.models import User
from app.validators import (
    NICKNAME_RULES,
    PASSWORD_RULES,
    no_control_characters,
    strip,
    valid_email,
)


class SignupForm(FlaskForm):
    """A new account: email, nickname and a confirmed password."""

    email = EmailField(
        "Email",
        filters=[strip],
        validators=[DataRequired("Enter your email address."), Length(max=254), valid_email],
    )
    nickname = StringField(
        "Nickname",
        filters=[strip],
        validators=[DataRequired("Choose a nickname."), *NICKNAME_RULES],
    )
    password = PasswordField(
        "Password",
        validators=[InputRequired("Choose a password."), *PASSWORD_RULES, no_control_characters],
    )
    password_confirm = PasswordField(
        "Confirm password",
        validators=[
            InputRequired("Repeat the password."),
            EqualTo("password", "Passwords differ."),
        ],
    )

    def validate_email(self, field):
        if User.email_taken(field.data):
            raise ValidationError("An account with this email already exists.")

    def validate_nickname(self, field):
        if User.nickname_taken(field.data):
            raise ValidationError("This nickname is taken.")


class LoginForm(FlaskForm):
    """Email and password, with an optional remember-me."""

    email = EmailField(
        "Email", filters=[strip], validators=[DataRequired("Enter your email."), Length(max=254)]
    )
    password = PasswordField(
        "Password", validators=[InputRequired("Enter your password."), Length(max=256)]
    )
    remember = BooleanField("Remember me")
