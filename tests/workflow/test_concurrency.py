"""Two people take the same transition on the same proposal at the same moment: exactly one wins."""

from __future__ import annotations

import threading

import pytest

from tests import factories as f
from tracker.extensions import db
from tracker.proposals.models import Proposal
from tracker.workflow.history import verify_chains
from tracker.workflow.operations import StaleProposal, WorkflowError, perform_transition


def test_same_transition_at_once_succeeds_exactly_once(app):
    if app.database_kind != "postgresql":
        pytest.skip(
            "concurrent sessions are meaningful on PostgreSQL only (SQLite has a single writer)"
        )
    with app.app_context():
        people = f.team()
        proposal = f.submitted(f.call(), f.applicant())
        db.session.commit()
        proposal_id = proposal.id
        reviewer_ids = [people["reviewer"].id, people["admin"].id]

    barrier = threading.Barrier(2, timeout=10)
    outcomes: list[str] = []

    def start_screening(user_id: int) -> None:
        with app.app_context():
            from tracker.auth.models import User

            actor = db.session.get(User, user_id)
            loaded = db.session.get(Proposal, proposal_id)
            assert loaded.status == "submitted"
            barrier.wait()  # both have read the proposal as "submitted"
            try:
                perform_transition(
                    loaded, "start_screening", actor, expected_version=loaded.version
                )
                db.session.commit()
                outcomes.append("ok")
            except StaleProposal:
                db.session.rollback()
                outcomes.append("stale")
            except WorkflowError as error:  # pragma: no cover - shown if it happens
                db.session.rollback()
                outcomes.append(f"refused: {error.message}")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=start_screening, args=(uid,)) for uid in reviewer_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["ok", "stale"]
    with app.app_context():
        proposal = db.session.get(Proposal, proposal_id)
        assert proposal.status == "screening"
        result = verify_chains()
        assert result.broken == [] and result.rows == 3  # created, submitted, screening: once


def test_two_submissions_at_once_get_different_references(app):
    if app.database_kind != "postgresql":
        pytest.skip(
            "concurrent sessions are meaningful on PostgreSQL only (SQLite has a single writer)"
        )
    with app.app_context():
        call = f.call()
        owners = [f.applicant(f"a{i}@company{i}.lu", f"Company {i}") for i in range(2)]
        ids = [(f.fill(f.draft(call, owner), owner).id, owner.id) for owner in owners]
        db.session.commit()
    barrier = threading.Barrier(2, timeout=10)
    references = []

    def submit(proposal_id: int, owner_id: int) -> None:
        with app.app_context():
            from tracker.auth.models import User

            proposal = db.session.get(Proposal, proposal_id)
            owner = db.session.get(User, owner_id)
            barrier.wait()
            perform_transition(proposal, "submit", owner)
            db.session.commit()
            references.append(proposal.reference)
            db.session.remove()

    threads = [threading.Thread(target=submit, args=pair) for pair in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(references) == 2 and len(set(references)) == 2
    assert sorted(r[-3:] for r in references) == ["001", "002"]
