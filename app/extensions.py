"""Flask extensions, created unbound so models and blueprints never import the app."""

from flask_babel import Babel
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from flask_wtf.csrf import CSRFError
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Named constraints, so a downgrade can drop exactly the constraint its upgrade made.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base whose metadata carries the naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class RefererCheckingCSRFProtect(CSRFProtect):
    """CSRFProtect whose HTTPS Referer check answers 400 to a malformed Referer, not 500."""

    def protect(self, apply_exemptions=False):
        try:
            super().protect(apply_exemptions)
        except ValueError:  # urlparse() of a Referer such as "https://[::1" or "https://h:x/"
            raise CSRFError("The referrer header is malformed.") from None


db = SQLAlchemy(model_class=Base)
login_manager = LoginManager()
csrf = RefererCheckingCSRFProtect()
babel = Babel()
