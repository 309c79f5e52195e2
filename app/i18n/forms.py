"""The language switcher on every page."""

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, SelectChoice, SelectField
from wtforms.validators import InputRequired

from app.forms import Form
from app.i18n.choice import LANGUAGES

UNKNOWN_LANGUAGE = _l("Choose one of the languages in the list.")


class LanguageForm(Form):
    """A language Memo speaks, and the page to go back to."""

    language = SelectField(
        _l("Language"),
        choices=[SelectChoice(code, name) for code, name in LANGUAGES.items()],
        validators=[InputRequired(UNKNOWN_LANGUAGE)],
        validate_choice=True,
    )
    next = HiddenField()
