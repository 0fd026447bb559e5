"""Reminders fall due at the set Luxembourg hour on their day and are written once; staff hear
of what waits for them; each person chooses immediately, a daily digest, or the app only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from tests import factories as f
from tests.web import Web, text
from tracker.core.time import LUXEMBOURG
from tracker.extensions import db
from tracker.notifications.models import Delivery, Kind, Notification, OutboxMessage
from tracker.notifications.operations import set_preferences
from tracker.notifications.worker import schedule
from tracker.review import operations as review_ops
from tracker.workflow.models import StatusChange


def lux(*args) -> datetime:
    return datetime(*args, tzinfo=LUXEMBOURG).astimezone(UTC)


def _notes(user, kind=None) -> list[Notification]:
    query = sa.select(Notification).where(Notification.user_id == user.id)
    if kind:
        query = query.where(Notification.kind == kind)
    return list(db.session.scalars(query.order_by(Notification.id)))


def _mails(address) -> list[OutboxMessage]:
    return list(
        db.session.scalars(
            sa.select(OutboxMessage)
            .where(OutboxMessage.to_address == address)
            .order_by(OutboxMessage.id)
        )
    )


def test_a_draft_is_reminded_seven_days_and_one_day_before_at_seven_luxembourg_time(ctx):
    # The deadline falls after the change to summer time: 17:00 CEST is 15:00 UTC; the 7-day
    # reminder is due at 07:00 CET (06:00 UTC), the 1-day one at 07:00 CEST (05:00 UTC).
    anna = f.applicant()
    call = f.call()
    call.closes_at = lux(2027, 4, 2, 17, 0)
    f.draft(call, anna)
    db.session.commit()

    assert schedule(datetime(2027, 3, 26, 5, 59, tzinfo=UTC))["deadline reminders"] == 0
    assert schedule(datetime(2027, 3, 26, 6, 0, tzinfo=UTC))["deadline reminders"] == 1
    for later in (6, 12, 23):
        assert schedule(datetime(2027, 3, 26, later, 30, tzinfo=UTC))["deadline reminders"] == 0
    [week] = _notes(anna, Kind.deadline.value)
    assert "Friday 2 April 2027, 17:00" in week.body
    assert len(_mails("anna@company.lu")) == 1

    assert schedule(datetime(2027, 4, 1, 4, 59, tzinfo=UTC))["deadline reminders"] == 0
    assert schedule(datetime(2027, 4, 1, 5, 0, tzinfo=UTC))["deadline reminders"] == 1
    assert schedule(datetime(2027, 4, 1, 9, 0, tzinfo=UTC))["deadline reminders"] == 0
    assert len(_notes(anna, Kind.deadline.value)) == 2
    assert len(_mails("anna@company.lu")) == 2


def test_a_submitted_proposal_and_a_stale_day_get_no_deadline_reminder(ctx):
    anna = f.applicant()
    call = f.call()
    call.closes_at = lux(2027, 4, 2, 17, 0)
    proposal = f.submitted(call, anna)
    db.session.commit()
    assert schedule(lux(2027, 3, 26, 8, 0))["deadline reminders"] == 0
    proposal.status = "draft"  # (as if it were still a draft) a worker down for two days...
    db.session.commit()
    assert schedule(lux(2027, 3, 28, 8, 0))["deadline reminders"] == 0, "no stale reminder"


def test_an_extended_deadline_gets_its_own_reminders(ctx):
    anna = f.applicant()
    call = f.call()
    call.closes_at = lux(2027, 4, 2, 17, 0)
    proposal = f.draft(call, anna)
    db.session.commit()
    schedule(lux(2027, 4, 1, 7, 0))
    proposal.deadline_extended_to = lux(2027, 4, 9, 12, 0)
    db.session.commit()
    assert schedule(lux(2027, 4, 2, 7, 0))["deadline reminders"] == 1
    assert "9 April 2027, 12:00" in _notes(anna, Kind.deadline.value)[-1].body


def test_a_missing_score_is_recalled_after_five_days_once(ctx):
    people = f.team()
    proposal = f.bring_to("evaluation", f.call(), f.applicant(), people)
    late, prompt = f.staff("reviewer", "late@agency.lu"), f.staff("reviewer", "prompt@agency.lu")
    for reviewer in (late, prompt):
        review_ops.assign_reviewer(proposal, reviewer, people["reviewer"])
    db.session.commit()
    [assigned] = _notes(late, Kind.assigned.value)
    assert proposal.display_reference in assigned.subject
    f.score(proposal, prompt)
    for assignment in review_ops.assignments(proposal):
        assignment.assigned_at = lux(2027, 5, 3, 15, 0)
    db.session.commit()

    assert schedule(lux(2027, 5, 8, 6, 59))["score reminders"] == 0
    assert schedule(lux(2027, 5, 8, 7, 0))["score reminders"] == 1
    assert schedule(lux(2027, 5, 8, 18, 0))["score reminders"] == 0
    [reminder] = _notes(late, Kind.score_reminder.value)
    assert "5 days ago" in reminder.body
    assert _notes(prompt, Kind.score_reminder.value) == [], "who scored is not reminded"


def test_an_unanswered_request_is_recalled_after_ten_days(ctx):
    people = f.team()
    anna = f.applicant()
    proposal = f.submitted(f.call(), anna)
    f.take(proposal, "start_screening", people["reviewer"])
    f.take(proposal, "request_information", people["reviewer"])
    db.session.commit()
    asked = db.session.scalar(
        sa.select(StatusChange)
        .where(StatusChange.proposal_id == proposal.id)
        .order_by(StatusChange.seq.desc())
        .limit(1)
    )
    # The history cannot be rewritten; the reminder is computed from the request's time, so
    # the test asks ten days after it, in Luxembourg.
    day = asked.created_at.astimezone(LUXEMBOURG).date() + timedelta(days=10)
    at_seven = datetime(day.year, day.month, day.day, 7, 0, tzinfo=LUXEMBOURG)
    assert schedule(at_seven - timedelta(minutes=1))["answer reminders"] == 0
    assert schedule(at_seven)["answer reminders"] == 1
    assert schedule(at_seven + timedelta(hours=3))["answer reminders"] == 0
    [reminder] = _notes(anna, Kind.answer_reminder.value)
    assert "Because of request_information." in reminder.body


def test_staff_hear_that_the_applicant_answered_and_that_a_proposal_reached_them(ctx):
    people = f.team()
    anna = f.applicant()
    proposal = f.submitted(f.call(), anna)
    f.take(proposal, "start_screening", people["reviewer"])
    f.take(proposal, "request_information", people["reviewer"])
    f.take(proposal, "respond", anna)
    db.session.commit()
    [answered] = _notes(people["reviewer"], Kind.answer_received.value)
    assert "answered" in answered.subject
    assert answered.link == f"/review/proposals/{proposal.id}"
    assert _notes(people["reviewer2"], Kind.answer_received.value) == []

    f.tick_checklist(proposal, people["reviewer"])
    f.take(proposal, "pass_screening", people["reviewer"])
    db.session.commit()
    [reached] = _notes(people["hrdd"], Kind.stage_reached.value)
    assert proposal.display_reference in reached.subject


def test_diverging_scores_ask_the_other_reviewers_for_a_further_score_once(ctx):
    people = f.team()
    proposal = f.bring_to("evaluation", f.call(), f.applicant(), people)
    f.score(proposal, people["reviewer"], 9)
    f.score(proposal, people["reviewer2"], 2)
    db.session.commit()
    third = people["reviewer3"]
    [asked] = _notes(third, Kind.divergence.value)
    assert "further score" in asked.subject
    assert _notes(people["reviewer"], Kind.divergence.value) == [], "those who scored know"
    f.score(proposal, people["reviewer"], 8)
    db.session.commit()
    assert len(_notes(third, Kind.divergence.value)) == 1


def test_a_digest_gathers_the_day_and_in_app_only_sends_no_mail(ctx):
    anna = f.applicant()
    people = f.team()
    set_preferences(
        anna, {Kind.status_change.value: "digest", Kind.information_requested.value: "digest"}
    )
    db.session.commit()
    proposal = f.submitted(f.call(), anna)
    f.take(proposal, "start_screening", people["reviewer"])
    f.take(proposal, "request_information", people["reviewer"])
    db.session.commit()
    assert _mails("anna@company.lu") == [], "nothing goes at once"
    assert len(_notes(anna)) == 1 and _notes(anna)[0].digest_pending

    today = datetime.now(LUXEMBOURG).date() + timedelta(days=1)
    morning = datetime(today.year, today.month, today.day, 7, 0, tzinfo=LUXEMBOURG)
    assert schedule(morning - timedelta(minutes=1))["digests"] == 0
    assert schedule(morning)["digests"] == 1
    assert schedule(morning + timedelta(hours=2))["digests"] == 0
    [digest] = _mails("anna@company.lu")
    assert "daily summary" in digest.subject
    assert proposal.display_reference in digest.body_text
    assert not _notes(anna)[0].digest_pending

    set_preferences(anna, {Kind.information_requested.value: Delivery.in_app.value})
    f.take(proposal, "respond", anna)
    f.take(proposal, "request_information", people["reviewer"])
    db.session.commit()
    assert len(_mails("anna@company.lu")) == 1, "in the tracker only: no e-mail"
    assert len(_notes(anna)) == 2


def test_people_choose_per_kind_on_their_preferences_page(app):
    with app.app_context():
        f.applicant()
        f.staff("reviewer")
        db.session.commit()
    web = Web(app.test_client())
    web.login("anna@company.lu")
    page = text(web.get("/notifications/preferences"))
    assert "The agency asks for information" in page
    assert "A proposal was assigned to you for scoring" not in page, "staff kinds are for staff"
    assert "password" in page.lower(), "the page says account messages always come"
    response = web.post(
        "/notifications/preferences",
        {
            "kind-status_change": "digest",
            "kind-information_requested": "immediately",
            "kind-deadline": "in_app",
            "kind-answer_reminder": "immediately",
            "kind-report_due": "immediately",
        },
    )
    assert response.status_code == 302
    page = text(web.get("/notifications/preferences"))
    assert 'id="kind-status_change-digest" value="digest" checked' in page
    assert 'id="kind-deadline-in_app" value="in_app" checked' in page
    bad = web.post("/notifications/preferences", {"kind-status_change": "carrier-pigeon"})
    assert bad.status_code == 400
    assert 'id="kind-status_change-digest" value="digest" checked' in text(
        web.get("/notifications/preferences")
    ), "a refused form changes nothing"

    staff = Web(app.test_client())
    staff.login("reviewer@agency.lu")
    page = text(staff.get("/notifications/preferences"))
    assert "A proposal was assigned to you for scoring" in page
    assert "A deadline is near" not in page


@pytest.mark.parametrize("kind", ["account"])
def test_account_messages_cannot_be_turned_off(ctx, kind):
    anna = f.applicant()
    set_preferences(anna, {kind: "in_app"})
    db.session.commit()
    from tracker.notifications.operations import delivery_for

    assert delivery_for(anna, kind) == Delivery.immediately
