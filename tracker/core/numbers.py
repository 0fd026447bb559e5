"""Numbers as people type and read them, in their locale (Babel knows the symbols).

Typed amounts are read without guessing: spaces (including the narrow no-break space French
uses) and apostrophes always group thousands; a dot or comma followed by one or two digits is
the decimal mark; one followed by exactly three digits is a thousands separator only where the
locale groups with it (``150.000`` in German), and refused as ambiguous elsewhere. Anything that
is not digits and separators (``1e27``, ``NaN``, ``Infinity``) is refused with a message that
shows how to write the number.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from babel import Locale
from babel.numbers import format_currency, format_decimal, get_decimal_symbol, get_group_symbol
from flask import has_request_context
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

CENT = Decimal("0.01")
# Numeric(12, 2): ten digits before the decimal mark.
MAX_AMOUNT = Decimal("9999999999.99")
MAX_INPUT_LENGTH = 40

_SPACES = re.compile(r"[ '\u2019]")
_CURRENCY = re.compile(r"^(?:eur|€)\s*|\s*(?:eur|€|%)$", re.IGNORECASE)


class NumberInputError(ValueError):
    """What was typed is not a number we can read without guessing; the message says why."""


def current_locale() -> Locale:
    """The locale of the request (British English outside one, as on the command line)."""
    if has_request_context():
        locale = get_locale()
        if locale is not None:
            return locale
    return Locale.parse("en_GB")


def _refuse(message, places: int, locale: Locale) -> NumberInputError:
    """An error that says what is wrong and shows the number written the locale's way."""
    sample = Decimal("150000.50") if places else Decimal("150000")
    plain = f"{sample:.{places}f}".replace(".", get_decimal_symbol(locale))
    grouped = format_plain(sample, places, locale).replace("\u202f", " ")
    hint = _l("Write it like %(plain)s or %(grouped)s.", plain=plain, grouped=grouped)
    return NumberInputError(f"{message} {hint}")


def _check_groups(groups: list[str]) -> bool:
    """Thousands grouped by three after a first group of one to three digits (not ``0,005``)."""
    if not groups or not 1 <= len(groups[0]) <= 3 or any(len(g) != 3 for g in groups[1:]):
        return False
    return len(groups) == 1 or not groups[0].startswith("0")


def parse_number(
    text: str | None,
    *,
    places: int = 2,
    locale: Locale | None = None,
    allow_negative: bool = False,
    maximum: Decimal | None = MAX_AMOUNT,
) -> Decimal | None:
    """The number typed, as a ``Decimal`` with at most ``places`` decimals; None when empty."""
    locale = locale or current_locale()
    if text is None or not str(text).strip():
        return None
    raw = unicodedata.normalize("NFKC", str(text)).strip()
    if len(raw) > MAX_INPUT_LENGTH:
        raise NumberInputError(str(_l("This is too long for a number.")))
    raw = _CURRENCY.sub("", raw).strip()
    negative = raw[:1] in ("-", "\u2212")
    if raw[:1] in ("-", "\u2212", "+"):
        raw = raw[1:].strip()
    if not raw or not re.fullmatch(r"[0-9 .,'\u2019]+", raw) or not raw[0].isdigit():
        raise _refuse(_l("Use digits only."), places, locale)
    if not raw[-1].isdigit():
        raise _refuse(_l("This number is not complete."), places, locale)

    group_symbol = get_group_symbol(locale)
    group_symbol = " " if unicodedata.normalize("NFKC", group_symbol).isspace() else group_symbol

    if _SPACES.search(raw):
        match = re.fullmatch(r"([0-9 '\u2019]+)([.,][0-9]+)?", raw)
        if not match or not _check_groups(_SPACES.split(match.group(1))):
            raise _refuse(_l("The thousands are not grouped by three."), places, locale)
        raw = _SPACES.sub("", match.group(1)) + (match.group(2) or "")

    marks = [c for c in raw if c in ".,"]
    integer, fraction = raw, ""
    if len(set(marks)) == 2:
        # Both kinds: the last one is the decimal mark, the other groups thousands.
        decimal_mark = marks[-1]
        group_mark = "," if decimal_mark == "." else "."
        head, _sep, fraction = raw.rpartition(decimal_mark)
        if decimal_mark in head or not _check_groups(head.split(group_mark)):
            raise _refuse(_l("The separators are not where they should be."), places, locale)
        integer = head.replace(group_mark, "")
    elif marks:
        mark = marks[0]
        parts = raw.split(mark)
        if len(parts) > 2:
            if not _check_groups(parts):
                raise _refuse(_l("The thousands are not grouped by three."), places, locale)
            integer = "".join(parts)
        elif len(parts[1]) == 3:
            if mark != group_symbol:
                raise _refuse(
                    _l("“%(typed)s” could be read two ways.", typed=str(text).strip()),
                    places,
                    locale,
                )
            if not _check_groups(parts):
                raise _refuse(_l("The thousands are not grouped by three."), places, locale)
            integer = "".join(parts)
        else:
            integer, fraction = parts
    if len(fraction) > places:
        if places == 0:
            raise _refuse(_l("Enter a whole number."), places, locale)
        raise _refuse(_l("Use at most %(n)s decimals.", n=places), places, locale)
    try:
        value = Decimal(f"{integer}.{fraction or '0'}")
    except InvalidOperation:  # pragma: no cover - the pattern above only lets digits through
        raise _refuse(_l("Use digits only."), places, locale) from None
    if negative and value:
        if not allow_negative:
            raise NumberInputError(str(_l("The number cannot be negative.")))
        value = -value
    if maximum is not None and abs(value) > maximum:
        raise NumberInputError(
            str(_l("At most %(max)s.", max=format_plain(maximum, places, locale)))
        )
    return value.quantize(Decimal(1).scaleb(-places)) if places else value.quantize(Decimal(1))


