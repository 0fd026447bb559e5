"""Forms for programmes, calls, sectors and clause versions."""

from __future__ import annotations

from decimal import Decimal

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    FieldList,
    FormField,
    HiddenField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, NumberRange, Optional

from tracker.core.countries import country_choices
from tracker.core.forms import (
    BaseForm,
    Length,
    LocalDateTimeField,
    LocaleNumberField,
    MoneyField,
    PercentField,
    SubForm,
    WholeNumberField,
    options,
)
from tracker.programmes.models import TurnoverBase
from tracker.workflow.definitions import workflows


class ProgrammeForm(BaseForm):
    code = StringField(
        _l("Code"),
        validators=[DataRequired(), Length(max=20)],
        description=_l("Short code used in references, such as BPF."),
    )
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    first_year = WholeNumberField(
        _l("First year"), validators=[InputRequired(), NumberRange(1990, 2100)], maximum=2100
    )
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=20000)])
    report_introduction = TextAreaField(
        _l("Introduction of the yearly report"),
        validators=[Optional(), Length(max=5000)],
        description=_l("Printed before the figures of every year's report."),
    )
    report_method = TextAreaField(
        _l("Method notes of the yearly report"),
        validators=[Optional(), Length(max=5000)],
        description=_l("Printed after the tables: sources, definitions, what is not known."),
    )


