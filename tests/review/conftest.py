"""Fixtures of the staff-side tests."""

from __future__ import annotations

import pytest

from tests import factories as f
from tracker.extensions import db


@pytest.fixture
def people(app):
    """One account per staff role and the applicant anna@company.lu, by e-mail."""
    with app.app_context():
        team = f.team()
        team["owner"] = f.applicant()
        db.session.commit()
        return {name: user.email for name, user in team.items()}
