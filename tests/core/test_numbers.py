"""Numbers and dates as people type them in English, French and German."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from babel import Locale

from tracker.core.numbers import (
    NumberInputError,
    format_money,
    format_plain,
    parse_date,
    parse_number,
)

EN, FR, DE = (Locale.parse(code) for code in ("en_GB", "fr", "de"))


@pytest.mark.parametrize("locale", [EN, FR, DE], ids=["en", "fr", "de"])
@pytest.mark.parametrize(
    ("typed", "value"),
    [
        ("150000,50", "150000.50"),  # the amount once saved as 15,000,050.00
        ("1 200 000,50", "1200000.50"),  # once saved as 120,000,050.00
        ("1\u202f200\u202f000,50", "1200000.50"),  # the narrow no-break space French writes
        ("1\u00a0200\u00a0000,50", "1200000.50"),
        ("150000.50", "150000.50"),
        ("1.234.567,89", "1234567.89"),
        ("1,234,567.89", "1234567.89"),
        ("€ 150 000", "150000.00"),
        ("150 000 EUR", "150000.00"),
        ("  42 ", "42.00"),
        ("0", "0.00"),
    ],
)
def test_amounts_that_read_one_way_in_every_locale(locale, typed, value):
    assert parse_number(typed, locale=locale) == Decimal(value)


@pytest.mark.parametrize(
    ("locale", "typed", "value"),
    [(EN, "150,000", "150000.00"), (DE, "150.000", "150000.00"), (DE, "150.000,50", "150000.50")],
)
def test_the_locales_own_thousands_separator(locale, typed, value):
    assert parse_number(typed, locale=locale) == Decimal(value)


@pytest.mark.parametrize(
    ("locale", "typed"),
    [
        (EN, "150.000"),  # 150 or 150,000?
        (FR, "150.000"),
        (FR, "150,000"),
        (DE, "150,000"),
        (EN, "0,005"),
        (EN, "12 34"),
        (DE, "1.200,5.0"),
        (EN, "1,5,00"),
    ],
)
def test_ambiguous_or_malformed_amounts_are_refused_with_an_example(locale, typed):
    with pytest.raises(NumberInputError) as refused:
        parse_number(typed, locale=locale)
    assert "Write it like" in str(refused.value)


@pytest.mark.parametrize("locale", [EN, FR, DE], ids=["en", "fr", "de"])
@pytest.mark.parametrize(
    "typed",
    [
        "1e27",
        "1E+26",
        "12345678901234567890",
        "NaN",
        "nan",
        "sNaN",
        "Infinity",
        "-Infinity",
        "inf",
        "0x10",
        "1_000",
        "--5",
        "5-",
        "1.",
        ",5",
        "٣",
    ],
)
def test_overflow_and_not_a_number_spellings_are_refused(locale, typed):
    with pytest.raises(NumberInputError):
        parse_number(typed, locale=locale)


def test_negative_amounts_only_where_allowed():
    with pytest.raises(NumberInputError, match="negative"):
        parse_number("-5", locale=EN)
    assert parse_number("-5", locale=EN, allow_negative=True) == Decimal("-5.00")


def test_amounts_fit_numeric_12_2():
    assert parse_number("9999999999.99", locale=EN) == Decimal("9999999999.99")
    with pytest.raises(NumberInputError, match="At most"):
        parse_number("10000000000", locale=EN)
    with pytest.raises(NumberInputError, match="at most 2 decimals"):
        parse_number("1,2345", locale=DE)


def test_whole_numbers():
    assert parse_number("1.200", places=0, locale=DE) == 1200
    assert parse_number("1 200", places=0, locale=FR) == 1200
    with pytest.raises(NumberInputError, match="whole number"):
        parse_number("1.5", places=0, locale=EN)


def test_amounts_are_shown_with_the_locales_separators_and_the_euro_sign():
    assert format_money(Decimal("150000.5"), EN) == "€150,000.50"
    assert format_money(Decimal("150000.5"), FR) == "150\u202f000,50\u00a0€"
    assert format_money(Decimal("150000.5"), DE) == "150.000,50\u00a0€"
    # What a form shows reads back to the same amount in the same locale.
    for locale in (EN, FR, DE):
        shown = format_plain(Decimal("1234567.89"), 2, locale)
        assert parse_number(shown, locale=locale) == Decimal("1234567.89")


@pytest.mark.parametrize(
    ("typed", "day"),
    [
        ("2026-11-23", date(2026, 11, 23)),
        ("23/11/2026", date(2026, 11, 23)),
        ("23.11.2026", date(2026, 11, 23)),
        ("3/2/2026", date(2026, 2, 3)),  # day first: 3 February, never 2 March
    ],
)
def test_dates_are_read_day_first(typed, day):
    assert parse_date(typed) == day


@pytest.mark.parametrize(
    "typed", ["11/23/2026", "23/11/26", "0001-01-01", "tomorrow", "2026-02-30"]
)
def test_dates_that_cannot_be_read_without_guessing_are_refused(typed):
    with pytest.raises(NumberInputError):
        parse_date(typed)


@pytest.mark.parametrize(
    "language", ["en_GB", "fr", "de", "fr_LU", "de_LU", "de_CH", "hi_IN", "ar"]
)
def test_amounts_are_written_exactly_as_babel_writes_them(language):
    from babel import Locale
    from babel.numbers import format_currency

    from tracker.core.numbers import format_money

    locale = Locale.parse(language)
    for text in ["0", "-0.00", "0.5", "12.34", "999.99", "1000", "1234567.5", "-1234567.5",
                 "9999999999.99", "-0.01", "0.005", "2.675", "-0.004"]:  # fmt: skip
        amount = Decimal(text)
        assert format_money(amount, locale) == format_currency(amount, "EUR", locale=locale)
