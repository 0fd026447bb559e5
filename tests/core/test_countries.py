"""Country names in the reader's language, from Babel's locale data, sorted for that reader."""

from __future__ import annotations

import pytest

from tracker.core import countries


@pytest.mark.parametrize(
    ("language", "germany", "vietnam"),
    [
        ("en", "Germany", "Vietnam"),
        ("fr", "Allemagne", "Viêt Nam"),
        ("de", "Deutschland", "Vietnam"),
    ],
)
def test_names_and_choices_follow_the_language(app, language, germany, vietnam):
    with app.test_request_context(headers={"Accept-Language": language}):
        assert countries.country_name("DE") == germany
        assert countries.country_name("vn") == vietnam
        assert countries.country_name("XK") == "Kosovo"
        names = [name for _code, name in countries.country_choices()]
        assert len(names) == len(countries.country_names())
        keys = [countries._sort_key(name) for name in names]
        assert keys == sorted(keys)
        # The queue's CSV keeps its English names whatever the reader's language.
        assert countries.english_country_name("DE") == "Germany"


def test_accents_do_not_send_a_country_to_the_end_of_the_list(app):
    with app.test_request_context(headers={"Accept-Language": "fr"}):
        names = [name for _code, name in countries.country_choices()]
    assert names.index("Danemark") < names.index("Égypte") < names.index("Espagne")


def test_the_error_summary_names_the_message_of_a_nested_field():
    from tracker.core.templating import first_error

    assert first_error([{"country": ["Choose the partner's country."]}, {}]) == (
        "Choose the partner's country."
    )
    assert first_error(["Required."]) == "Required." and first_error([]) == ""
