"""The base of every form: text fields get text from the submitted form, never anything else;
and the check of the signed-in person's own password, which several features' forms ask for."""

from flask import render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.datastructures import CombinedMultiDict, MultiDict
from wtforms import FileField
from wtforms.validators import ValidationError

from app import throttle
from app.accounts.sessions import mark_password_proven

FROM_REQUEST = object()  # the default formdata: what the request submitted


class Form(FlaskForm):
    """A FlaskForm read from form fields only: files go to file fields, a JSON body is ignored.

    Flask-WTF would hand a text field a number or a list from a JSON body, or a file sent
    under its name, and the field's validators would fail on it with a 500.
    """

    class Meta:
        def wrap_formdata(self, form, formdata):
            if formdata is not FROM_REQUEST:
                return formdata
            if not form.is_submitted():
                return None
            uploads = {field.name for field in form if isinstance(field, FileField)}
            files = MultiDict(
                (name, file) for name, file in request.files.items(multi=True) if name in uploads
            )
            return CombinedMultiDict([files, request.form])

    def __init__(self, formdata=FROM_REQUEST, **kwargs):
        super().__init__(formdata=formdata, **kwargs)


def page_status(form):
    """Return the status of a page showing `form`: 400 after a refused submission, else 200."""
    return 400 if form.is_submitted() else 200


def render_form(template, form, **context):
    """Render a form page (with more `context`): 400 when a submission failed validation."""
    return render_template(template, form=form, **context), page_status(form)


def is_own_password(form, field):
    """Check the field holds the signed-in user's password, as throttled as a login."""
    # A stolen session must not be a way around the login throttle.
    throttle.spend_attempt(current_user.email)
    if not current_user.check_password(field.data):
        raise ValidationError(_l("That is not your current password."))
    throttle.forgive(current_user.email)
    mark_password_proven()
