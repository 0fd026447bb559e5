"""Administrators configure programmes, calls, sectors and the HRDD clause; nobody else can."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests import factories as f
from tests.web import Web, text
from tracker.core.countries import oecd_dac_recipients
from tracker.extensions import db
from tracker.programmes.models import Call, ClauseStatus, ClauseVersion, Programme, Sector

CALL_FORM = {
    "title": "BPF call 2027-1",
    "workflow_key": "bpf-two-stage",
    "opens_at": "2027-01-15T09:00",
    "closes_at": "2027-03-31T17:00",
    "full_proposal_closes_at": "2027-06-30T17:00",
    "cofinancing_rate": "50",
    "ceiling_eur": "200000",
    "road_haulage_ceiling_eur": "100000",
    "min_company_age_years": "3",
    "min_employees": "5",
    "min_turnover_eur": "500000",
    "turnover_multiple": "3",
    "turnover_base": "requested",
}


@pytest.fixture
def admin(app, client):
    with app.app_context():
        f.staff("admin")
        f.applicant()
        programme = f.programme()
        db.session.commit()
        programme_id = programme.id
    web = Web(client)
    web.login("admin@agency.lu")
    web.programme_id = programme_id
    return web


def test_built_in_sectors_come_with_the_first_migration(app):
    with app.app_context():
        keys = set(db.session.scalars(sa.select(Sector.key).where(Sector.built_in.is_(True))))
    assert {"ict", "renewable-energy", "circular-economy", "cleantech", "covid-19", "other"} <= keys
    assert len(keys) == 13


def test_a_call_is_created_in_luxembourg_time_with_the_dac_list_by_default(app, admin):
    response = admin.post(f"/admin/programmes/{admin.programme_id}/calls/new", CALL_FORM)
    assert response.status_code == 302
    with app.app_context():
        call = db.session.scalar(sa.select(Call))
        assert call.opens_at.isoformat() == "2027-01-15T08:00:00+00:00"  # 09:00 CET
        assert call.full_proposal_closes_at.isoformat() == "2027-06-30T15:00:00+00:00"  # 17:00 CEST
        assert call.partner_countries == sorted(oecd_dac_recipients())
        assert "XK" in call.partner_countries and "VN" in call.partner_countries


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"closes_at": "2027-01-01T09:00"}, "The call must close after it opens."),
        ({"full_proposal_closes_at": ""}, "A two-stage call needs a deadline for full proposals."),
        ({"cofinancing_rate": "150"}, "Number must be between"),
        ({"ceiling_eur": "lots"}, "Use digits only."),
    ],
)
def test_bad_call_settings_are_refused_with_the_reason(app, admin, change, message):
    response = admin.post(
        f"/admin/programmes/{admin.programme_id}/calls/new", {**CALL_FORM, **change}
    )
    assert response.status_code == 200
    assert message in text(response)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Call.id))) == 0


def test_applicants_cannot_reach_administration(app, client):
    with app.app_context():
        f.applicant()
        f.programme()
        db.session.commit()
    web = Web(client)
    web.login("anna@company.lu")
    for path in ("/admin/programmes", "/admin/programmes/new", "/admin/sectors", "/admin/users"):
        assert web.get(path).status_code == 403
    assert (
        web.post(
            "/admin/programmes/new", {"code": "X", "name": "X", "first_year": "2020"}
        ).status_code
        == 403
    )
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Programme.id))) == 1


def test_sectors_can_be_added_but_not_twice(app, admin):
    assert admin.post("/admin/sectors", {"label": "Agritech"}).status_code == 302
    again = admin.post("/admin/sectors", {"label": "agritech"})
    assert "This sector exists already." in text(again)
    with app.app_context():
        assert (
            db.session.scalar(sa.select(Sector).where(Sector.key == "agritech")).label == "Agritech"
        )


def test_clause_versions_are_drafted_published_and_then_fixed(app, admin):
    assert (
        admin.post(
            "/admin/clauses/new", {"title": "Clause 2027", "text": "First text."}
        ).status_code
        == 302
    )
    with app.app_context():
        clause = db.session.scalar(sa.select(ClauseVersion))
        clause_id = clause.id
        assert clause.status == ClauseStatus.draft
    assert (
        admin.post(
            f"/admin/clauses/{clause_id}/edit", {"title": "Clause 2027", "text": "Better text."}
        ).status_code
        == 302
    )
    admin.post(f"/admin/clauses/{clause_id}/publish")
    refused = admin.post(
        f"/admin/clauses/{clause_id}/edit", {"title": "Clause 2027", "text": "Sneaky change."}
    )
    assert "Published versions are fixed" in text(refused)
    with app.app_context():
        clause = db.session.get(ClauseVersion, clause_id)
        assert clause.status == ClauseStatus.published
        assert clause.text == "Better text."


def test_the_open_calls_are_public_and_invite_a_company_to_register(app, client):
    with app.app_context():
        f.call(title="Call for green logistics")
        db.session.commit()
    page = text(client.get("/calls"))
    assert "Call for green logistics" in page
    assert 'href="/register"' in page and "Register to apply" in page
    assert "Start a proposal" not in page  # that needs an account
    assert 'href="/calls"' in text(client.get("/login"))  # reachable before signing in
