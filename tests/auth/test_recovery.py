"""Account basics a person handles alone: a forgotten password, a verified address, a second
factor; and what an administrator does: reset a second factor, deactivate an account."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pyotp
import pytest
import sqlalchemy as sa

from tests import factories as f
from tests.web import Web, text
from tracker.auth.models import AccountToken, User, UserSession
from tracker.core.time import utcnow
from tracker.extensions import db
from tracker.notifications.models import OutboxMessage

LINK = re.compile(r"http://[^\s>\"]+/(?:password/reset|verify)/[A-Za-z0-9_\-]+")
NEW_PASSWORD = "harbour violet quarry lemon"


def _mails(app, address) -> list[OutboxMessage]:
    with app.app_context():
        rows = list(
            db.session.scalars(
                sa.select(OutboxMessage)
                .where(OutboxMessage.to_address == address)
                .order_by(OutboxMessage.id)
            )
        )
        db.session.expunge_all()
        return rows


def _link(message: OutboxMessage) -> str:
    path = LINK.search(message.body_text).group(0)
    return "/" + path.split("/", 3)[3]


def _person(app, *roles, email="anna@company.lu", verified=True):
    with app.app_context():
        user = f.applicant(email) if not roles else f.user(email, *roles)
        if not verified:
            user.email_verified_at = None
        db.session.commit()
        return user.id


# --- a forgotten password --------------------------------------------------------------------


def test_the_sign_in_page_offers_a_reset(app, client):
    assert "Forgot your password?" in text(client.get("/login"))


def test_a_reset_link_works_once_and_ends_every_session(app):
    _person(app)
    elsewhere = Web(app.test_client())
    elsewhere.login("anna@company.lu")

    web = Web(app.test_client())
    asked = web.post("/password/forgot", {"email": "Anna@Company.lu"})
    assert asked.status_code == 200 and "Check your e-mail" in text(asked)
    [message] = _mails(app, "anna@company.lu")
    assert message.kind == "account"
    link = _link(message)

    assert web.get(link).status_code == 200
    weak = web.post(link, {"password": "password123", "confirm": "password123"})
    assert weak.status_code == 200 and "too common" in text(weak)
    done = web.post(link, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert done.status_code == 302
    assert elsewhere.get("/account").status_code == 302, "the other session has ended"
    web.login("anna@company.lu", NEW_PASSWORD)

    again = Web(app.test_client())
    assert again.get(link).status_code == 404
    assert "works once" in text(again.get(link))
    assert (
        again.post(link, {"password": "another phrase entirely 9", "confirm": "x"}).status_code
        == 404
    )


def test_a_reset_link_expires_after_an_hour_and_only_the_newest_works(app):
    _person(app)
    web = Web(app.test_client())
    web.post("/password/forgot", {"email": "anna@company.lu"})
    web.post("/password/forgot", {"email": "anna@company.lu"})
    first, second = (_link(m) for m in _mails(app, "anna@company.lu"))
    assert web.get(first).status_code == 404, "a newer link replaces the older"
    assert web.get(second).status_code == 200
    with app.app_context():
        db.session.execute(
            sa.update(AccountToken).values(expires_at=utcnow() - timedelta(seconds=1))
        )
        db.session.commit()
    assert web.get(second).status_code == 404


def test_a_reset_never_says_whether_an_address_has_an_account(app):
    _person(app)
    web = Web(app.test_client())
    known = text(web.post("/password/forgot", {"email": "anna@company.lu"}))
    unknown = text(web.post("/password/forgot", {"email": "nobody@company.lu"}))
    assert known.replace("anna@company.lu", "x") == unknown.replace("nobody@company.lu", "x")
    assert _mails(app, "nobody@company.lu") == []
    assert len(_mails(app, "anna@company.lu")) == 1
    malformed = web.post("/password/forgot", {"email": "not an address"})
    assert malformed.status_code == 200


def test_a_deactivated_account_gets_no_reset_and_cannot_sign_in(app):
    _person(app)
    admin_id = _person(app, "admin", email="admin@agency.lu")
    with app.app_context():
        anna = db.session.scalar(sa.select(User).where(User.email == "anna@company.lu"))
        admin = db.session.get(User, admin_id)
        from tracker.auth.operations import update_user

        update_user(anna, roles=["applicant"], active=False, acting=admin)
        db.session.commit()
    web = Web(app.test_client())
    web.post("/password/forgot", {"email": "anna@company.lu"})
    assert _mails(app, "anna@company.lu") == []
    refused = web.post("/login", {"email": "anna@company.lu", "password": f.PASSWORD})
    assert refused.status_code == 200
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(User.id))) == 2, "the history stays"


# --- verifying the address -------------------------------------------------------------------


def test_an_unverified_applicant_fills_drafts_but_submits_only_once_verified(app):
    from tracker.proposals.models import Proposal
    from tracker.workflow.operations import GuardFailed, perform_transition

    with app.app_context():
        anna = f.applicant()
        anna.email_verified_at = None
        proposal = f.fill(f.draft(f.call(), anna), anna)
        db.session.commit()
        with pytest.raises(GuardFailed) as refused:
            perform_transition(proposal, "submit", anna)
        assert any("Confirm your e-mail address" in p for p in refused.value.problems)
        db.session.rollback()
        proposal_id = proposal.id

    web = Web(app.test_client())
    web.login("anna@company.lu")
    page = text(web.get(f"/proposals/{proposal_id}/submit"))
    assert "Confirm your e-mail address" in page
    assert web.post("/account/verify/again").status_code == 302
    [message] = _mails(app, "anna@company.lu")
    link = _link(message)
    assert "/verify/" in link
    assert "Confirm my address" in text(web.get(link)), "opening the link confirms nothing yet"
    with app.app_context():
        assert db.session.scalar(sa.select(User.email_verified_at)) is None
    assert web.post(link).status_code == 302
    with app.app_context():
        assert db.session.scalar(sa.select(User.email_verified_at)) is not None
        proposal = db.session.get(Proposal, proposal_id)
        perform_transition(proposal, "submit", db.session.scalar(sa.select(User)))
        db.session.commit()
    assert web.post(link).status_code == 404, "the link works once"


# --- two-factor sign-in ----------------------------------------------------------------------


def _turn_on(web) -> tuple[str, list[str]]:
    page = text(web.get("/account/two-factor"))
    assert "<svg" in page, "the QR code is drawn by the app itself"
    secret = re.search(r'name="secret" type="hidden" value="([A-Z2-7]{32})"', page).group(1)
    wrong = web.post("/account/two-factor", {"secret": secret, "code": "000000"})
    assert "not the one your app shows" in text(wrong)
    done = web.post("/account/two-factor", {"secret": secret, "code": pyotp.TOTP(secret).now()})
    codes = re.findall(r"<li>([0-9a-f]{5}-[0-9a-f]{5})</li>", text(done))
    assert len(codes) == 10
    return secret, codes


def test_two_factor_sign_in_with_the_app_and_with_a_recovery_code(app):
    _person(app)
    web = Web(app.test_client())
    web.login("anna@company.lu")
    secret, codes = _turn_on(web)
    web.logout()

    first = web.post("/login", {"email": "anna@company.lu", "password": f.PASSWORD})
    assert first.headers["Location"].endswith("/login/code")
    assert web.get("/account").status_code == 302, "not signed in before the second step"
    wrong = web.post("/login/code", {"code": "123456"})
    assert "This code is not right" in text(wrong)
    # The code of the present step was spent turning it on; the next one is accepted too
    # (the phone's clock may be ahead).
    code = pyotp.TOTP(secret).at(time.time() + 30)
    assert web.post("/login/code", {"code": code}).status_code == 302
    assert web.get("/account").status_code == 200
    web.logout()

    web.post("/login", {"email": "anna@company.lu", "password": f.PASSWORD})
    reused = web.post("/login/code", {"code": code})
    assert "This code is not right" in text(reused), "a code works once"
    assert web.post("/login/code", {"code": codes[0].upper()}).status_code == 302
    web.logout()
    web.post("/login", {"email": "anna@company.lu", "password": f.PASSWORD})
    assert "This code is not right" in text(web.post("/login/code", {"code": codes[0]}))


def test_too_many_wrong_codes_send_the_person_back_to_the_password(app):
    _person(app)
    web = Web(app.test_client())
    web.login("anna@company.lu")
    _turn_on(web)
    web.logout()
    web.post("/login", {"email": "anna@company.lu", "password": f.PASSWORD})
    for _ in range(4):
        web.post("/login/code", {"code": "111111"})
    last = web.post("/login/code", {"code": "111111"})
    assert last.status_code == 302 and last.headers["Location"].endswith("/login")
    assert web.get("/login/code").headers["Location"].endswith("/login")


def test_staff_must_set_up_a_second_factor_when_the_agency_requires_it(make_app):
    strict = make_app(REQUIRE_2FA_FOR_STAFF=True)
    _person(strict, "reviewer", email="reviewer@agency.lu")
    _person(strict)
    web = Web(strict.test_client())
    signed_in = web.post("/login", {"email": "reviewer@agency.lu", "password": f.PASSWORD})
    assert signed_in.headers["Location"].endswith("/account/two-factor")
    assert web.get("/review/proposals").headers["Location"].endswith("/account/two-factor")
    _turn_on(web)
    assert web.get("/review/proposals").status_code == 200
    page = text(web.get("/account/two-factor"))
    assert "Turn two-factor sign-in off" not in page, "staff keep it"
    assert web.post("/account/two-factor/off", {"password": f.PASSWORD}).status_code == 302
    with strict.app_context():
        assert db.session.scalar(
            sa.select(User.totp_enabled_at).where(User.email == "reviewer@agency.lu")
        )

    applicant = Web(strict.test_client())
    assert (
        applicant.post("/login", {"email": "anna@company.lu", "password": f.PASSWORD})
        .headers["Location"]
        .endswith("/")
    ), "applicants are not asked"


def test_an_administrator_resets_a_lost_second_factor_and_it_is_recorded(app):
    user_id = _person(app)
    _person(app, "admin", email="admin@agency.lu")
    web = Web(app.test_client())
    web.login("anna@company.lu")
    _turn_on(web)

    admin = Web(app.test_client())
    admin.login("admin@agency.lu")
    page = text(admin.get(f"/admin/users/{user_id}"))
    assert "Reset the second factor" in page
    assert admin.post(f"/admin/users/{user_id}/two-factor/reset").status_code == 302
    assert web.get("/account").status_code == 302, "whoever holds the lost phone is signed out"
    page = text(admin.get(f"/admin/users/{user_id}"))
    assert "Two-factor sign-in" in page and "Admin" in page
    with app.app_context():
        user = db.session.get(User, user_id)
        assert user.totp_enabled_at is None and user.totp_secret is None
        assert (
            db.session.scalar(
                sa.select(sa.func.count(UserSession.id)).where(
                    UserSession.user_id == user_id, UserSession.ended_at.is_(None)
                )
            )
            == 0
        )
    fresh = Web(app.test_client())
    assert (
        fresh.post("/login", {"email": "anna@company.lu", "password": f.PASSWORD})
        .headers["Location"]
        .endswith("/")
    )

    applicant = Web(app.test_client())
    applicant.login("anna@company.lu")
    assert applicant.post(f"/admin/users/{user_id}/two-factor/reset").status_code == 403