class CallForm(BaseForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(
        _l("Description for applicants"), validators=[Optional(), Length(max=20000)]
    )
    workflow_key = SelectField(_l("Procedure"))
    opens_at = LocalDateTimeField(_l("Opens (Luxembourg time)"), validators=[InputRequired()])
    closes_at = LocalDateTimeField(
        _l("Closes: concept notes or proposals (Luxembourg time)"),
        validators=[Optional()],
        description=_l("Leave empty for a rolling call without an end."),
    )
    rolling = BooleanField(
        _l("Rolling call: proposals are taken at any time and reviewed in batches")
    )
    grace_minutes = WholeNumberField(
        _l("Grace period after the closing time (minutes)"),
        validators=[Optional(), NumberRange(0, 10080)],
        maximum=10080,
        description=_l("Proposals submitted within it are accepted and marked late."),
    )
    full_proposal_closes_at = LocalDateTimeField(
        _l("Full proposals due (two-stage calls, Luxembourg time)"), validators=[Optional()]
    )
    sectors = SelectMultipleField(
        _l("Eligible sectors"),
        coerce=int,
        validators=[Optional()],
        description=_l("None chosen means every sector."),
        render_kw={"data-picker": ""},
    )
    partner_countries = SelectMultipleField(
        _l("Eligible partner countries"),
        validators=[Optional()],
        description=_l("None chosen means the OECD-DAC list of ODA recipients."),
        render_kw={"data-picker": ""},
    )
    cofinancing_rate = PercentField(
        _l("Co-financing rate (%)"),
        validators=[InputRequired(), NumberRange(Decimal("0.01"), Decimal(100))],
    )
    rate_ldc = PercentField(
        _l("Rate for least developed countries (%)"),
        validators=[Optional(), NumberRange(Decimal("0.01"), Decimal(100))],
    )
    rate_other_lic = PercentField(
        _l("Rate for other low-income countries (%)"),
        validators=[Optional(), NumberRange(Decimal("0.01"), Decimal(100))],
    )
    rate_lmic = PercentField(
        _l("Rate for lower middle-income countries (%)"),
        validators=[Optional(), NumberRange(Decimal("0.01"), Decimal(100))],
    )
    rate_umic = PercentField(
        _l("Rate for upper middle-income countries (%)"),
        validators=[Optional(), NumberRange(Decimal("0.01"), Decimal(100))],
    )
    ceiling_eur = MoneyField(_l("Ceiling per project (EUR)"), validators=[InputRequired()])
    road_haulage_ceiling_eur = MoneyField(
        _l("Ceiling for road-haulage companies (EUR)"), validators=[InputRequired()]
    )
    budget_envelope_eur = MoneyField(
        _l("Budget envelope of the call (EUR)"), validators=[Optional()]
    )
    min_company_age_years = WholeNumberField(
        _l("Minimum years since registration"),
        validators=[InputRequired(), NumberRange(0, 100)],
        maximum=100,
    )
    min_employees = WholeNumberField(
        _l("Minimum employees"),
        validators=[InputRequired(), NumberRange(0, 100000)],
        maximum=100000,
    )
    min_turnover_eur = MoneyField(
        _l("Minimum average turnover (EUR)"), validators=[InputRequired()]
    )
    turnover_multiple = LocaleNumberField(
        _l("Turnover multiple"),
        validators=[InputRequired(), NumberRange(Decimal(0), Decimal(100))],
        maximum=Decimal(100),
    )
    turnover_base = SelectField(
        _l("The multiple applies to"), choices=options(TurnoverBase.choices())
    )

    def __init__(self, *args, sectors=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.sectors.choices = options([(s.id, s.label) for s in sectors])
        self.partner_countries.choices = options(country_choices())
        self.workflow_key.choices = options([(k, str(w.label)) for k, w in workflows().items()])


RATE_FIELDS = {
    "ldc": "rate_ldc",
    "other_lic": "rate_other_lic",
    "lmic": "rate_lmic",
    "umic": "rate_umic",
}


class CriterionEntry(SubForm):
    key = HiddenField()
    title = StringField(_l("Criterion"), validators=[Optional(), Length(max=200)])
    guidance = TextAreaField(
        _l("Guidance for the scorer"),
        validators=[Optional(), Length(max=2000)],
        render_kw={"rows": 2},
    )
    weight = PercentField(_l("Weight"), validators=[Optional()], maximum=Decimal(1000))
    scale_min = WholeNumberField(_l("Lowest mark"), validators=[Optional()], maximum=100)
    scale_max = WholeNumberField(_l("Highest mark"), validators=[Optional()], maximum=100)


class RubricForm(BaseForm):
    criteria = FieldList(FormField(CriterionEntry), min_entries=1, max_entries=20)
    scores_required = WholeNumberField(
        _l("Independent scores needed"), validators=[InputRequired(), NumberRange(1, 9)], maximum=9
    )
    divergence_percent = PercentField(
        _l("A further score when two totals differ by more than this share of the higher, in %"),
        validators=[Optional()],
        description=_l("Empty: no such rule."),
    )
    threshold = PercentField(
        _l("Proposals below this mean score (out of 100) are not ranked"),
        validators=[Optional()],
        description=_l("Empty: every scored proposal is ranked."),
    )
    copy_from = SelectField(
        _l("Or copy the rubric of another call"), coerce=int, validate_choice=False
    )


class BatchForm(BaseForm):
    title = StringField(_l("Batch"), validators=[DataRequired(), Length(max=200)])
    closes_at = LocalDateTimeField(
        _l("Proposals submitted before (Luxembourg time)"), validators=[InputRequired()]
    )
    budget_envelope_eur = MoneyField(
        _l("Budget envelope of the batch (EUR)"), validators=[Optional()]
    )


class SectorForm(BaseForm):
    label = StringField(_l("New sector"), validators=[DataRequired(), Length(max=100)])


class ClauseForm(BaseForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    text = TextAreaField(
        _l("Clause text"), validators=[DataRequired(), Length(max=50000)], render_kw={"rows": 14}
    )


class ExtensionForm(BaseForm):
    """An administrator extends one proposal's deadline (applicants give their draft number)."""

    proposal_number = WholeNumberField(
        _l("Proposal number (the draft's number, or its reference's)"),
        validators=[InputRequired()],
    )
    deadline = LocalDateTimeField(
        _l("New deadline (Luxembourg time)"), validators=[InputRequired()]
    )
    reason = TextAreaField(
        _l("Why is the deadline extended?"),
        validators=[DataRequired(), Length(max=2000)],
        render_kw={"rows": 2},
    )
