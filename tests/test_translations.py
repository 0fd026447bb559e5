"""French and German: the catalogues load, keep their placeholders, and the pages speak them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from tests.web import Web, text

CATALOGUES = Path(__file__).resolve().parent.parent / "tracker" / "translations"
PLACEHOLDER = re.compile(r"%\([a-z_]+\)s|%%")
NUMBER = re.compile(r"%\([a-z_]+\)d")


def _key(text):
    """A message id or string as a dictionary key (plural forms come as lists or tuples)."""
    return tuple(text) if isinstance(text, list | tuple) else text


@pytest.mark.parametrize("language", ["fr", "de"])
def test_translations_keep_every_placeholder(language):
    with (CATALOGUES / language / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalogue = read_po(handle)
    translated = [m for m in catalogue if m.id and m.string]
    assert len(translated) > 300
    for message in translated:
        if isinstance(message.id, tuple):  # plural forms keep the plural's placeholders
            pairs = [(message.id[min(i, 1)], s) for i, s in enumerate(message.string)]
        else:
            pairs = [(message.id, message.string)]
        for source, string in pairs:
            wanted = sorted(PLACEHOLDER.findall(source) + NUMBER.findall(source))
            assert wanted == sorted(PLACEHOLDER.findall(string) + NUMBER.findall(string)), (
                message.id
            )
    with (CATALOGUES / language / "LC_MESSAGES" / "messages.mo").open("rb") as handle:
        compiled = {_key(m.id): _key(m.string) for m in read_mo(handle) if m.id}
    stale = [m.id for m in translated if compiled.get(_key(m.id)) != _key(m.string)]
    assert not stale, f"the .mo file is older than the .po file (make translations): {stale[:3]}"


@pytest.mark.parametrize(
    ("language", "sign_in", "register"),
    [
        ("fr", "Se connecter", "Inscrire votre entreprise"),
        ("de", "Anmelden", "Unternehmen registrieren"),
        ("en", "Sign in", "Register your company"),
    ],
)
def test_pages_follow_the_chosen_language(app, client, language, sign_in, register):
    web = Web(client)
    web.post("/language", {"locale": language, "next": "/login"})
    page = text(web.get("/login"))
    assert sign_in in page and register in page
    assert f'<html lang="{language}">' in page


def test_the_browser_language_is_used_when_nothing_was_chosen(app, client):
    page = text(client.get("/login", headers={"Accept-Language": "de-LU,de;q=0.9,fr;q=0.8"}))
    assert "Anmelden" in page


def test_every_message_of_the_source_is_translated_in_both_catalogues(tmp_path):
    """Extract the messages as `make translations` does: a new text without its French and
    German fails here, before a reader meets it in English."""
    import os

    from babel.messages.frontend import CommandLineInterface

    root = CATALOGUES.parent.parent
    template = tmp_path / "messages.pot"
    keywords = [arg for k in ("_l", "N_", "translate", "lazy_gettext") for arg in ("-k", k)]
    here = os.getcwd()
    os.chdir(root)  # babel.cfg names the files relative to the project
    try:
        CommandLineInterface().run(
            [
                "pybabel",
                "-q",
                "extract",
                "-F",
                "babel.cfg",
                *keywords,
                "--no-location",
                "-o",
                str(template),
                ".",
            ]
        )
    finally:
        os.chdir(here)
    with template.open("rb") as handle:
        wanted = [m for m in read_po(handle) if m.id]
    assert len(wanted) > 1000
    for language in ("fr", "de"):
        with (CATALOGUES / language / "LC_MESSAGES" / "messages.po").open("rb") as handle:
            catalogue = read_po(handle)
        missing = []
        for message in wanted:
            found = catalogue.get(message.id)
            strings = found.string if found else None
            if not strings or (isinstance(strings, tuple) and not all(strings)):
                missing.append(message.id)
        assert not missing, f"{language}: {len(missing)} without a translation: {missing[:5]}"
