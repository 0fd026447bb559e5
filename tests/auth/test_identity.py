"""Passwords people cannot guess, and organisations joined by identity, never by name."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests import factories as f
from tests.web import Web, text
from tracker.auth.models import Organisation, User
from tracker.extensions import db

REGISTRATION = {
    "name": "Anna Applicant",
    "email": "anna@company.lu",
    "organisation": "Company S.A.",
    "country": "LU",
}


@pytest.mark.parametrize(
    "password", ["password123", "qwertyuiop12", "Luxembourg1", "anna@company.lu", "1234567890"]
)
def test_common_or_guessable_passwords_are_refused_with_the_rule(app, client, password):
    web = Web(client)
    form = text(web.get("/register"))
    assert "not a common password" in form  # the rule is on the form
    response = web.post("/register", {**REGISTRATION, "password": password, "confirm": password})
    assert response.status_code == 200
    assert "too common or too easy to guess" in text(response)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(User.id))) == 0


def test_a_good_passphrase_is_accepted(app, client):
    phrase = "tide lantern copper meadow"
    response = Web(client).post(
        "/register", {**REGISTRATION, "password": phrase, "confirm": phrase}
    )
    assert response.status_code == 200
    assert "Check your e-mail" in text(response)


def organisations(app, name):
    with app.app_context():
        return [
            (o.id, len(o.members))
            for o in db.session.scalars(sa.select(Organisation).where(Organisation.name == name))
        ]


def test_the_command_line_never_joins_an_organisation_by_its_name(app, runner):
    # A company registers itself as "Acme S.A." (perhaps to catch mail meant for the real one).
    with app.app_context():
        f.applicant("squatter@evil.example", "Acme S.A.")
        db.session.commit()
    [(squatted_id, _n)] = organisations(app, "Acme S.A.")
    create = ["users", "create", "--email", "ceo@acme.lu", "--name", "CEO", "--role", "applicant"]
    refused = runner.invoke(args=[*create, "--organisation", "acme s.a. "])
    assert refused.exit_code == 1
    assert "An organisation with this name exists already" in refused.output
    assert f"no. {squatted_id}" in refused.output
    assert organisations(app, "Acme S.A.") == [(squatted_id, 1)]  # nobody was added

    separate = runner.invoke(args=[*create, "--organisation", "Acme S.A.", "--new-organisation"])
    assert separate.exit_code == 0, separate.output
    assert sorted(n for _id, n in organisations(app, "Acme S.A.")) == [1, 1]
    joined = runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            "cfo@acme.lu",
            "--name",
            "CFO",
            "--role",
            "applicant",
            "--organisation-id",
            str(squatted_id),
        ]
    )
    assert joined.exit_code == 0, joined.output
    assert (squatted_id, 2) in organisations(app, "Acme S.A.")


def test_administrators_add_a_person_to_an_organisation_chosen_by_number(app):
    with app.app_context():
        f.applicant("squatter@evil.example", "Acme S.A.")
        # The real company registers itself later: its own organisation, with the same name.
        from tracker.auth.operations import register_applicant

        register_applicant(
            email="real@acme.lu",
            name="Real",
            password="tide lantern copper meadow",
            organisation_name="ACME S.A.",
            country="LU",
        )
        f.staff("admin", "admin@agency.lu")
        db.session.commit()
        ids = sorted(o.id for o in db.session.scalars(sa.select(Organisation)))
    admin = Web(app.test_client())
    admin.login("admin@agency.lu")
    listing = text(admin.get("/admin/organisations"))
    assert listing.count("same name as another organisation") == 2
    by_name = admin.post(
        "/admin/users/new",
        {"name": "New", "email": "new@acme.lu", "roles": "applicant", "organisation": "Acme S.A."},
    )
    assert "An organisation with this name exists already" in text(by_name)
    joined = admin.post(
        f"/admin/users/new?organisation_id={ids[1]}",
        {
            "name": "New",
            "email": "new@acme.lu",
            "roles": "applicant",
            "organisation_id": str(ids[1]),
        },
    )
    assert joined.status_code == 200
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == "new@acme.lu"))
        assert user.organisation_id == ids[1]


def test_registrations_and_password_changes_are_limited(app, make_app):
    limited = make_app(
        RATELIMIT_ENABLED=True, REGISTER_RATE_LIMIT="2 per minute", LOGIN_RATE_LIMIT="2 per minute"
    )
    web = Web(limited.test_client())
    statuses = [
        web.post(
            "/register", {**REGISTRATION, "email": f"a{n}@x.lu", "password": "x", "confirm": "x"}
        ).status_code
        for n in range(4)
    ]
    assert statuses == [200, 200, 429, 429]
    with app.app_context():
        f.applicant("bob@other.lu", "Other S.A.")
        db.session.commit()
    bob = Web(make_app(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="2 per minute").test_client())
    bob.login("bob@other.lu")
    wrong = {
        "current_password": "not it",
        "password": "tide lantern copper",
        "confirm": "tide lantern copper",
    }
    assert [bob.post("/account/password", wrong).status_code for _ in range(3)] == [200, 200, 429]
