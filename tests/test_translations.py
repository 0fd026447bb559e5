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


@pytest.mark.parametrize("language", ["fr", "de"])
def test_translations_keep_every_placeholder(language):
    with (CATALOGUES / language / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalogue = read_po(handle)
    translated = [m for m in catalogue if m.id and m.string]
    assert len(translated) > 300
    for message in translated:
        assert sorted(PLACEHOLDER.findall(message.id)) == sorted(
            PLACEHOLDER.findall(message.string)
        ), message.id
    with (CATALOGUES / language / "LC_MESSAGES" / "messages.mo").open("rb") as handle:
        compiled = {m.id: m.string for m in read_mo(handle) if m.id}
    stale = [m.id for m in translated if compiled.get(m.id) != m.string]
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
