"""Registration, sign-in, passwords, invitations, staff accounts and session safety."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from config import DevelopmentConfig, ProductionConfig
from tests import factories as f
from tests.web import Web, expire_sessions, text
from tracker import create_app
from tracker.auth.models import Organisation, Role, User
from tracker.extensions import db
from tracker.notifications.models import OutboxMessage

REGISTRATION = {
    "name": "Anna Applicant",
    "email": "anna@company.lu",
    "organisation": "Company S.A.",
    "country": "LU",
    "password": "a-long-test-password",
    "confirm": "a-long-test-password",
}


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_registering_creates_the_company_and_asks_to_confirm_the_address(app, client):
    web = Web(client)
    response = web.post("/register", REGISTRATION)
    assert response.status_code == 200
    assert "Check your e-mail" in text(response)
    web.login("anna@company.lu", REGISTRATION["password"])
    page = text(web.get("/"))
    assert "Proposals of Company S.A." in page
    assert "Confirm your e-mail address" in page
    with app.app_context():
        user = db.session.scalar(sa.select(User))
        assert user.roles == {Role.applicant}
        assert user.organisation.name == "Company S.A."
        assert user.email_verified_at is None
        assert user.password_hash.startswith(("pbkdf2:", "scrypt:"))
        assert "a-long-test-password" not in user.password_hash


def test_registering_again_with_an_address_in_use_says_nothing_on_the_page(app, client):
    web = Web(client)
    first = text(web.post("/register", REGISTRATION))
    again = web.post(
        "/register", {**REGISTRATION, "email": "ANNA@Company.LU", "organisation": "Another S.A."}
    )
    assert again.status_code == 200
    assert "already exists" not in text(again)

    def same(page: str, address: str) -> str:
        # A CSRF token carries the second it was made: two pages a second apart differ there.
        page = re.sub(r'name="csrf_token" value="[^"]*"', 'name="csrf_token"', page)
        return page.replace(address, "x")

    assert same(text(again), "anna@company.lu") == same(first, "anna@company.lu"), (
        "the page is the same for a new address and one in use"
    )
    assert count(app, User) == 1
    assert count(app, Organisation) == 1
    with app.app_context():
        subjects = [
            m.subject
            for m in db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id))
        ]
    assert subjects == [
        "Confirm your e-mail address",
        "Someone tried to register with your address",
    ]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"email": "not-an-address"}, "This is not a valid e-mail address"),
        ({"password": "short", "confirm": "short"}, "Use at least 10 characters."),
        ({"confirm": "something-else-entirely"}, "The two passwords differ."),
        ({"organisation": ""}, "This field is required."),
    ],
)
def test_registration_errors_are_shown_next_to_the_field(app, client, change, message):
    response = Web(client).post("/register", {**REGISTRATION, **change})
    assert response.status_code == 200
    assert message in text(response)
    assert count(app, User) == 0


def test_typing_an_existing_company_name_does_not_join_that_company(app, client):
    web = Web(client)
    web.post("/register", REGISTRATION)
    web.logout()
    web.post("/register", {**REGISTRATION, "email": "mallory@example.com", "name": "Mallory"})
    with app.app_context():
        organisations = list(db.session.scalars(sa.select(Organisation)))
        assert len(organisations) == 2  # a separate company that happens to share the name


def test_sign_in_and_wrong_password(app, client):
    with app.app_context():
        f.applicant()
        db.session.commit()
    web = Web(client)
    wrong = web.post("/login", {"email": "anna@company.lu", "password": "wrong-password!"})
    assert wrong.status_code == 200
    assert "The e-mail or the password is not right." in text(wrong)
    right = web.post("/login", {"email": "ANNA@company.lu", "password": f.PASSWORD})
    assert right.status_code == 302


def test_failed_sign_ins_are_rate_limited(make_app):
    limited = make_app(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="3 per minute")
    client = limited.test_client()
    web = Web(client)
    token = web.token()
    codes = [
        client.post(
            "/login", data={"email": "x@y.lu", "password": "nope-nope-nope", "csrf_token": token}
        ).status_code
        for _ in range(4)
    ]
    assert codes == [200, 200, 200, 429]
    assert "Too many attempts" in text(client.post("/login", data={"csrf_token": token}))


def test_session_cookie_is_http_only_and_same_site(app, client):
    with app.app_context():
        f.applicant()
        db.session.commit()
    response = Web(client).login("anna@company.lu")
    cookie = next(
        v for k, v in response.headers.items() if k == "Set-Cookie" and v.startswith("session=")
    )
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie


def test_production_marks_cookies_secure_and_needs_a_secret_key(monkeypatch, tmp_path):
    monkeypatch.setenv("TRACKER_INSTANCE_PATH", str(tmp_path))
    with pytest.raises(RuntimeError, match="TRACKER_SECRET_KEY"):
        create_app(ProductionConfig, {"SECRET_KEY": None, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    with pytest.raises(RuntimeError, match="TRACKER_HISTORY_KEY"):
        create_app(
            ProductionConfig, {"SECRET_KEY": "x" * 40, "SQLALCHEMY_DATABASE_URI": "sqlite://"}
        )
    app = create_app(
        ProductionConfig,
        {"SECRET_KEY": "x" * 40, "HISTORY_KEY": "y" * 40, "SQLALCHEMY_DATABASE_URI": "sqlite://"},
    )
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["WTF_CSRF_TIME_LIMIT"] is None
    # Browsers are told to use HTTPS only.
    response = app.test_client().get("/login")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    development = create_app(DevelopmentConfig, {"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert "Strict-Transport-Security" not in development.test_client().get("/login").headers
    # Development keeps a generated history key in the instance folder, readable only there.
    assert (tmp_path / "history_key").stat().st_mode & 0o077 == 0


def test_changing_the_password_signs_out_other_sessions(app):
    with app.app_context():
        f.applicant()
        db.session.commit()
    first, second = Web(app.test_client()), Web(app.test_client())
    first.login("anna@company.lu")
    second.login("anna@company.lu")
    response = first.post(
        "/account/password",
        {
            "current_password": f.PASSWORD,
            "password": "another-long-password",
            "confirm": "another-long-password",
        },
    )
    assert response.status_code == 302
    assert first.get("/").status_code == 200
    assert second.get("/").status_code == 302  # sent to sign in
    Web(app.test_client()).login("anna@company.lu", "another-long-password")


def test_a_colleague_joins_by_invitation_only(app, client):
    with app.app_context():
        call = f.call()
        anna = f.applicant()
        proposal = f.draft(call, anna)
        db.session.commit()
        proposal_id = proposal.id
    web = Web(client)
    web.login("anna@company.lu")
    page = text(web.post("/organisation", {"email": ""}))
    link = re.search(
        r'id="invitation-link"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*id="invitation-link"', page
    )
    url = next(g for g in link.groups() if g)
    path = url.split("localhost", 1)[1]

    colleague = Web(app.test_client())
    form = colleague.get(path)
    assert "Join Company S.A." in text(form)
    joined = colleague.post(
        path,
        {
            "name": "Carla",
            "email": "carla@company.lu",
            "password": "carla-long-password",
            "confirm": "carla-long-password",
        },
    )
    assert joined.status_code == 302
    assert (
        colleague.get(f"/proposals/{proposal_id}").status_code == 200
    )  # shares the company's proposals
    with app.app_context():
        carla = db.session.scalar(sa.select(User).where(User.email == "carla@company.lu"))
        assert carla.organisation.name == "Company S.A."

    reuse = Web(app.test_client()).get(path)
    assert reuse.status_code == 404
    assert Web(app.test_client()).get("/invitations/made-up-token").status_code == 404


def test_an_invitation_for_an_address_is_for_that_address(app, client):
    with app.app_context():
        f.applicant()
        db.session.commit()
    web = Web(client)
    web.login("anna@company.lu")
    page = text(web.post("/organisation", {"email": "carla@company.lu"}))
    url = re.search(r'value="(http://localhost/invitations/[^"]+)"', page).group(1)
    path = url.split("localhost", 1)[1]
    other = Web(app.test_client())
    response = other.post(
        path,
        {
            "name": "Eve",
            "email": "eve@evil.example",
            "password": "eve-long-password",
            "confirm": "eve-long-password",
        },
    )
    assert "This invitation is for another e-mail address." in text(response)
    assert count(app, User) == 1


def test_administrators_create_staff_accounts_and_others_may_not(app, client):
    with app.app_context():
        f.staff("admin")
        f.staff("reviewer")
        db.session.commit()
    reviewer = Web(app.test_client())
    reviewer.login("reviewer@agency.lu")
    assert reviewer.get("/admin/users").status_code == 403
    assert (
        reviewer.post(
            "/admin/users/new", {"name": "X", "email": "x@agency.lu", "roles": "admin"}
        ).status_code
        == 403
    )

    admin = Web(client)
    admin.login("admin@agency.lu")
    created = admin.post(
        "/admin/users/new",
        {"name": "Hana", "email": "hana@agency.lu", "roles": ["hrdd", "committee"]},
    )
    assert created.status_code == 200
    password = re.search(r'id="one-time-password">([^<]+)<', text(created)).group(1)
    hana = Web(app.test_client())
    response = hana.post("/login", {"email": "hana@agency.lu", "password": password})
    assert response.headers["Location"].endswith("/account/password")  # asked to choose their own
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == "hana@agency.lu"))
        assert user.roles == {Role.hrdd, Role.committee}


def test_an_expired_session_keeps_what_was_typed(app, client):
    with app.app_context():
        call = f.call()
        anna = f.applicant()
        proposal = f.draft(call, anna)
        db.session.commit()
        proposal_id, version = proposal.id, proposal.version
    web = Web(client)
    web.login("anna@company.lu")
    token = web.token()
    expire_sessions(app, "anna@company.lu")  # the session expired while the form was open
    long_text = "Our pilot brings solar cold rooms to three cooperatives. " * 20
    response = client.post(
        f"/proposals/{proposal_id}/sections/project",
        data={"csrf_token": token, "version": version, "title": "Cold chain", "summary": long_text},
    )
    assert response.status_code == 302
    assert "/login?next=" in response.headers["Location"]
    signed_in = web.post(
        "/login",
        {
            "email": "anna@company.lu",
            "password": f.PASSWORD,
            "next": f"/proposals/{proposal_id}/sections/project",
        },
    )
    assert signed_in.headers["Location"] == f"/proposals/{proposal_id}/sections/project"
    page = text(web.get(signed_in.headers["Location"]))
    assert 'value="Cold chain"' in page
    assert long_text.strip()[:80] in page
    assert "not saved yet" in page
    # Once shown, the kept text is gone from storage.
    assert "Cold chain" not in text(web.get(f"/proposals/{proposal_id}/sections/project"))


def test_sign_in_only_follows_local_next_addresses(app, client):
    with app.app_context():
        f.applicant()
        db.session.commit()
    response = Web(client).post(
        "/login",
        {"email": "anna@company.lu", "password": f.PASSWORD, "next": "https://evil.example/phish"},
    )
    assert response.headers["Location"] == "/"


@pytest.fixture
def hrdd_officer_whose_session_expires(app, client):
    """A proposal in HRDD review and its officer, signed in; expire() ends the session."""
    with app.app_context():
        people = f.team()
        proposal = f.bring_to("hrdd_review", f.call(), f.applicant(), people)
        db.session.commit()
        proposal_id, version = proposal.id, proposal.version
    web = Web(client)
    web.login("hrdd@agency.lu")
    token = web.token()

    def expire():
        expire_sessions(app, "hrdd@agency.lu")
        return token

    def sign_in_again(next_path):
        return web.post(
            "/login", {"email": "hrdd@agency.lu", "password": f.PASSWORD, "next": next_path}
        )

    return proposal_id, version, web, expire, sign_in_again


def test_an_expired_session_on_a_staff_action_returns_to_the_page_of_the_form(
    app, client, hrdd_officer_whose_session_expires
):
    proposal_id, version, web, expire, sign_in_again = hrdd_officer_whose_session_expires
    token = expire()
    response = client.post(
        f"/review/proposals/{proposal_id}/transitions/reject_hrdd",
        data={"csrf_token": token, "version": version, "comment": "Long reasoning..."},
        headers={"Referer": f"http://localhost/review/proposals/{proposal_id}"},
    )
    assert response.headers["Location"].endswith(f"/login?next=/review/proposals/{proposal_id}")
    back = sign_in_again(f"/review/proposals/{proposal_id}")
    assert web.get(back.headers["Location"]).status_code == 200
    with app.app_context():
        assert db.session.get(f.Proposal, proposal_id).status == "hrdd_review"  # nothing was done


def test_an_expired_session_keeps_a_long_hrdd_assessment(
    app, client, hrdd_officer_whose_session_expires
):
    proposal_id, version, web, expire, sign_in_again = hrdd_officer_whose_session_expires
    token = expire()
    summary = "The supply chain relies on seasonal workers; housing conditions need checking. " * 10
    client.post(
        f"/review/proposals/{proposal_id}/hrdd",
        data={"csrf_token": token, "version": version, "summary": summary, "risk_category": "A"},
    )
    back = sign_in_again(f"/review/proposals/{proposal_id}/hrdd")
    page = text(web.get(back.headers["Location"]))
    assert summary.strip()[:100] in page
    assert '<option selected value="A">' in page


def test_successful_sign_ins_do_not_use_up_the_limit(app, make_app):
    with app.app_context():
        f.applicant()
        db.session.commit()
    limited = make_app(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="2 per minute")
    for _ in range(4):
        web = Web(limited.test_client())
        assert (
            web.post("/login", {"email": "anna@company.lu", "password": f.PASSWORD}).status_code
            == 302
        )
