"""Numbers typed in every money, rate and number field: locales, overflows and not-a-number.

A sweep over the forms: each bad spelling gets a message at its field, the typed text is shown
again, nothing is saved, and no page answers 500.
"""

from __future__ import annotations

import html
from decimal import Decimal

import pytest
import sqlalchemy as sa

from tests import factories as f
from tests.web import Web, text
from tracker.extensions import db
from tracker.programmes.models import Call, Programme
from tracker.proposals.models import Proposal
from tracker.review.models import Contract, Score

BAD = [
    "1e27",
    "1E+26",
    "12345678901234567890",
    "NaN",
    "sNaN",
    "Infinity",
    "-1",
    "150.000",
    "12,5,0",
]


def signed_in(app, email, locale=None):
    web = Web(app.test_client())
    web.login(email)
    if locale:
        web.post("/language", {"locale": locale, "next": "/"})
    return web


def refused_at_field(response, typed):
    assert response.status_code != 500
    page = text(response)
    assert response.status_code in (200, 409, 422), response.status_code
    assert "invalid-feedback" in page
    assert f'value="{html.escape(typed, quote=True)}"' in page, typed


@pytest.fixture
def draft(app):
    with app.app_context():
        f.clause()
        proposal = f.draft(f.call(), f.applicant())
        db.session.commit()
        return proposal.id


def current_version(app, proposal_id):
    with app.app_context():
        return db.session.get(Proposal, proposal_id).version


@pytest.mark.parametrize(
    ("section", "fields"),
    [
        (
            "lead",
            [
                "lead_turnover_1",
                "lead_turnover_2",
                "lead_turnover_3",
                "de_minimis_1",
                "de_minimis_2",
                "de_minimis_3",
                "lead_employees",
            ],
        ),
        ("project", ["impact_jobs", "impact_beneficiaries", "duration_months"]),
        (
            "budget",
            ["total_cost_eur", "requested_eur", "own_contribution_eur", "other_funding_eur"],
        ),
    ],
)
def test_applicant_sections(app, draft, section, fields):
    web = signed_in(app, "anna@company.lu")
    url = f"/proposals/{draft}/sections/{section}"
    for field in fields:
        for bad in BAD:
            response = web.post(url, {"version": current_version(app, draft), field: bad})
            refused_at_field(response, bad)
            with app.app_context():
                assert getattr(db.session.get(Proposal, draft), field) is None, (field, bad)


@pytest.mark.parametrize(
    ("locale", "typed", "stored"),
    [
        ("en", "150000,50", "150000.50"),
        ("fr", "150000,50", "150000.50"),
        ("de", "150000,50", "150000.50"),
        ("fr", "1 200 000,50", "1200000.50"),
        ("fr", "1\u202f200\u202f000,50", "1200000.50"),
        ("de", "1.200.000,50", "1200000.50"),
        ("en", "1,200,000.50", "1200000.50"),
        ("en", "1 200 000,50", "1200000.50"),
    ],
)
def test_amounts_typed_the_locales_way_are_saved_as_meant(app, draft, locale, typed, stored):
    web = signed_in(app, "anna@company.lu", locale)
    response = web.post(
        f"/proposals/{draft}/sections/lead",
        {"version": current_version(app, draft), "lead_turnover_1": typed},
    )
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Proposal, draft).lead_turnover_1 == Decimal(stored)
    # Shown back with the locale's separators, and read back to the same amount.
    shown = {"en": "1,200,000.50", "fr": "1\u202f200\u202f000,50", "de": "1.200.000,50"}
    page = text(web.get(f"/proposals/{draft}/sections/lead"))
    if stored == "1200000.50":
        assert shown[locale] in page


@pytest.mark.parametrize("locale", ["en", "fr", "de"])
def test_an_ambiguous_amount_is_refused_with_how_to_write_it(app, draft, locale):
    web = signed_in(app, "anna@company.lu", locale)
    response = web.post(
        f"/proposals/{draft}/sections/budget",
        {
            "version": current_version(app, draft),
            "total_cost_eur": "150.000" if locale != "de" else "150,000",
        },
    )
    assert response.status_code == 422
    example = {"en": "150,000.50", "fr": "150 000,50", "de": "150.000,50"}[locale]
    assert example in text(response)
    with app.app_context():
        assert db.session.get(Proposal, draft).total_cost_eur is None


