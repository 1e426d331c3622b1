from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, Length

from drafting.config import LANGUAGES


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)],
                       render_kw={"autocomplete": "username"})
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1024)],
                             render_kw={"autocomplete": "current-password"})


class SetPasswordForm(FlaskForm):
    password = PasswordField(_l("New password"), render_kw={"autocomplete": "new-password"})
    confirmation = PasswordField(_l("Repeat the new password"),
                                 render_kw={"autocomplete": "new-password"})


class ChangePasswordForm(SetPasswordForm):
    current = PasswordField(_l("Current password"), render_kw={"autocomplete": "current-password"})


class ProfileForm(FlaskForm):
    name = StringField(_l("Name"))
    family_name = StringField(_l("Family name"))
    affiliation = StringField(_l("Affiliation"))
    country = StringField(_l("Country or organisation"))
    locale = SelectField(_l("Interface language"),
                         choices=[SelectChoice("", _l("Follow my browser"))]
                         + [SelectChoice(code, name) for code, name in LANGUAGES.items()])
    publish_name = BooleanField(_l("List my name in the published outcome document"))


class TokenForm(FlaskForm):
    # Its own id: the profile page also shows ProfileForm's "name" field.
    name = StringField(_l("Token name"), id="token-name",
                       render_kw={"placeholder": _l("e.g. rapporteur script")})
