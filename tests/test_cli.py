"""The command line of DESIGN section 6: `tracker users create` and `tracker history verify`."""

from __future__ import annotations

import sqlalchemy as sa

from tracker.auth.models import Organisation, Role, User
from tracker.extensions import db


def users(app):
    with app.app_context():
        return {
            u.email: (u.roles, u.organisation.name if u.organisation else None)
            for u in db.session.scalars(sa.select(User))
        }


def test_create_a_staff_user_with_several_roles_and_a_one_time_password(app, runner):
    result = runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            "Hana@Agency.lu",
            "--name",
            "Hana",
            "--role",
            "hrdd",
            "--role",
            "committee",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "One-time password:" in result.output
    assert users(app) == {"hana@agency.lu": ({Role.hrdd, Role.committee}, None)}


def test_an_applicant_needs_an_organisation_which_is_created_if_new(app, runner):
    missing = runner.invoke(
        args=["users", "create", "--email", "a@b.lu", "--name", "A", "--role", "applicant"]
    )
    assert missing.exit_code == 1
    assert "An applicant needs an organisation." in missing.output
    created = runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            "a@b.lu",
            "--name",
            "A",
            "--role",
            "applicant",
            "--organisation",
            "Acme S.A.",
            "--password-stdin",
        ],
        input="a-long-password\n",
    )
    assert created.exit_code == 0, created.output
    assert "One-time password" not in created.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Organisation.id))) == 1


def test_an_email_in_use_is_an_error(app, runner):
    runner.invoke(
        args=["users", "create", "--email", "x@agency.lu", "--name", "X", "--role", "admin"]
    )
    again = runner.invoke(
        args=["users", "create", "--email", "X@AGENCY.LU", "--name", "Y", "--role", "reviewer"]
    )
    assert again.exit_code == 1
    assert "already exists" in again.output
    assert len(users(app)) == 1


def test_unknown_roles_are_refused(runner):
    result = runner.invoke(
        args=["users", "create", "--email", "x@y.lu", "--name", "X", "--role", "king"]
    )
    assert result.exit_code == 2


def test_the_demo_has_a_second_facility_set_up_without_code(app, runner):
    from tracker.demo import load_demo
    from tracker.programmes.models import Call, Programme
    from tracker.proposals.models import Proposal
    from tracker.workflow.definitions import get_workflow

    with app.app_context():
        load_demo()
        sgbc = db.session.scalar(sa.select(Programme).where(Programme.code == "SGBC"))
        [call] = sgbc.calls
        assert call.workflow_key == "challenge-fund" and call.rolling and call.closes_at is None
        assert call.partner_countries == ["KR"]
        assert call.rubric.criteria[0].title == "Green business model"
        workflow = get_workflow(call.workflow_key)
        states = sorted(
            db.session.scalars(sa.select(Proposal.status).where(Proposal.call_id == call.id))
        )
        assert states == sorted(
            ["submitted", "external_assessment", "investment_committee", "due_diligence"]
        )
        assert all(
            p.batch is not None
            for p in db.session.scalars(sa.select(Proposal).where(Proposal.call_id == call.id))
        )
        assert workflow.in_group("due_diligence", "granted")
        assert db.session.scalar(sa.select(sa.func.count(Call.id))) > 2
        # The demo company's own concept note is half written, to try the form where it stands.
        from datetime import date

        from tracker.auth.models import User
        from tracker.proposals import sections

        anna = db.session.scalar(sa.select(User).where(User.email == "applicant@demo.lu"))
        [draft] = db.session.scalars(
            sa.select(Proposal).where(Proposal.organisation_id == anna.organisation_id)
        )
        assert draft.status == "draft" and draft.partners[0].country == "RW"
        done = {
            s.section.key: s.complete
            for s in sections.overview(draft, sections.stage_of(draft), date.today())
            if s.required
        }
        assert done == {"lead": True, "partners": True, "project": False, "budget": False}
    assert runner.invoke(args=["history", "verify"]).exit_code == 0
    report = runner.invoke(
        args=[
            "report",
            "selections",
            "--programme",
            "BPF",
            "--year",
            "2021",
            "--format",
            "json",
            "--output",
            "-",
        ]
    )
    assert '"selected_since_start": 34' in report.output


def test_the_demo_facility_asks_its_own_questions(app):
    from tracker.demo import load_demo
    from tracker.programmes.models import Programme
    from tracker.proposals.operations import submissions_of
    from tracker.questions.operations import questions_of, sections_of

    with app.app_context():
        load_demo()
        call = db.session.scalar(sa.select(Programme).where(Programme.code == "SGBC")).calls[0]
        assert [s.title["en"] for s in sections_of(call)] == ["Green and digital"]
        questions = {q.key: q for q in questions_of(call)}
        assert questions["which_programme"].condition["values"] == ["yes"]
        proposal = next(iter(call_proposals(call)))
        [kept] = submissions_of(proposal)
        assert kept.content["answers"]["which_programme"] == "kotra"


def call_proposals(call):
    from tracker.proposals.models import Proposal

    return db.session.scalars(sa.select(Proposal).where(Proposal.call_id == call.id))