def test_call_form(app):
    with app.app_context():
        f.staff("admin", "admin@agency.lu")
        call = f.call()
        db.session.commit()
        call_id = call.id
    admin = signed_in(app, "admin@agency.lu")
    good = {
        "title": "Call 1",
        "workflow_key": "bpf-single-stage",
        "opens_at": "2026-01-01T09:00",
        "closes_at": "2027-12-31T17:00",
        "cofinancing_rate": "50",
        "ceiling_eur": "200000",
        "road_haulage_ceiling_eur": "100000",
        "budget_envelope_eur": "",
        "min_company_age_years": "3",
        "min_employees": "5",
        "min_turnover_eur": "500000",
        "turnover_multiple": "3",
        "turnover_base": "requested",
    }
    numbers = [
        k
        for k in good
        if k not in ("title", "workflow_key", "opens_at", "closes_at", "turnover_base")
    ]
    for field in numbers:
        for bad in BAD:
            response = admin.post(f"/admin/calls/{call_id}/edit", {**good, field: bad})
            refused_at_field(response, bad)
    with app.app_context():
        call = db.session.get(Call, call_id)
        assert (call.cofinancing_rate, call.ceiling_eur) == (Decimal("50.00"), Decimal("200000.00"))
    for bad in BAD:
        response = admin.post(
            "/admin/programmes/new", {"code": "SGBC", "name": "SGBC", "first_year": bad}
        )
        refused_at_field(response, bad)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Programme.id))) == 1


def _people(app):
    with app.app_context():
        people = f.team()
        db.session.commit()
        return people


def _bring(app, state):
    from tests.review.test_stale import bring

    return bring(app, state)


def test_committee_amount(app):
    _people(app)
    proposal_id = _bring(app, "selection")
    committee = signed_in(app, "committee@agency.lu")
    for bad in BAD:
        response = committee.post(
            f"/review/proposals/{proposal_id}/transitions/select",
            {"version": current_version(app, proposal_id), "granted_eur": bad},
        )
        refused_at_field(response, bad)
    with app.app_context():
        proposal = db.session.get(Proposal, proposal_id)
        assert (proposal.status, proposal.granted_eur) == ("selection", None)


def test_contract_amounts(app):
    _people(app)
    proposal_id = _bring(app, "contracting")
    reviewer = signed_in(app, "reviewer@agency.lu")
    with app.app_context():
        before = db.session.scalar(sa.select(Contract).where(Contract.proposal_id == proposal_id))
        before = (before.granted_eur, [i.amount_eur for i in before.instalments])
    url = f"/review/proposals/{proposal_id}/contract"
    for field in ("granted_eur", "instalments-0-percent", "instalments-0-amount"):
        for bad in BAD:
            data = {
                "version": current_version(app, proposal_id),
                "number": "A-1",
                "instalments-0-label": "At signature",
                "instalments-0-percent": "25",
                "instalments-0-amount": "37500",
                field: bad,
            }
            response = reviewer.post(url, data)
            refused_at_field(response, bad)
    with app.app_context():
        after = db.session.scalar(sa.select(Contract).where(Contract.proposal_id == proposal_id))
        assert (after.granted_eur, [i.amount_eur for i in after.instalments]) == before


def test_score_marks(app):
    _people(app)
    proposal_id = _bring(app, "evaluation")
    reviewer = signed_in(app, "reviewer@agency.lu")
    with app.app_context():
        before = sorted(db.session.scalars(sa.select(Score.total)))
    marks = {
        f"mark_{k}": "7"
        for k in ("relevance", "impact", "viability", "innovation", "partners", "sustainability")
    }
    for bad in [*BAD, "11", "7.5"]:
        response = reviewer.post(
            f"/review/proposals/{proposal_id}/score",
            {"version": current_version(app, proposal_id), **marks, "mark_impact": bad},
        )
        refused_at_field(response, bad)
    with app.app_context():
        assert sorted(db.session.scalars(sa.select(Score.total))) == before


def test_dates_are_read_day_first_and_a_future_registration_is_refused(app, draft):
    from datetime import date, timedelta

    web = signed_in(app, "anna@company.lu")
    url = f"/proposals/{draft}/sections/lead"
    saved = web.post(
        url, {"version": current_version(app, draft), "lead_registration_date": "3/2/2015"}
    )
    assert saved.status_code == 302
    with app.app_context():
        assert db.session.get(Proposal, draft).lead_registration_date == date(2015, 2, 3)
    for typed, message in (
        ((date.today() + timedelta(days=2)).isoformat(), "cannot be in the future"),
        ("11/23/2015", "day, month and year"),
    ):
        refused = web.post(
            url, {"version": current_version(app, draft), "lead_registration_date": typed}
        )
        assert refused.status_code == 422
        assert message in text(refused)
        with app.app_context():
            assert db.session.get(Proposal, draft).lead_registration_date == date(2015, 2, 3)
