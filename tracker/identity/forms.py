"""The administrator's form for the agency's identity."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import BooleanField, StringField
from wtforms.validators import DataRequired, Email, Optional, Regexp, ValidationError

from tracker.core.forms import BaseForm, Length
from tracker.identity.operations import colour_problem

WEB_ADDRESS = Regexp(r"https?://\S+$", message=_l("Give a web address starting with https://."))


class IdentityForm(BaseForm):
    name = StringField(_l("Agency name"), validators=[DataRequired(), Length(max=120)])
    colour = StringField(
        _l("Colour of the navigation bar"),
        validators=[DataRequired(), Length(max=7)],
        description=_l("# and six hexadecimal digits; white text on it needs a contrast of 4.5:1."),
        render_kw={"type": "color"},
    )
    logo = FileField(
        _l("Logo"),
        description=_l("PNG or JPEG, at most 200 KB; shown about 32 pixels high."),
        render_kw={"accept": "image/png,image/jpeg"},
    )
    remove_logo = BooleanField(_l("Remove the logo"))
    contact_email = StringField(
        _l("Contact e-mail"), validators=[Optional(), Email(), Length(max=200)]
    )
    contact_text = StringField(
        _l("Contact line"),
        validators=[Optional(), Length(max=300)],
        description=_l("Shown in the footer, such as the postal address or a telephone number."),
    )
    legal_url = StringField(
        _l("Legal notice (web address)"), validators=[Optional(), WEB_ADDRESS, Length(max=300)]
    )
    privacy_url = StringField(
        _l("Privacy notice (web address)"), validators=[Optional(), WEB_ADDRESS, Length(max=300)]
    )

    def validate_colour(self, field) -> None:
        problem = colour_problem(field.data)
        if problem:
            raise ValidationError(problem)
