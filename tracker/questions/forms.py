"""Form fields for a call's questions, added to the section forms; the builder's form."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from tracker.core.countries import country_choices
from tracker.core.forms import (
    BaseForm,
    Length,
    LocalDateField,
    MoneyField,
    PercentField,
    WholeNumberField,
    options,
)
from tracker.questions.models import QuestionKind, Stage
from tracker.questions.operations import (
    DEFAULT_MAX_LENGTH,
    DEFAULT_MAX_WORDS,
    field_name,
    form_data,
    text,
)


class Checkboxes(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class WordLimit:
    """At most ``limit`` words; the message says how many there are."""

    def __init__(self, limit: int):
        self.limit = limit

    def __call__(self, form, field):
        words = len((field.data or "").split())
        if words > self.limit:
            raise ValidationError(
                _l(
                    "At most %(max)s words: this has %(n)s. Shorten it by %(over)s.",
                    max=self.limit,
                    n=words,
                    over=words - self.limit,
                )
            )


def _range(settings: dict):
    low, high = settings.get("minimum"), settings.get("maximum")
    if low is None and high is None:
        return []
    return [NumberRange(low, high)]


def question_field(question, call):
    """The unbound form field asking one question, with its checks."""
    kind, settings = question.kind, question.settings or {}
    label, description = text(question.label), text(question.help) if question.help else None
    common = {"description": description}
    if kind == QuestionKind.short_text:
        limit = settings.get("max_length") or DEFAULT_MAX_LENGTH
        return StringField(label, validators=[Optional(), Length(max=limit)], **common)
    if kind == QuestionKind.long_text:
        words = settings.get("max_words") or DEFAULT_MAX_WORDS
        return TextAreaField(
            label,
            validators=[Optional(), Length(max=words * 20), WordLimit(words)],
            render_kw={"rows": 5, "data-maxwords": words},
            **common,
        )
    if kind == QuestionKind.integer:
        return WholeNumberField(label, validators=[Optional(), *_range(settings)], **common)
    if kind == QuestionKind.amount:
        return MoneyField(label, validators=[Optional(), *_range(settings)], **common)
    if kind == QuestionKind.percent:
        return PercentField(label, validators=[Optional()], **common)
    if kind == QuestionKind.date:
        return LocalDateField(label, validators=[Optional()], **common)
    if kind == QuestionKind.yes_no:
        return SelectField(
            label,
            choices=options([("", _l("Choose…")), ("yes", _l("Yes")), ("no", _l("No"))]),
            validators=[Optional()],
            **common,
        )
    if kind in (QuestionKind.choice, QuestionKind.several):
        choices = [(c["value"], text(c["label"])) for c in settings.get("choices", [])]
        if kind == QuestionKind.choice:
            return SelectField(
                label,
                choices=options([("", _l("Choose…")), *choices]),
                validators=[Optional()],
                **common,
            )
        return Checkboxes(label, choices=options(choices), validators=[Optional()], **common)
    if kind in (QuestionKind.country, QuestionKind.countries):
        codes = settings.get("countries") or None
        choices = country_choices(codes)
        if kind == QuestionKind.country:
            return SelectField(
                label,
                choices=options([("", _l("Choose…")), *choices]),
                validators=[Optional()],
                **common,
            )
        return SelectMultipleField(
            label,
            choices=options(choices),
            validators=[Optional()],
            render_kw={"size": 6},
            **common,
        )
    if kind == QuestionKind.file:
        return FileField(label, validators=[Optional()], **common)
    raise ValueError(kind)


def with_questions(form_cls, questions, call):
    """A subclass of a section form with one field more per question (``q_<key>``)."""
    if not questions:
        return form_cls
    attrs = {field_name(q): question_field(q, call) for q in questions}
    return type(f"{form_cls.__name__}WithQuestions", (form_cls,), attrs)


def fill(form, questions, answers: dict[int, str]) -> None:
    """Show the stored answers in a form built without posted data."""
    for question in questions:
        if question.kind == QuestionKind.file:
            continue
        form[field_name(question)].data = form_data(question, answers.get(question.id))


# --- the builder -----------------------------------------------------------------------------


class QuestionForm(BaseForm):
    label_en = StringField(_l("Question (English)"), validators=[Optional(), Length(max=300)])
    label_fr = StringField(_l("Question (French)"), validators=[Optional(), Length(max=300)])
    label_de = StringField(_l("Question (German)"), validators=[Optional(), Length(max=300)])
    help_en = TextAreaField(
        _l("Help (English)"), validators=[Optional(), Length(max=1000)], render_kw={"rows": 2}
    )
    help_fr = TextAreaField(
        _l("Help (French)"), validators=[Optional(), Length(max=1000)], render_kw={"rows": 2}
    )
    help_de = TextAreaField(
        _l("Help (German)"), validators=[Optional(), Length(max=1000)], render_kw={"rows": 2}
    )
    kind = SelectField(_l("Type of answer"), choices=options(QuestionKind.choices()))
    section = SelectField(_l("Section of the form"))
    stage = SelectField(
        _l("Asked in (two-stage calls)"), choices=options(Stage.choices()), default="full"
    )
    required = BooleanField(_l("An answer is required before submission"))
    max_length = WholeNumberField(
        _l("Short text: at most characters"),
        validators=[Optional(), NumberRange(1, 2000)],
        maximum=2000,
    )
    max_words = WholeNumberField(
        _l("Long text: at most words"), validators=[Optional(), NumberRange(1, 5000)], maximum=5000
    )
    minimum = WholeNumberField(
        _l("Numbers: at least"), validators=[Optional()], allow_negative=True
    )
    maximum = WholeNumberField(_l("Numbers: at most"), validators=[Optional()], allow_negative=True)
    choices = TextAreaField(
        _l("Choices, one per line"),
        validators=[Optional(), Length(max=5000)],
        description=_l(
            "“value | English | French | German”: the value is kept with the answers, the labels "
            "are shown. Only the English label is required."
        ),
        render_kw={"rows": 4},
    )
    countries = StringField(
        _l("Countries offered (codes, comma-separated; empty: every country)"),
        validators=[Optional(), Length(max=2000)],
    )
    file_types = Checkboxes(
        _l("Documents accepted"),
        choices=options(
            [
                ("pdf", "PDF"),
                ("docx", "DOCX"),
                ("xlsx", "XLSX"),
                ("odt", "ODT"),
                ("ods", "ODS"),
                ("png", "PNG"),
                ("jpeg", "JPEG"),
            ]
        ),
    )
    condition_question = SelectField(_l("Show only when the answer to"), validate_choice=False)
    condition_values = StringField(
        _l("is one of (values, comma-separated)"),
        validators=[Optional(), Length(max=500)],
        description=_l("For a yes/no question: yes or no."),
    )


class SectionTitleForm(BaseForm):
    section_title_en = StringField(
        _l("New section (English)"), validators=[Optional(), Length(max=200)]
    )
    section_title_fr = StringField(
        _l("New section (French)"), validators=[Optional(), Length(max=200)]
    )
    section_title_de = StringField(
        _l("New section (German)"), validators=[Optional(), Length(max=200)]
    )
    section_stage = SelectField(
        _l("Asked in (two-stage calls)"), choices=options(Stage.choices()), default="full"
    )


class CopyForm(BaseForm):
    copy_from = SelectField(_l("Copy the questions of"), coerce=int, validate_choice=False)
