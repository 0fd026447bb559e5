"""Forms of the reviewer side."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    FieldList,
    FormField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, NumberRange, Optional

from tracker.core.forms import (
    BaseForm,
    Length,
    LocalDateField,
    LocalDateTimeField,
    MoneyField,
    PercentField,
    SubForm,
    VersionField,
    WholeNumberField,
    options,
)
from tracker.review import rules
from tracker.review.models import ClauseDecision, Level, RiskCategory

YES_NO = [("", _l("Not decided")), ("yes", _l("Met")), ("no", _l("Not met"))]


class TransitionForm(BaseForm):
    """Any transition: the version the page showed, a reason or message, an internal note."""

    version = VersionField()
    comment = TextAreaField(
        _l("Message to the applicant"),
        validators=[Optional(), Length(max=5000)],
        render_kw={"rows": 3},
    )
    note = TextAreaField(
        _l("Internal note (staff only)"),
        validators=[Optional(), Length(max=5000)],
        render_kw={"rows": 2},
    )
    granted_eur = MoneyField(_l("Amount granted (EUR)"), validators=[Optional()])
    deadline = LocalDateTimeField(_l("New deadline (Luxembourg time)"), validators=[Optional()])
    end_date = LocalDateField(_l("New end date"), validators=[Optional()])
    amended_eur = MoneyField(_l("New amount of the grant (EUR)"), validators=[Optional()])
    amended_total_eur = MoneyField(
        _l("New total cost of the project (EUR)"), validators=[Optional()]
    )
    recover_eur = MoneyField(_l("Amount to recover (EUR)"), validators=[Optional()])


class ScreeningEntry(SubForm):
    met = SelectField(_l("Decision"), choices=options(YES_NO), validators=[Optional()])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=1000)])


class ScreeningForm(BaseForm):
    version = VersionField()


def screening_form(keys: list[str], formdata=None, data=None):
    """A form with one entry per checklist item, named after the item's key."""

    class Form_(ScreeningForm):
        pass

    for key in keys:
        setattr(Form_, f"item_{key}", FormField(ScreeningEntry, label=key))
    return Form_(formdata=formdata, data=data)


class RiskEntry(SubForm):
    relevant = SelectField(
        _l("Relevant"),
        choices=options(
            [("", _l("Not assessed")), ("yes", _l("Relevant")), ("no", _l("Not relevant"))]
        ),
        validators=[Optional()],
    )
    severity = SelectField(
        _l("Severity"), choices=options([("", "-"), *Level.choices()]), validators=[Optional()]
    )
    likelihood = SelectField(
        _l("Likelihood"), choices=options([("", "-"), *Level.choices()]), validators=[Optional()]
    )
    note = StringField(_l("Note"), validators=[Optional(), Length(max=2000)])


class HrddForm(BaseForm):
    version = VersionField()
    exclusion_checked = BooleanField(_l("I checked the activity against the exclusion list"))
    exclusion_hit = BooleanField(_l("The activity is on the exclusion list"))
    exclusion_note = TextAreaField(
        _l("Note on the exclusion check"),
        validators=[Optional(), Length(max=2000)],
        render_kw={"rows": 2},
    )
    risk_category = SelectField(
        _l("Risk category"),
        choices=options([("", _l("Choose…")), *RiskCategory.choices()]),
        validators=[Optional()],
    )
    clause_decision = SelectField(
        _l("Clause decision"),
        choices=options([("", _l("Choose…")), *ClauseDecision.choices()]),
        validators=[Optional()],
    )
    conditions = FieldList(
        StringField(_l("Condition"), validators=[Optional(), Length(max=1000)]), min_entries=4
    )
    summary = TextAreaField(
        _l("Summary of the assessment"),
        validators=[Optional(), Length(max=5000)],
        render_kw={"rows": 4},
    )


def hrdd_form(formdata=None, data=None):
    class Form_(HrddForm):
        pass

    for key in rules.SALIENT_RISKS:
        setattr(Form_, f"risk_{key}", FormField(RiskEntry))
    return Form_(formdata=formdata, data=data)


class AssignForm(BaseForm):
    reviewer = SelectField(_l("Reviewer"), coerce=int, validators=[InputRequired()])


class ConflictForm(BaseForm):
    has_conflict = SelectField(
        _l("Conflict of interest"),
        choices=options(
            [
                ("no", _l("I have no conflict of interest with this proposal")),
                ("yes", _l("I have a conflict of interest")),
            ]
        ),
    )
    note = TextAreaField(
        _l("If so, describe it"), validators=[Optional(), Length(max=2000)], render_kw={"rows": 2}
    )


def score_form(criteria, formdata=None, data=None):
    """One mark per criterion of the rubric (``[{key, title, weight, min, max}]``)."""

    class Form_(BaseForm):
        version = VersionField()
        comment = TextAreaField(
            _l("Comments"), validators=[Optional(), Length(max=5000)], render_kw={"rows": 4}
        )

    for criterion in criteria:
        setattr(
            Form_,
            f"mark_{criterion['key']}",
            WholeNumberField(
                criterion["title"],
                validators=[InputRequired(), NumberRange(criterion["min"], criterion["max"])],
                maximum=max(abs(criterion["max"]), abs(criterion["min"])),
                allow_negative=criterion["min"] < 0,
                description=_l(
                    "From %(min)s to %(max)s; weight %(weight)s.",
                    min=criterion["min"],
                    max=criterion["max"],
                    weight=criterion["weight"],
                ),
            ),
        )
    return Form_(formdata=formdata, data=data)


RELEASE_CHOICES = [
    ("signature", _l("At signature")),
    ("mid_term", _l("Mid-term report approved")),
    ("final", _l("Final report approved")),
]


class InstalmentEntry(SubForm):
    label = StringField(_l("Milestone"), validators=[Optional(), Length(max=200)])
    percent = PercentField(_l("Share (%)"), validators=[Optional()])
    amount = MoneyField(_l("Amount (EUR)"), validators=[Optional()])
    release = SelectField(
        _l("Released by"), choices=options(RELEASE_CHOICES), validators=[Optional()]
    )
    conditions = StringField(
        _l("and HRDD conditions met (numbers)"), validators=[Optional(), Length(max=100)]
    )


class ContractForm(BaseForm):
    version = VersionField()
    number = StringField(_l("Agreement number"), validators=[Optional(), Length(max=60)])
    granted_eur = MoneyField(_l("Granted amount (EUR)"), validators=[Optional()])
    start_date = LocalDateField(_l("Start date"), validators=[Optional()])
    end_date = LocalDateField(_l("End date"), validators=[Optional()])
    clause_version = SelectField(_l("HRDD clause version"), coerce=int, validators=[Optional()])
    conditions = FieldList(
        StringField(_l("Condition"), validators=[Optional(), Length(max=1000)]), min_entries=4
    )
    instalments = FieldList(FormField(InstalmentEntry), min_entries=4)
    agency_signed_on = LocalDateField(_l("Signed by the agency on"), validators=[Optional()])
    company_signed_on = LocalDateField(_l("Signed by the company on"), validators=[Optional()])
