"""The tamper-evident history: chained hashes, append-only rows, `tracker history verify`."""

from __future__ import annotations

import hashlib
import json

import pytest
import sqlalchemy as sa

from tests import factories as f
from tracker.extensions import db
from tracker.workflow.history import HistoryIsAppendOnly, verify_chains
from tracker.workflow.models import StatusChange
from tracker.workflow.operations import perform_transition


def submitted_proposal():
    call = f.call()
    anna = f.applicant()
    proposal = f.fill(f.draft(call, anna), anna)
    perform_transition(proposal, "submit", anna)
    db.session.commit()
    return proposal


def rows(proposal_id):
    return list(
        db.session.scalars(
            sa.select(StatusChange)
            .where(StatusChange.proposal_id == proposal_id)
            .order_by(StatusChange.seq)
        )
    )


def test_each_row_hashes_its_content_and_the_previous_hash(ctx):
    proposal = submitted_proposal()
    first, second = rows(proposal.id)
    assert (first.seq, first.prev_hash, first.transition) == (1, None, "create")
    assert second.prev_hash == first.hash
    expected = json.dumps(
        {
            "proposal": proposal.id,
            "seq": 2,
            "from": "draft",
            "to": "submitted",
            "transition": "submit",
            "actor": second.actor_id,
            "at": second.created_at.isoformat(timespec="microseconds"),
            "comment": "",
            "prev": first.hash,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    assert second.hash == hashlib.sha256(expected.encode()).hexdigest()
    assert second.created_at.isoformat().endswith("+00:00")


def test_the_orm_refuses_to_change_history(ctx):
    proposal = submitted_proposal()
    row = rows(proposal.id)[0]
    row.comment = "rewritten"
    with pytest.raises(HistoryIsAppendOnly):
        db.session.flush()
    db.session.rollback()


def disable_protection(connection):
    if connection.dialect.name == "postgresql":
        connection.execute(
            sa.text("ALTER TABLE status_changes DISABLE TRIGGER status_changes_append_only")
        )
    else:
        connection.execute(sa.text("DROP TRIGGER status_changes_no_update"))


def restore_protection(connection):
    if connection.dialect.name == "postgresql":  # the PostgreSQL database outlives this test
        connection.execute(
            sa.text("ALTER TABLE status_changes ENABLE TRIGGER status_changes_append_only")
        )


def test_verify_names_the_row_altered_directly_in_the_database(app, runner):
    with app.app_context():
        proposal = submitted_proposal()
        proposal_id = proposal.id
        second = rows(proposal_id)[1]
    ok = runner.invoke(args=["history", "verify"])
    assert ok.exit_code == 0, ok.output
    assert "OK: 2 history rows of 1 proposals verified." in ok.output

    with app.app_context(), db.engine.begin() as connection:
        disable_protection(connection)  # someone with database access
        connection.execute(
            sa.text("UPDATE status_changes SET comment = 'backdated approval' WHERE id = :id"),
            {"id": second.id},
        )
    broken = runner.invoke(args=["history", "verify"])
    with app.app_context(), db.engine.begin() as connection:
        restore_protection(connection)
    assert broken.exit_code == 1
    assert (
        f"BROKEN proposal {proposal_id}, row #2 (id {second.id}): content does not match its hash"
        in broken.output
    )


def test_verify_finds_a_status_that_disagrees_with_the_history(ctx):
    proposal = submitted_proposal()
    db.session.execute(
        sa.text("UPDATE proposals SET status = 'selected' WHERE id = :id"), {"id": proposal.id}
    )
    result = verify_chains()
    assert [(b.proposal_id, "history ends in 'submitted'" in b.problem) for b in result.broken] == [
        (proposal.id, True)
    ]
