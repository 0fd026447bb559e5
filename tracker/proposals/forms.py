"""The sections of the proposal form, plus documents, withdrawal and answers.

Fields are optional here: a draft saves whatever is well-formed. What a section needs to be
complete is decided in ``tracker.proposals.sections``.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired, MultipleFileField
from wtforms import (
    BooleanField,
    FieldList,
    FormField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from tracker.core.countries import EU_MEMBER_STATES, country_choices, country_name, country_names
from tracker.core.forms import (
    BaseForm,
    Length,
    LocalDateField,
    MoneyField,
    SubForm,
    VersionField,
    WholeNumberField,
    options,
)
from tracker.core.time import local_today
from tracker.proposals.models import AttachmentKind, PartnerKind, ProjectType
from tracker.proposals.sections import HRDD_STEPS

LONG_TEXT = 5000
SDG_TITLES = {
    1: "No poverty",
    2: "Zero hunger",
    3: "Good health and well-being",
    4: "Quality education",
    5: "Gender equality",
    6: "Clean water and sanitation",
    7: "Affordable and clean energy",
    8: "Decent work and economic growth",
    9: "Industry, innovation and infrastructure",
    10: "Reduced inequalities",
    11: "Sustainable cities and communities",
    12: "Responsible consumption and production",
    13: "Climate action",
    14: "Life below water",
    15: "Life on land",
    16: "Peace, justice and strong institutions",
    17: "Partnerships for the goals",
}


def _text(label, maximum=LONG_TEXT, rows=5, description=None):
    return TextAreaField(
        label,
        validators=[Optional(), Length(max=maximum)],
        description=description,
        render_kw={"rows": rows},
    )


class SectionForm(BaseForm):
    version = VersionField()


class LeadForm(SectionForm):
    lead_name = StringField(
        _l("Legal name"),
        validators=[Optional(), Length(max=200)],
        render_kw={"autocomplete": "organization"},
    )
    lead_country = SelectField(
        _l("Country of registration"),
        validators=[Optional()],
        description=_l("The lead applicant must be registered in the EU."),
        render_kw={"data-picker": ""},
    )
    lead_registration_number = StringField(
        _l("Registration number"),
        validators=[Optional(), Length(max=80)],
        description=_l("For Luxembourg, the RCS number, such as B123456."),
    )
    lead_registration_date = LocalDateField(
        _l("Registration date"),
        validators=[Optional()],
        description=_l("As in the trade register (day, month, year)."),
    )
    lead_employees = WholeNumberField(
        _l("Employees"),
        validators=[Optional()],
        maximum=1_000_000,
        description=_l("Full-time equivalents at the end of the last financial year."),
    )
    lead_turnover_1 = MoneyField(_l("Turnover, last year (EUR)"), validators=[Optional()])
    lead_turnover_2 = MoneyField(_l("Turnover, the year before (EUR)"), validators=[Optional()])
    lead_turnover_3 = MoneyField(_l("Turnover, two years before (EUR)"), validators=[Optional()])
    lead_is_road_haulage = BooleanField(_l("The company is a road-haulage company (lower ceiling)"))
    de_minimis_1 = MoneyField(
        _l("De minimis aid, current fiscal year (EUR)"),
        validators=[Optional()],
        description=_l("Enter 0 if none."),
    )
    de_minimis_2 = MoneyField(
        _l("De minimis aid, previous fiscal year (EUR)"), validators=[Optional()]
    )
    de_minimis_3 = MoneyField(
        _l("De minimis aid, two fiscal years ago (EUR)"), validators=[Optional()]
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.lead_country.choices = options(
            [("", _l("Choose…")), *country_choices(EU_MEMBER_STATES)]
        )

    def validate_lead_registration_date(self, field):
        if field.data is not None and field.data > local_today():
            raise ValidationError(_l("The registration date cannot be in the future."))


class PartnerEntry(SubForm):
    """One partner (a sub-form: the CSRF token belongs to the enclosing form)."""

    # No Optional() here: it would stop the checks that tie a row's fields together.
    name = StringField(_l("Name"), validators=[Length(max=200)])
    # Empty rows are allowed, so the choice checks are done by the validators below.
    country = SelectField(_l("Country"), validate_choice=False, render_kw={"data-picker": ""})
    kind = SelectField(
        _l("Type"),
        choices=options([("", _l("Choose…")), *PartnerKind.choices()]),
        validate_choice=False,
    )
    is_local = SelectField(
        _l("Role"),
        choices=options([("local", _l("Local partner")), ("eu", _l("Associated EU partner"))]),
        default="local",
        validate_choice=False,
    )
    role_description = TextAreaField(
        _l("What the partner does in the project"),
        validators=[Optional(), Length(max=2000)],
        render_kw={"rows": 2},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.country.choices = options([("", _l("Choose…")), *country_choices()])

    # The call's eligible partner countries, set by PartnersForm (empty: any country).
    eligible: frozenset = frozenset()

    def validate_country(self, field):
        if field.data and not is_known_country(field.data):
            raise ValidationError(_l("Not a valid choice."))
        if self.name.data and not field.data:
            raise ValidationError(_l("Choose the partner's country."))
        if field.data and self.is_local.data == "eu" and field.data not in EU_MEMBER_STATES:
            raise ValidationError(_l("An associated EU partner is based in an EU member state."))
        if (
            field.data
            and self.is_local.data != "eu"
            and self.eligible
            and field.data not in self.eligible
        ):
            raise ValidationError(
                _l(
                    "%(country)s is not one of this call's eligible partner countries; a local "
                    "partner must be based in one of them.",
                    country=country_name(field.data),
                )
            )

    def validate_kind(self, field):
        if field.data and field.data not in {k.value for k in PartnerKind}:
            raise ValidationError(_l("Not a valid choice."))
        if self.name.data and not field.data:
            raise ValidationError(_l("Choose the type of partner."))

    def validate_is_local(self, field):
        if field.data not in (None, "", "local", "eu"):
            raise ValidationError(_l("Not a valid choice."))

    def validate_name(self, field):
        if not field.data and (self.country.data or self.kind.data or self.role_description.data):
            raise ValidationError(_l("Give the partner's name, or clear the row."))


class PartnersForm(SectionForm):
    partners = FieldList(FormField(PartnerEntry), min_entries=4, max_entries=4)

    def __init__(self, *args, eligible=(), **kwargs):
        super().__init__(*args, **kwargs)
        eligible = frozenset(eligible)
        if not eligible:
            return
        # The call's partner countries first, as local partners need one; the rest of the
        # world after them for associated partners.
        choices = [SelectChoice("", _l("Choose…")), *grouped_countries(eligible)]
        for entry in self.partners:
            entry.form.eligible = eligible
            entry.form.country.choices = choices

    def cleaned(self) -> list[dict]:
        rows = []
        for entry in self.partners:
            data = entry.form
            if not data.name.data:
                continue
            rows.append(
                {
                    "name": data.name.data,
                    "country": data.country.data,
                    "kind": PartnerKind(data.kind.data),
                    "is_local": data.is_local.data != "eu",
                    "role_description": data.role_description.data or "",
                }
            )
        return rows


def grouped_countries(eligible) -> list[SelectChoice]:
    """Every country, the call's eligible partner countries in a first group when it names
    them (a picker shows the two groups under their headings)."""
    if not eligible:
        return options(country_choices())
    first, rest = [], []
    for code, name in country_choices():
        if code in eligible:
            first.append(SelectChoice(code, name, optgroup=_l("Eligible partner countries")))
        else:
            rest.append(SelectChoice(code, name, optgroup=_l("Other countries")))
    return first + rest


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ProjectForm(SectionForm):
    title = StringField(_l("Title"), validators=[Optional(), Length(max=200)])
    summary = _text(_l("Summary"), 1500, 4, _l("At most 1,500 characters."))
    project_type = SelectField(
        _l("Type of project"),
        choices=options([("", _l("Choose…")), *ProjectType.choices()]),
        validators=[Optional()],
    )
    sector_id = SelectField(_l("Sector"), validators=[Optional()], render_kw={"data-picker": ""})
    target_countries = SelectMultipleField(
        _l("Target countries"),
        validators=[Optional()],
        description=_l("Type to find a country; choose as many as apply."),
        render_kw={"size": 8, "data-picker": ""},
    )
    sdgs = MultiCheckboxField(
        _l("Sustainable Development Goals served"),
        coerce=int,
        validators=[Optional()],
        choices=options([(n, f"{n}. {title}") for n, title in SDG_TITLES.items()]),
    )
    problem = _text(_l("Problem addressed"))
    solution = _text(_l("Proposed solution"))
    impact_jobs = WholeNumberField(_l("Jobs created"), validators=[Optional()], maximum=10_000_000)
    impact_beneficiaries = WholeNumberField(
        _l("Beneficiaries"), validators=[Optional()], maximum=1_000_000_000
    )
    technology_transfer = _text(_l("Technology transfer"))
    innovation = _text(
        _l("Innovation and additionality"),
        description=_l("What is new, and why the project would not happen without the grant."),
    )
    sustainability = _text(_l("Sustainability after the grant"))
    start_date = LocalDateField(_l("Start date"), validators=[Optional()])
    duration_months = WholeNumberField(
        _l("Duration in months"), validators=[Optional(), NumberRange(1, 60)], maximum=60
    )

    def __init__(self, *args, sectors=(), eligible=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.sector_id.choices = options(
            [("", _l("Choose…"))] + [(str(s.id), s.label) for s in sectors]
        )
        self.target_countries.choices = grouped_countries(eligible)

    def process(self, formdata=None, obj=None, data=None, extra_filters=None, **kwargs):
        super().process(formdata, obj, data, extra_filters, **kwargs)
        if formdata is None and obj is not None:
            self.sector_id.data = str(obj.sector_id) if obj.sector_id else ""
            self.project_type.data = obj.project_type.value if obj.project_type else ""


class BudgetForm(SectionForm):
    total_cost_eur = MoneyField(_l("Total project cost (EUR)"), validators=[Optional()])
    requested_eur = MoneyField(_l("Requested co-financing (EUR)"), validators=[Optional()])
    own_contribution_eur = MoneyField(_l("Own contribution (EUR)"), validators=[Optional()])
    other_funding_eur = MoneyField(
        _l("Other funding (EUR)"),
        validators=[Optional()],
        description=_l("Other public or private funding, if any."),
    )


class StepEntry(SubForm):
    answer = TextAreaField(
        _l("Your answer"),
        validators=[Optional(), Length(max=LONG_TEXT)],
        render_kw={"rows": 5},
    )
    evidence = TextAreaField(
        _l("Evidence (optional)"),
        validators=[Optional(), Length(max=2000)],
        description=_l("Documents, links, certifications or policies that show it."),
        render_kw={"rows": 2},
    )


class HrddForm(SectionForm):
    steps = FieldList(
        FormField(StepEntry), min_entries=len(HRDD_STEPS), max_entries=len(HRDD_STEPS)
    )

    def cleaned(self) -> dict[int, tuple[str, str]]:
        return {
            number: (entry.form.answer.data or "", entry.form.evidence.data or "")
            for number, entry in enumerate(self.steps, start=1)
        }


class DeclarationsForm(SectionForm):
    declared_accuracy = BooleanField(
        _l("I confirm that the information in this proposal is accurate and complete.")
    )
    accept_clause = BooleanField(_l("We accept the human-rights due-diligence clause shown above."))
    declared_de_minimis = BooleanField(
        _l(
            "The de minimis aid declared in section 1 is all the de minimis aid the company received in "
            "the current and the two previous fiscal years."
        )
    )
    declared_data_protection = BooleanField(
        _l(
            "I have read the data-protection notice: the agency processes this proposal's personal data "
            "to assess it and to manage the grant, and keeps it as long as the law requires."
        )
    )


class DocumentForm(BaseForm):
    version = VersionField()
    kind = SelectField(
        _l("Kind of document"),
        choices=options([c for c in AttachmentKind.choices() if c[0] != "response"]),
    )
    file = FileField(_l("File"), validators=[FileRequired(_l("Choose a file to upload."))])


class ReasonForm(BaseForm):
    version = VersionField()
    reason = TextAreaField(
        _l("Reason"), validators=[DataRequired(), Length(max=LONG_TEXT)], render_kw={"rows": 3}
    )


class SubmitForm(BaseForm):
    version = VersionField()


class RespondForm(BaseForm):
    version = VersionField()
    reason = TextAreaField(
        _l("Your answer"), validators=[DataRequired(), Length(max=LONG_TEXT)], render_kw={"rows": 6}
    )
    files = MultipleFileField(_l("Documents (optional)"))


SECTION_FORMS = {
    "lead": LeadForm,
    "partners": PartnersForm,
    "project": ProjectForm,
    "budget": BudgetForm,
    "hrdd": HrddForm,
    "declarations": DeclarationsForm,
}


def is_known_country(code: str) -> bool:
    return code in country_names()
