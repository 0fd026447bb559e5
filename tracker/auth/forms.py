"""Sign-in, registration, password, invitation and user-administration forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import DataRequired, EqualTo, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from tracker.auth.models import Role
from tracker.core.countries import EU_MEMBER_STATES, country_choices
from tracker.core.forms import BaseForm, Length, options

PASSWORD_RULE = _l(
    "At least 10 characters, and not a common password or one easy to guess from your name or "
    "e-mail. A few unrelated words make a good password."
)


class LoginForm(BaseForm):
    email = EmailField(
        _l("E-mail"), validators=[DataRequired()], render_kw={"autocomplete": "username"}
    )
    password = PasswordField(
        _l("Password"), validators=[DataRequired()], render_kw={"autocomplete": "current-password"}
    )
    next = HiddenField()


class AccountForm(BaseForm):
    """A new account: the person's name, e-mail and password (invited colleagues use it as is)."""

    name = StringField(
        _l("Your name"),
        validators=[DataRequired(), Length(max=200)],
        render_kw={"autocomplete": "name"},
    )
    email = EmailField(
        _l("E-mail"),
        validators=[DataRequired(), Length(max=254)],
        render_kw={"autocomplete": "email"},
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired()],
        description=PASSWORD_RULE,
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[DataRequired(), EqualTo("password", _l("The two passwords differ."))],
        render_kw={"autocomplete": "new-password"},
    )


AcceptInvitationForm = AccountForm


class RegisterForm(AccountForm):
    """A new account that founds its company."""

    organisation = StringField(
        _l("Your company's legal name"),
        validators=[DataRequired(), Length(max=200)],
        description=_l(
            "Colleagues of a company that is already registered join by an invitation "
            "from one of its members, not by registering the same name."
        ),
        render_kw={"autocomplete": "organization"},
    )
    country = SelectField(
        _l("Country of registration"), validators=[Optional()], render_kw={"data-picker": ""}
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.country.choices = options([("", _l("Choose…")), *country_choices(EU_MEMBER_STATES)])


class PasswordForm(BaseForm):
    current_password = PasswordField(
        _l("Current password"),
        validators=[DataRequired()],
        render_kw={"autocomplete": "current-password"},
    )
    password = PasswordField(
        _l("New password"),
        validators=[DataRequired()],
        description=PASSWORD_RULE,
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("password", _l("The two passwords differ."))],
        render_kw={"autocomplete": "new-password"},
    )


class ForgotPasswordForm(BaseForm):
    email = EmailField(
        _l("E-mail"),
        validators=[DataRequired(), Length(max=254)],
        description=_l("The address you sign in with."),
        render_kw={"autocomplete": "email"},
    )


class ResetPasswordForm(BaseForm):
    password = PasswordField(
        _l("New password"),
        validators=[DataRequired()],
        description=PASSWORD_RULE,
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("password", _l("The two passwords differ."))],
        render_kw={"autocomplete": "new-password"},
    )


class CodeForm(BaseForm):
    """The second step of signing in: a code from the app, or a recovery code."""

    code = StringField(
        _l("Code"),
        validators=[DataRequired(_l("Type the code your app shows.")), Length(max=20)],
        description=_l(
            "The six digits your authenticator app shows, or one of your recovery codes."
        ),
        render_kw={"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True},
    )


class EnableTwoFactorForm(BaseForm):
    secret = HiddenField()
    code = StringField(
        _l("Code shown by the app"),
        validators=[DataRequired(_l("Type the code your app shows.")), Length(max=20)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"},
    )


class ConfirmPasswordForm(BaseForm):
    """Turning two-factor sign-in off, or new recovery codes: the password first."""

    password = PasswordField(
        _l("Your password"),
        validators=[DataRequired()],
        render_kw={"autocomplete": "current-password"},
    )


class InviteForm(BaseForm):
    email = EmailField(
        _l("Colleague's e-mail (optional)"),
        validators=[Optional(), Length(max=254)],
        description=_l("If given, only this address can use the link."),
    )


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class UserForm(BaseForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    roles = MultiCheckboxField(
        _l("Roles"),
        choices=options(Role.choices()),
        validators=[DataRequired(_l("Choose at least one role."))],
    )
    organisation = StringField(
        _l("New organisation (applicants only)"),
        validators=[Optional(), Length(max=200)],
        description=_l(
            "The name of a company that is not registered yet. To add someone to a registered "
            "company, open it from Administration, Organisations."
        ),
    )
    organisation_id = HiddenField()
    new_organisation = BooleanField(
        _l("This is a different company from the registered one with the same name")
    )


class UserRolesForm(BaseForm):
    roles = MultiCheckboxField(
        _l("Roles for the whole tracker"),
        choices=options(Role.choices()),
        validators=[Optional()],
    )
    active = BooleanField(_l("Account active"))
