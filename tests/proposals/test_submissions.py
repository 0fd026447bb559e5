"""Every submitted version is kept: the concept note's receipt stays valid after the full proposal."""

from __future__ import annotations

import sqlalchemy as sa

from tests import factories as f
from tests.web import Web, text
from tracker.auth.models import User
from tracker.extensions import db
from tracker.proposals.models import Proposal, Submission
from tracker.proposals.operations import content_checksum, submissions_of


def test_the_concept_note_receipt_survives_the_full_proposal(app):
    with app.app_context():
        people = f.team()
        owner = f.applicant()
        proposal = f.bring_to("full_proposal", f.call(two_stage=True), owner, people)
        db.session.commit()
        [concept] = submissions_of(proposal)
        concept_checksum, concept_content = concept.checksum, dict(concept.content)
        assert concept.stage.value == "concept"
        assert concept_checksum == content_checksum(concept_content)
        assert proposal.submission_checksum == concept_checksum
        f.take(proposal, "submit_full_proposal", owner)
        db.session.commit()
        proposal_id = proposal.id

    with app.app_context():
        proposal = db.session.get(Proposal, proposal_id)
        concept, full = submissions_of(proposal)
        # The concept note is exactly as it was: same content, same checksum.
        assert (concept.checksum, concept.content) == (concept_checksum, concept_content)
        assert content_checksum(concept.content) == concept_checksum
        assert full.stage.value == "full" and full.checksum != concept_checksum
        assert proposal.submission_checksum == full.checksum
        assert "problem" not in {k for k, v in concept.content.items() if v}
        assert full.content["problem"]

    applicant = Web(app.test_client())
    applicant.login("anna@company.lu")
    receipt = text(applicant.get(f"/proposals/{proposal_id}/receipt"))
    assert concept_checksum in receipt and full.checksum in receipt
    concept_page = text(applicant.get(f"/proposals/{proposal_id}/submissions/1"))
    assert concept_checksum in concept_page
    assert applicant.get(f"/proposals/{proposal_id}/submissions/3").status_code == 404

    reviewer = Web(app.test_client())
    reviewer.login("reviewer@agency.lu")
    assert "Submitted versions" in text(reviewer.get(f"/review/proposals/{proposal_id}"))
    compared = text(reviewer.get(f"/review/proposals/{proposal_id}/submissions/2"))
    changes = compared[compared.index('id="version-changes"') :]
    assert "Problem addressed" in changes  # added in the full proposal
    assert "Answer to step 1." in changes


def test_another_organisation_cannot_read_a_submitted_version(app):
    with app.app_context():
        people = f.team()
        proposal = f.submitted(f.call(), f.applicant())
        db.session.commit()
        proposal_id = proposal.id
        assert db.session.scalar(sa.select(sa.func.count(Submission.id))) == 1
        assert db.session.scalar(sa.select(User.email).where(User.id == people["outsider"].id))
    outsider = Web(app.test_client())
    outsider.login("eve@other.lu")
    assert outsider.get(f"/proposals/{proposal_id}/submissions/1").status_code == 404
    assert outsider.get(f"/proposals/{proposal_id}/receipt").status_code == 404
