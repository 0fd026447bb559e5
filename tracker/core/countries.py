"""Countries (ISO 3166-1 alpha-2 from pycountry, plus XK for Kosovo) and the lists we use."""

from __future__ import annotations

import unicodedata
from functools import cache
from importlib import resources

import pycountry

EU_MEMBER_STATES = frozenset(
    [
        "AT",
        "BE",
        "BG",
        "HR",
        "CY",
        "CZ",
        "DK",
        "EE",
        "FI",
        "FR",
        "DE",
        "GR",
        "HU",
        "IE",
        "IT",
        "LV",
        "LT",
        "LU",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SK",
        "SI",
        "ES",
        "SE",
    ]
)

# Priority partner countries of the BPF calls 2017-2019 (DESIGN section 2).
BPF_PRIORITY_COUNTRIES = (
    "BF",
    "CV",
    "ET",
    "ML",
    "NE",
    "SN",
    "LA",
    "MN",
    "MM",
    "VN",
    "SV",
    "NI",
    "XK",
)


@cache
def country_names() -> dict[str, str]:
    """Every code we accept, mapped to a readable English name."""
    names = {c.alpha_2: getattr(c, "common_name", None) or c.name for c in pycountry.countries}
    names["XK"] = "Kosovo"
    return dict(sorted(names.items(), key=lambda item: item[1]))


@cache
def _localised_names(locale_name: str) -> dict[str, str]:
    """Every accepted code with its name in a language (Babel's locale data; the English list
    for a code Babel does not name), sorted as a reader of that language expects."""
    from babel import Locale

    territories = Locale.parse(locale_name).territories
    names = {code: territories.get(code) or english for code, english in country_names().items()}
    return dict(sorted(names.items(), key=lambda item: _sort_key(item[1])))


def _sort_key(name: str) -> str:
    """Letters without their accents, case folded ("Égypte" sorts among the E)."""
    decomposed = unicodedata.normalize("NFKD", name)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def _reader_locale() -> str | None:
    from flask import has_request_context

    if not has_request_context():
        return None
    from flask_babel import get_locale

    locale = get_locale()
    return str(locale) if locale is not None else None


def localised_country_names() -> dict[str, str]:
    """The accepted codes named in the reader's language (English outside a request)."""
    return _localised_names(_reader_locale() or "en_GB")


def country_name(code: str | None) -> str:
    """The readable name of a code in the reader's language, or the code itself when unknown."""
    if not code:
        return ""
    return localised_country_names().get(code.upper(), code)


def english_country_name(code: str | None) -> str:
    """The English name, for files whose other texts are English (the queue's CSV)."""
    if not code:
        return ""
    return country_names().get(code.upper(), code)


def is_country(code: str | None) -> bool:
    return bool(code) and code.upper() in country_names()


INCOME_GROUPS = ("ldc", "other_lic", "lmic", "umic")


@cache
def dac_income_groups() -> dict[str, str]:
    """Each country of the OECD-DAC list with its income group (``ldc``, ``other_lic``,
    ``lmic`` or ``umic``), from the data file shipped with the package."""
    text = resources.files("tracker.data").joinpath("oecd_dac_recipients.txt").read_text()
    groups: dict[str, str] = {}
    current = None
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("## "):
            current = line[3:].split(":", 1)[0].strip()
            if current not in INCOME_GROUPS:  # pragma: no cover - guards the data file
                raise ValueError(f"unknown income group {current!r} in the OECD-DAC list")
        elif line and not line.startswith("#"):
            if current is None:  # pragma: no cover - guards the data file
                raise ValueError(f"{line} comes before any income group in the OECD-DAC list")
            groups[line] = current
    unknown = [code for code in groups if code not in country_names()]
    if unknown:  # pragma: no cover - guards the data file
        raise ValueError(f"unknown codes in the OECD-DAC list: {unknown}")
    return groups


def oecd_dac_recipients() -> tuple[str, ...]:
    """The OECD-DAC list of ODA recipients shipped with the package."""
    return tuple(dac_income_groups())


def country_choices(codes=None) -> list[tuple[str, str]]:
    """``(code, name)`` pairs sorted by name in the reader's language, for select fields."""
    names = localised_country_names()
    if codes is None:
        return list(names.items())
    wanted = set(codes)
    return [(code, name) for code, name in names.items() if code in wanted]
