"""A kept page is served before the person is loaded, in one statement, and only while the
session in the cookie still stands: ended, idle or deactivated, the request goes the usual way
(to the sign-in page)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests import factories as f
from tests.review.test_views import count_queries
from tests.web import Web, text
from tracker.auth.models import User, UserSession
from tracker.core.time import utcnow
from tracker.extensions import db

QUEUE = "/review/proposals"


@pytest.fixture
def reviewer(app):
    with app.app_context():
        f.submitted(f.call(), f.applicant())
        f.staff("reviewer")
        db.session.commit()
    web = Web(app.test_client())
    web.login("reviewer@agency.lu")
    web.get(QUEUE)  # the sign-in's message shown: the next view is kept
    return web


def set_session(app, **values):
    with app.app_context():
        db.session.execute(sa.update(UserSession).values(**values))
        db.session.commit()


def test_a_kept_page_costs_one_statement_and_is_not_stored_by_the_browser(app, reviewer):
    first = reviewer.get(QUEUE)
    with count_queries(app) as counter:
        again = reviewer.get(QUEUE)
    assert text(again) == text(first) and "Solar cold storage" in text(again)
    assert counter["n"] == 1
    assert again.headers["Cache-Control"] == "no-store"
    assert again.headers["X-Frame-Options"] == "DENY"


def test_an_ended_session_gets_the_sign_in_page_not_the_kept_one(app, reviewer):
    reviewer.get(QUEUE)
    set_session(app, ended_at=utcnow())  # "sign out on every device", from another browser
    response = reviewer.get(QUEUE)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_an_idle_session_gets_the_sign_in_page_not_the_kept_one(app, reviewer):
    reviewer.get(QUEUE)
    set_session(app, last_seen_at=utcnow() - app.config["SESSION_IDLE_LIMIT"] - timedelta(1))
    response = reviewer.get(QUEUE)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_deactivated_person_gets_the_sign_in_page_not_the_kept_one(app, reviewer):
    reviewer.get(QUEUE)
    with app.app_context():
        db.session.execute(sa.update(User).values(active=False))
        db.session.commit()
    response = reviewer.get(QUEUE)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_kept_page_still_writes_the_sessions_last_use(app, reviewer):
    page = text(reviewer.get(QUEUE))
    long_ago = utcnow() - timedelta(minutes=30)
    set_session(app, last_seen_at=long_ago)
    assert text(reviewer.get(QUEUE)) == page
    with app.app_context():
        seen = db.session.scalar(sa.select(UserSession.last_seen_at))
    assert seen > long_ago + timedelta(minutes=25)
