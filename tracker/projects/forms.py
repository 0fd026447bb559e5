"""Forms of the project after signature."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Optional

from tracker.core.forms import (
    BaseForm,
    Length,
    LocalDateField,
    MoneyField,
    VersionField,
    WholeNumberField,
    options,
)
from tracker.projects.models import (
    GrievanceCategory,
    GrievanceChannel,
    GrievanceSeverity,
    GrievanceStatus,
)


class ReportForm(BaseForm):
    """The company's progress or final report; evidence fields are added per condition."""

    version = VersionField()
    narrative = TextAreaField(
        _l("Progress of the project"),
        validators=[Optional(), Length(max=20000)],
        description=_l("What was done since the last report, against the plan; delays and why."),
        render_kw={"rows": 8},
    )
    jobs = WholeNumberField(_l("Jobs created so far"), validators=[Optional()])
    beneficiaries = WholeNumberField(_l("People reached so far"), validators=[Optional()])
    technology = TextAreaField(
        _l("Technology or know-how transferred so far"),
        validators=[Optional(), Length(max=5000)],
        render_kw={"rows": 3},
    )
    expenses = MoneyField(_l("Expenses incurred so far (EUR)"), validators=[Optional()])
    expenses_note = TextAreaField(
        _l("Expenses against the budget"),
        validators=[Optional(), Length(max=5000)],
        description=_l("Budget lines over or under the plan, and why."),
        render_kw={"rows": 3},
    )
    incidents = TextAreaField(
        _l("Adverse human-rights impacts or incidents, and what was done"),
        validators=[Optional(), Length(max=10000)],
        description=_l("Write “none” if there were none."),
        render_kw={"rows": 4},
    )
    grievances = TextAreaField(
        _l("Grievances received, and how they were handled"),
        validators=[Optional(), Length(max=10000)],
        render_kw={"rows": 3},
    )


def report_form(condition_numbers: list[int], formdata=None, data=None) -> ReportForm:
    class Form_(ReportForm):
        pass

    for number in condition_numbers:
        setattr(
            Form_,
            f"evidence_{number}",
            TextAreaField(
                _l("Evidence for HRDD condition %(n)s", n=number),
                validators=[Optional(), Length(max=10000)],
                render_kw={"rows": 3},
            ),
        )
    return Form_(formdata=formdata, data=data)


class DecisionForm(BaseForm):
    version = VersionField()
    decision = SelectField(
        _l("Decision"),
        choices=options(
            [("approved", _l("Approve the report")), ("returned", _l("Return it for correction"))]
        ),
        validators=[InputRequired()],
    )
    comment = TextAreaField(
        _l("Comments for the company"),
        validators=[Optional(), Length(max=10000)],
        description=_l("Required when the report is returned: say what to correct."),
        render_kw={"rows": 4},
    )
    note = TextAreaField(
        _l("Internal note (staff only)"),
        validators=[Optional(), Length(max=5000)],
        render_kw={"rows": 2},
    )


class ConditionForm(BaseForm):
    version = VersionField()
    decision = SelectField(
        _l("Decision"),
        choices=options([("met", _l("Met")), ("waived", _l("Waived"))]),
        validators=[InputRequired()],
    )
    text = TextAreaField(
        _l("Evidence verified, or the reason for the waiver"),
        validators=[Optional(), Length(max=10000)],
        render_kw={"rows": 2},
    )


class PaymentForm(BaseForm):
    version = VersionField()
    paid_on = LocalDateField(_l("Paid on"), validators=[Optional()])
    amount = MoneyField(_l("Amount paid (EUR)"), validators=[Optional()])
    reference = StringField(_l("Payment reference"), validators=[Optional(), Length(max=100)])


class DueDateForm(BaseForm):
    version = VersionField()
    due_on = LocalDateField(_l("New due date"), validators=[Optional()])
    reason = StringField(_l("Why it changes"), validators=[Optional(), Length(max=500)])


class ScheduleForm(BaseForm):
    """An agreement signed before the tracker: what is needed to follow it."""

    number = StringField(_l("Agreement number"), validators=[Optional(), Length(max=60)])
    start_date = LocalDateField(_l("Start date"), validators=[Optional()])
    end_date = LocalDateField(_l("End date"), validators=[Optional()])
    signed_on = LocalDateField(_l("Signed on"), validators=[Optional()])


class GrievanceForm(BaseForm):
    version = VersionField()
    received_on = LocalDateField(_l("Received on"), validators=[Optional()])
    channel = SelectField(
        _l("Channel"), choices=options(GrievanceChannel.choices()), validators=[InputRequired()]
    )
    anonymous = BooleanField(_l("Raised anonymously"))
    raised_by = StringField(
        _l("Raised by"),
        validators=[Optional(), Length(max=200)],
        description=_l("A person, a group or an organisation; left empty when anonymous."),
    )
    category = SelectField(
        _l("Category"), choices=options(GrievanceCategory.choices()), validators=[InputRequired()]
    )
    severity = SelectField(
        _l("Severity"), choices=options(GrievanceSeverity.choices()), validators=[InputRequired()]
    )
    description = TextAreaField(
        _l("What is the grievance about?"),
        validators=[Optional(), Length(max=10000)],
        render_kw={"rows": 3},
    )
    response = TextAreaField(
        _l("Response"), validators=[Optional(), Length(max=10000)], render_kw={"rows": 2}
    )
    remediation = TextAreaField(
        _l("Remediation"), validators=[Optional(), Length(max=10000)], render_kw={"rows": 2}
    )
    status = SelectField(
        _l("Status"), choices=options(GrievanceStatus.choices()), validators=[InputRequired()]
    )
    blocks_payment = BooleanField(
        _l("Hold the next payment until it is addressed"),
        description=_l("Advised for a severe grievance."),
    )
