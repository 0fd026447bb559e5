"""The agency's identity: set by an administrator, shown on pages, e-mails, receipts, reports."""

from __future__ import annotations

import io

import pytest

from tests import factories as f
from tests.web import Web, text
from tracker.extensions import db
from tracker.identity import operations as ops


@pytest.fixture
def admin(app):
    with app.app_context():
        f.staff("admin", "admin@agency.lu")
        f.applicant()
        db.session.commit()
    web = Web(app.test_client())
    web.login("admin@agency.lu")
    yield web
    ops.forget()


def _post(admin, **changes):
    data = {
        "name": "Luxembourg Aid & Development",
        "colour": "#0b4a9e",
        "contact_email": "bpf@lux-development.lu",
        "contact_text": "10, Garden Street, L-2000 Luxembourg",
        "legal_url": "https://lux-development.lu/legal",
        "privacy_url": "https://lux-development.lu/privacy",
        **changes,
    }
    return admin.post("/admin/identity", data=data, content_type="multipart/form-data")


def test_the_administrator_names_the_agency_and_every_page_shows_it(app, admin):
    response = _post(admin, logo=(io.BytesIO(f.png_bytes((64, 32))), "logo.png"))
    assert response.status_code == 302
    page = text(Web(app.test_client()).get("/calls"))  # before signing in
    assert "Luxembourg Aid &amp; Development" in page
    assert 'href="https://lux-development.lu/privacy"' in page and "Legal notice" in page
    assert "background-color: #0b4a9e" in page
    logo = app.test_client().get("/identity/logo")
    assert logo.status_code == 200 and logo.mimetype == "image/png"
    with app.app_context():
        entries = db.session.execute(
            db.text("SELECT count(*) FROM audit_entries WHERE object_type = 'agency_identity'")
        ).scalar()
    assert entries == 1


def test_a_colour_too_light_for_white_text_is_refused_with_its_contrast(app, admin):
    response = _post(admin, colour="#7fb2ff")
    assert response.status_code == 422
    page = text(response)
    assert "contrast of 2." in page and "at least 4.5:1" in page
    assert ops.contrast_with_white("#0b4a9e") >= 4.5 > ops.contrast_with_white("#3d8bfd")


def test_a_logo_that_is_not_an_image_is_refused_and_nothing_is_saved(app, admin):
    response = _post(admin, logo=(io.BytesIO(b"<svg onload=alert(1)></svg>"), "logo.svg"))
    assert response.status_code == 422
    assert "must be a PNG or JPEG image" in text(response)
    assert app.test_client().get("/identity/logo").status_code == 404
    with app.app_context():
        assert ops.current_identity().name != "Luxembourg Aid & Development"


def test_only_an_administrator_may_change_it(app, admin):
    applicant = Web(app.test_client())
    applicant.login("anna@company.lu")
    assert applicant.get("/admin/identity").status_code == 403
    assert applicant.post("/admin/identity", data={"name": "Mine"}).status_code in (400, 403)


def test_e_mails_and_the_receipt_carry_the_agency_name(app, admin):
    _post(admin)
    with app.test_request_context():
        from tracker.notifications.mail import _agency_name

        assert _agency_name() == "Luxembourg Aid & Development"
    with app.app_context():
        from tracker.auth.models import User

        anna = db.session.scalar(db.select(User).where(User.email == "anna@company.lu"))
        proposal = f.submitted(f.call(), anna)
        db.session.commit()
        proposal_id, requested = proposal.id, proposal.requested_eur
    owner = Web(app.test_client())
    owner.login("anna@company.lu")
    receipt = text(owner.get(f"/proposals/{proposal_id}/receipt"))
    assert 'id="receipt-agency">Luxembourg Aid &amp; Development' in receipt
    assert f"{requested:,.2f}" in receipt  # the amounts requested are on it
