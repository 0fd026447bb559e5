"""Form building blocks: trimmed text, numbers in the user's locale, dates, the form base."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    DateTimeLocalField,
    Field,
    FieldList,
    Form,
    FormField,
    HiddenField,
    SelectChoice,
    validators,
)
from wtforms.widgets import TextInput

from tracker.core.numbers import (
    MAX_AMOUNT,
    NumberInputError,
    format_plain,
    parse_date,
    parse_number,
)
from tracker.core.time import LUXEMBOURG, local_to_utc, to_local


def strip(value):
    return value.strip() if isinstance(value, str) else value


class Length(validators.Length):
    """A length limit whose message says how long the text is, so nothing is ever cut silently."""

    def __call__(self, form, field):
        length = len(field.data or "") if isinstance(field.data, str) else 0
        if self.max != -1 and length > self.max:
            raise validators.ValidationError(
                _l(
                    "At most %(max)s characters: this has %(n)s. Shorten it by %(over)s.",
                    max=self.max,
                    n=length,
                    over=length - self.max,
                )
            )
        super().__call__(form, field)


def _length_limit(unbound_field) -> int | None:
    for validator in unbound_field.kwargs.get("validators") or []:
        if isinstance(validator, validators.Length) and validator.max != -1:
            return validator.max
    return None


class _Meta:
    def bind_field(self, form, unbound_field, options):
        if issubclass(unbound_field.field_class, (FieldList, FormField)):
            return unbound_field.bind(form=form, **options)
        filters = unbound_field.kwargs.get("filters", [])
        if strip not in filters:
            unbound_field.kwargs["filters"] = [strip, *filters]
        limit = _length_limit(unbound_field)
        if limit:
            # A counter beside the field (static/app.js); no maxlength, which cuts pasted text.
            render_kw = unbound_field.kwargs.setdefault("render_kw", {})
            render_kw.setdefault("data-maxlength", limit)
        return unbound_field.bind(form=form, **options)


class BaseForm(FlaskForm):
    """Every form: CSRF from Flask-WTF, surrounding white space trimmed, length counters."""

    Meta = type("Meta", (_Meta, FlaskForm.Meta), {})


class SubForm(Form):
    """A sub-form of a list (its CSRF token belongs to the enclosing form), with the same care."""

    Meta = type("Meta", (_Meta, Form.Meta), {})

    def raw_inputs(self) -> dict[str, str]:
        """What the person typed, field by field (for keeping invalid values)."""
        return {
            name: field.raw_data[0]
            for name, field in self._fields.items()
            if field.raw_data and isinstance(field.raw_data[0], str) and name != "csrf_token"
        }


class LocaleNumberField(Field):
    """A number typed the way the user's locale writes it (see ``tracker.core.numbers``).

    Whatever was typed is shown again with its error, so a malformed entry is never lost.
    """

    widget = TextInput()  # a number input would refuse the thousands separators people type
    places = 2
    default_maximum: Decimal | None = MAX_AMOUNT

    def __init__(
        self,
        label=None,
        validators=None,
        *,
        places=None,
        maximum=...,
        allow_negative=False,
        **kwargs,
    ):
        render_kw = kwargs.setdefault("render_kw", {})
        render_kw.setdefault("inputmode", "decimal" if (places or self.places) else "numeric")
        render_kw.setdefault("autocomplete", "off")
        super().__init__(label, validators, **kwargs)
        if places is not None:
            self.places = places
        self.maximum = self.default_maximum if maximum is ... else maximum
        self.allow_negative = allow_negative

    def process_formdata(self, valuelist):
        self.data = None
        if not valuelist:
            return
        try:
            value = parse_number(
                valuelist[0],
                places=self.places,
                maximum=self.maximum,
                allow_negative=self.allow_negative,
            )
        except NumberInputError as error:
            raise ValueError(str(error)) from None
        self.data = self.convert(value)

    def convert(self, value: Decimal | None):
        return value

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        if self.data is None:
            return ""
        return format_plain(self.data, self.places)


class MoneyField(LocaleNumberField):
    """Euros with at most two decimals, as ``Numeric(12, 2)`` can hold them."""


class PercentField(LocaleNumberField):
    """A percentage with at most two decimals, such as ``50`` or ``12,5``."""

    default_maximum = Decimal(100)

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        if self.data is None:
            return ""
        value = Decimal(self.data)
        return format_plain(value, 0 if value == value.to_integral_value() else 2)


class WholeNumberField(LocaleNumberField):
    """A whole number (staff, months, marks); thousands separators of the locale accepted."""

    places = 0
    default_maximum = Decimal(2_000_000_000)  # fits an INTEGER column on every database

    def convert(self, value):
        return None if value is None else int(value)


class LocalDateField(DateField):
    """A calendar date: the date picker's ISO value, or typed day first (never month first)."""

    def process_formdata(self, valuelist):
        self.data = None
        if not valuelist:
            return
        try:
            self.data = parse_date(valuelist[0])
        except NumberInputError as error:
            raise ValueError(str(error)) from None


class LocalDateTimeField(DateTimeLocalField):
    """A date and time typed in Luxembourg time, stored as aware UTC."""

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("format", ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"])
        super().__init__(label, validators, **kwargs)

    def process_data(self, value):
        if isinstance(value, datetime) and value.tzinfo is not None:
            value = to_local(value).replace(tzinfo=None)
        super().process_data(value)

    @property
    def utc(self) -> datetime | None:
        if self.data is None:
            return None
        return local_to_utc(self.data.replace(tzinfo=LUXEMBOURG))


class VersionField(HiddenField):
    """The proposal version the page was rendered from (optimistic locking)."""

    def process_formdata(self, valuelist):
        try:
            self.data = int(valuelist[0]) if valuelist and valuelist[0] else None
        except ValueError:
            self.data = None


def options(pairs) -> list[SelectChoice]:
    """``(value, label)`` pairs as WTForms select options."""
    return [SelectChoice(value, label) for value, label in pairs]


def _unbound_label(unbound) -> object:
    if unbound.args:
        return unbound.args[0]
    return unbound.kwargs.get("label") or ""


def form_labeller(form_cls, item_titles: dict | None = None, extra: dict | None = None):
    """A function naming a field of ``form_cls`` as the page labels it, for audit entries.

    Fields of lists are named ``name-<i>`` or ``name-<i>-sub``; ``item_titles`` gives the title
    of an item (``{"partners": _l("Partner %(n)s")}``), placed before the sub-field's label.
    """
    from wtforms.fields.core import UnboundField

    def unbound_fields(cls) -> dict:
        return {
            name: getattr(cls, name)
            for name in dir(cls)
            if not name.startswith("_") and isinstance(getattr(cls, name, None), UnboundField)
        }

    fields = unbound_fields(form_cls)
    item_titles = item_titles or {}
    extra = extra or {}

    def label(name: str) -> str:
        if name in extra:
            return str(extra[name])
        head, *rest = name.split("-")
        unbound = fields.get(head)
        if unbound is None:
            return name
        if not rest:
            return str(_unbound_label(unbound))
        index = int(rest[0]) + 1 if rest[0].isdigit() else rest[0]
        title = item_titles.get(head)
        prefix = str(title % {"n": index}) if title else f"{_unbound_label(unbound)} {index}"
        inner = unbound.args[0] if unbound.args else None
        if len(rest) > 1 and getattr(inner, "field_class", None) is FormField:
            sub_form = inner.args[0] if inner.args else inner.kwargs.get("form_class")
            sub = unbound_fields(sub_form).get(rest[1])
            if sub is not None:
                return f"{prefix}: {_unbound_label(sub)}"
        return prefix

    return label
