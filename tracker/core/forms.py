"""Form building blocks: trimmed text, euro amounts, Luxembourg date-times, the form base."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateTimeLocalField,
    DecimalField,
    FieldList,
    FormField,
    HiddenField,
    SelectChoice,
)
from wtforms.widgets import TextInput

from tracker.core.db import CENT
from tracker.core.time import LUXEMBOURG, local_to_utc, to_local


def strip(value):
    return value.strip() if isinstance(value, str) else value


class BaseForm(FlaskForm):
    """Every form: CSRF from Flask-WTF, and surrounding white space trimmed from text."""

    class Meta:
        def bind_field(self, form, unbound_field, options):
            filters = unbound_field.kwargs.get("filters", [])
            if issubclass(unbound_field.field_class, (FieldList, FormField)):
                return unbound_field.bind(form=form, **options)
            if strip not in filters:
                unbound_field.kwargs["filters"] = [strip, *filters]
            return unbound_field.bind(form=form, **options)

    def raw_inputs(self) -> dict[str, str]:
        """What the person typed, field by field (for keeping invalid values)."""
        return {
            name: field.raw_data[0]
            for name, field in self._fields.items()
            if field.raw_data and isinstance(field.raw_data[0], str) and name != "csrf_token"
        }


class MoneyField(DecimalField):
    """Euros with at most two decimals; accepts '200000', '200,000.50' and '200 000'."""

    widget = TextInput()  # a number input would refuse the thousands separators people type

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("places", 2)
        render_kw = kwargs.setdefault("render_kw", {})
        render_kw.setdefault("inputmode", "decimal")
        render_kw.setdefault("autocomplete", "off")
        super().__init__(label, validators, **kwargs)

    def process_formdata(self, valuelist):
        if not valuelist or not valuelist[0].strip():
            self.data = None
            return
        text = valuelist[0].strip().replace("\u202f", "").replace(" ", "").replace(",", "")
        text = text.removeprefix("EUR").removeprefix("€").strip()
        try:
            value = Decimal(text)
        except InvalidOperation:
            self.data = None
            raise ValueError(_l("Enter an amount in euros, such as 150000 or 150000.50.")) from None
        if not value.is_finite() or value != value.quantize(CENT):
            self.data = None
            raise ValueError(_l("Use at most two decimals."))
        if value < 0:
            self.data = None
            raise ValueError(_l("The amount cannot be negative."))
        if value >= Decimal("10000000000"):
            self.data = None
            raise ValueError(_l("This amount is too large."))
        self.data = value.quantize(CENT)

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        if self.data is None:
            return ""
        return f"{self.data:.2f}"


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