def format_plain(value: Decimal | int | None, places: int = 2, locale: Locale | None = None) -> str:
    """A number with the locale's separators and ``places`` decimals, no currency."""
    if value is None:
        return ""
    locale = locale or current_locale()
    pattern = "#,##0." + "0" * places if places else "#,##0"
    return format_decimal(Decimal(value), pattern, locale=locale)


def format_money(value: Decimal | None, locale: Locale | None = None) -> str:
    """Euros as the locale writes them (``€150,000.50``, ``150 000,50 €``).

    A page shows dozens of amounts: for a locale whose pattern is the usual kind (groups of
    three, two decimals) the text is put together from the pattern's parts, read once per
    locale, and is the same as Babel's (a test compares them); other patterns go to Babel.
    """
    if value is None:
        return "-"
    locale = locale or current_locale()
    shape = _money_shape(str(locale))
    if shape is None:
        return format_currency(Decimal(value), "EUR", locale=locale)
    return _from_shape(Decimal(value), shape)


@lru_cache(maxsize=32)
def _money_shape(locale_name: str):
    """(positive prefix and suffix, negative ones, group and decimal symbols) of the locale's
    currency pattern for euros, or None when the pattern is not the usual kind."""
    locale = Locale.parse(locale_name)
    pattern = locale.currency_formats["standard"]
    usual = (
        pattern.grouping == (3, 3)
        and pattern.frac_prec == (2, 2)
        and pattern.int_prec[0] == 1
        and not pattern.exp_prec
        and pattern.scale == 0  # no per-cent or per-mille
    )
    if not usual:
        return None
    symbol = locale.currency_symbols.get("EUR", "EUR")

    def parts(index: int) -> tuple[str, str]:
        return (
            pattern.prefix[index].replace("¤", symbol),
            pattern.suffix[index].replace("¤", symbol),
        )

    shape = parts(0), parts(1), get_group_symbol(locale), get_decimal_symbol(locale)
    # Some locales group in their own way (minimum grouping digits): the shape is used only if
    # it writes these amounts exactly as Babel does.
    for probe in ("0", "-0.01", "12.34", "1234.5", "1234567.5", "-1234567.5", "9999999999.99"):
        amount = Decimal(probe)
        if _from_shape(amount, shape) != format_currency(amount, "EUR", locale=locale):
            return None
    return shape


def _from_shape(number: Decimal, shape) -> str:
    positive, negative, group, decimal = shape
    digits = f"{abs(number):,.2f}".replace(",", "\0").replace(".", decimal).replace("\0", group)
    prefix, suffix = negative if number.is_signed() else positive
    return prefix + digits + suffix


def format_percent(value: Decimal | None, locale: Locale | None = None) -> str:
    """A percentage such as ``50 %`` or ``12,5 %`` (without needless decimals)."""
    if value is None:
        return ""
    text = format_decimal(Decimal(value), "#,##0.##", locale=locale or current_locale())
    return f"{text}\u00a0%"


DATE_INPUT_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d.%m.%Y", "%d-%m-%Y")


def parse_date(text: str | None) -> date | None:
    """A calendar date typed as ISO (the date picker) or day first; never month first."""
    if text is None or not str(text).strip():
        return None
    raw = unicodedata.normalize("NFKC", str(text)).strip()
    if len(raw) <= 12:
        for fmt in DATE_INPUT_FORMATS:
            try:
                value = datetime.strptime(raw, fmt).date()
            except ValueError:
                continue
            if fmt != "%Y-%m-%d" and not re.fullmatch(r"\d{1,2}\D\d{1,2}\D\d{4}", raw):
                continue
            if not 1900 <= value.year <= 2100:
                raise NumberInputError(str(_l("Enter a year between 1900 and 2100.")))
            return value
    raise NumberInputError(str(_l("Enter a date as day, month and year, such as 23/11/2026.")))
