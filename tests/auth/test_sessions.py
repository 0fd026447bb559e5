"""Sessions end on the server; what is kept after an expiry is bounded and only the owner's."""

from __future__ import annotations

import sqlalchemy as sa

from tests import factories as f
from tests.web import Web, expire_sessions, text
from tracker.auth.models import FormStash, User, UserSession
from tracker.extensions import db


def people(app):
    with app.app_context():
        call = f.call()
        anna = f.applicant()
        proposal = f.draft(call, anna)
        f.applicant("bob@other.lu", "Other S.A.")
        db.session.commit()
        return proposal.id, proposal.version


def stashes(app) -> list[FormStash]:
    with app.app_context():
        return list(db.session.scalars(sa.select(FormStash)))


def test_a_cookie_copied_before_sign_out_opens_nothing_after(app):
    proposal_id, _version = people(app)
    browser = Web(app.test_client())
    browser.login("anna@company.lu")
    copied = browser.client.get_cookie("session").value
    assert browser.get(f"/proposals/{proposal_id}").status_code == 200
    browser.logout()

    thief = app.test_client()
    thief.set_cookie("session", copied)
    for path in (f"/proposals/{proposal_id}", "/", "/account", "/notifications/"):
        response = thief.get(path)
        assert response.status_code == 302, path
        assert "/login" in response.headers["Location"]


def test_sign_out_on_every_device(app):
    people(app)
    phone, laptop = Web(app.test_client()), Web(app.test_client())
    phone.login("anna@company.lu")
    laptop.login("anna@company.lu")
    page = text(laptop.get("/account"))
    assert page.count('badge text-bg-info text-dark">this browser') == 1
    assert "Sign out on every device" in page
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(UserSession.id))) == 2
    response = laptop.post("/account/sessions/end-all")
    assert response.status_code == 302
    assert phone.get("/").status_code == 302  # signed out there too
    assert laptop.get("/").status_code == 302
    with app.app_context():
        assert all(s.ended_at is not None for s in db.session.scalars(sa.select(UserSession)))


def test_one_session_can_be_ended_from_another(app):
    people(app)
    phone, laptop = Web(app.test_client()), Web(app.test_client())
    phone.login("anna@company.lu")
    laptop.login("anna@company.lu")
    with app.app_context():
        first = db.session.scalar(sa.select(UserSession).order_by(UserSession.id))
    assert laptop.post(f"/account/sessions/{first.id}/end").status_code == 302
    assert phone.get("/").status_code == 302
    assert laptop.get("/").status_code == 200
    # Someone else's session cannot be ended (nor seen) from this account.
    bob = Web(app.test_client())
    bob.login("bob@other.lu")
    with app.app_context():
        laptops = db.session.scalar(
            sa.select(UserSession).where(UserSession.ended_at.is_(None)).order_by(UserSession.id)
        )
    assert bob.post(f"/account/sessions/{laptops.id}/end").status_code == 404
    assert laptop.get("/").status_code == 200


def test_an_idle_session_ends(app):
    people(app)
    web = Web(app.test_client())
    web.login("anna@company.lu")
    expire_sessions(app, "anna@company.lu")
    assert web.get("/").status_code == 302


def test_a_deactivated_account_is_signed_out_everywhere(app):
    people(app)
    with app.app_context():
        f.staff("admin", "admin@agency.lu")
        db.session.commit()
        anna_id = db.session.scalar(sa.select(User.id).where(User.email == "anna@company.lu"))
    anna = Web(app.test_client())
    anna.login("anna@company.lu")
    admin = Web(app.test_client())
    admin.login("admin@agency.lu")
    saved = admin.post(f"/admin/users/{anna_id}", {"roles": ["applicant"]})  # active unticked
    assert saved.status_code == 302
    assert anna.get("/").status_code == 302


def test_expired_sessions_keep_only_allowed_forms(app):
    proposal_id, version = people(app)
    web = Web(app.test_client())
    web.login("anna@company.lu")
    token = web.token()
    expire_sessions(app, "anna@company.lu")
    # The password form is never kept, even for its owner.
    web.client.post(
        "/account/password",
        data={"csrf_token": token, "current_password": "secret-1", "password": "x", "confirm": "x"},
    )
    assert stashes(app) == []
    # A proposal section is.
    response = web.client.post(
        f"/proposals/{proposal_id}/sections/project",
        data={"csrf_token": token, "version": version, "title": "Cold chain"},
    )
    assert response.status_code == 302
    [kept] = stashes(app)
    assert dict(kept.data["items"]) == {"version": str(version), "title": "Cold chain"}


def test_anonymous_posts_store_nothing(app):
    proposal_id, version = people(app)
    stranger = Web(app.test_client())
    token = stranger.token()
    for _ in range(20):
        response = stranger.client.post(
            f"/proposals/{proposal_id}/sections/project",
            data={"csrf_token": token, "version": version, "title": "x" * 1000},
        )
        assert response.status_code == 302
    assert stashes(app) == []


def test_what_is_kept_is_bounded_in_size_and_count(app):
    proposal_id, version = people(app)
    web = Web(app.test_client())
    web.login("anna@company.lu")
    token = web.token()
    expire_sessions(app, "anna@company.lu")
    too_big = web.client.post(
        f"/proposals/{proposal_id}/sections/project",
        data={"csrf_token": token, "version": version, "summary": "x" * (70 * 1024)},
        follow_redirects=True,
    )
    assert "too long to be kept" in text(too_big)
    assert stashes(app) == []
    for n in range(5):
        web.client.post(
            f"/proposals/{proposal_id}/sections/project",
            data={"csrf_token": token, "version": version, "title": f"Try {n}"},
        )
    assert len(stashes(app)) == 5
    refused = web.client.post(
        f"/proposals/{proposal_id}/sections/project",
        data={"csrf_token": token, "version": version, "title": "Sixth"},
        follow_redirects=True,
    )
    assert "are already kept for you" in text(refused)
    assert len(stashes(app)) == 5


def test_a_kept_form_goes_back_only_to_its_owner(app):
    proposal_id, version = people(app)
    with app.app_context():
        f.applicant("carla@company.lu", "Company S.A.")  # a colleague of Anna's
        db.session.commit()
    web = Web(app.test_client())
    web.login("anna@company.lu")
    token = web.token()
    expire_sessions(app, "anna@company.lu")
    web.client.post(
        f"/proposals/{proposal_id}/sections/project",
        data={"csrf_token": token, "version": version, "title": "Anna's draft title"},
    )
    # A colleague signs in on the same browser: the kept form is not theirs.
    web.login("carla@company.lu")
    assert "Anna&#39;s draft title" not in text(
        web.get(f"/proposals/{proposal_id}/sections/project")
    )
    web.logout()
    web.login("anna@company.lu")
    page = text(web.get(f"/proposals/{proposal_id}/sections/project"))
    assert 'value="Anna&#39;s draft title"' in page or "Anna&#39;s draft title" in page
