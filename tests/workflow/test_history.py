"""The tamper-evident history: chained hashes, append-only rows, `tracker history verify`."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest
import sqlalchemy as sa

from tests import factories as f
from tracker.extensions import db
from tracker.workflow.history import HistoryIsAppendOnly, key_id, verify_chains
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
    # Keyed: an HMAC under the history key, which is not in the database...
    key = ctx.config["HISTORY_KEY"].encode()
    assert second.hash == hmac.new(key, expected.encode(), hashlib.sha256).hexdigest()
    # ... so the plain SHA-256 anyone could recompute is not what the row carries.
    assert second.hash != hashlib.sha256(expected.encode()).hexdigest()
    assert second.key_id == key_id(key)
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


def _payload(row_values: dict) -> str:
    from tracker.workflow.history import canonical_payload

    return canonical_payload(**row_values)


def forge_row(connection, proposal_id: int, *, keyed_with: bytes | None, to_status="selected"):
    """Append a row as an attacker with database access would, hash recomputed by hand."""
    last = connection.execute(
        sa.text(
            "SELECT seq, hash, to_status FROM status_changes WHERE proposal_id = :p "
            "ORDER BY seq DESC LIMIT 1"
        ),
        {"p": proposal_id},
    ).one()
    from datetime import UTC, datetime

    at = datetime.now(UTC)
    values = {
        "proposal_id": proposal_id,
        "seq": last.seq + 1,
        "from_status": last.to_status,
        "to_status": to_status,
        "transition": "select",
        "actor_id": None,
        "created_at": at,
        "comment": "",
        "prev_hash": last.hash,
    }
    text_ = _payload(values)
    if keyed_with is None:
        digest, kid = hashlib.sha256(text_.encode()).hexdigest(), None
    else:
        digest, kid = (
            hmac.new(keyed_with, text_.encode(), hashlib.sha256).hexdigest(),
            key_id(keyed_with),
        )
    connection.execute(
        sa.text(
            "INSERT INTO status_changes (proposal_id, seq, from_status, to_status, transition, "
            "actor_id, created_at, comment, internal_note, imported, prev_hash, hash, key_id) "
            "VALUES (:proposal_id, :seq, :from_status, :to_status, :transition, NULL, :at, '', '', "
            ":imported, :prev_hash, :hash, :key_id)"
        ),
        {
            **{k: v for k, v in values.items() if k not in ("created_at", "actor_id", "comment")},
            "at": at if connection.dialect.name == "postgresql" else at.replace(tzinfo=None),
            "imported": False,
            "hash": digest,
            "key_id": kid,
        },
    )
    connection.execute(
        sa.text("UPDATE proposals SET status = :s WHERE id = :p"),
        {"s": to_status, "p": proposal_id},
    )


@pytest.mark.parametrize("forger_key", [None, b"a key guessed by the attacker"])
def test_a_forged_row_with_a_recomputed_hash_is_caught(app, runner, forger_key):
    with app.app_context():
        proposal_id = submitted_proposal().id
        with db.engine.begin() as connection:
            forge_row(connection, proposal_id, keyed_with=forger_key)
    result = runner.invoke(args=["history", "verify"])
    assert result.exit_code == 1
    assert f"BROKEN proposal {proposal_id}, row #3" in result.output
    assert ("unkeyed row" if forger_key is None else "another key") in result.output


def test_checkpoints_catch_a_chain_that_was_cut(app, runner, tmp_path):
    checkpoints = tmp_path / "checkpoints.jsonl"
    with app.app_context():
        proposal = submitted_proposal()
        anna = db.session.get(f.User, proposal.created_by_id)
        perform_transition(proposal, "withdraw", anna, comment="Partner left.")
        db.session.commit()
        proposal_id = proposal.id
    written = runner.invoke(args=["history", "checkpoint", "--output", str(checkpoints)])
    assert written.exit_code == 0, written.output
    ok = runner.invoke(args=["history", "verify", "--checkpoint", str(checkpoints)])
    assert ok.exit_code == 0, ok.output
    assert "1 checkpoint(s) hold" in ok.output

    # Someone with database access removes the withdrawal: what is left is a valid chain.
    with app.app_context(), db.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(sa.text("SET LOCAL session_replication_role = replica"))
        else:
            connection.execute(sa.text("DROP TRIGGER status_changes_no_delete"))
        connection.execute(
            sa.text("DELETE FROM status_changes WHERE proposal_id = :p AND seq = 3"),
            {"p": proposal_id},
        )
        connection.execute(
            sa.text("UPDATE proposals SET status = 'submitted' WHERE id = :p"), {"p": proposal_id}
        )
    assert runner.invoke(args=["history", "verify"]).exit_code == 0  # the chain alone looks fine
    caught = runner.invoke(args=["history", "verify", "--checkpoint", str(checkpoints)])
    assert caught.exit_code == 1
    assert f"proposal {proposal_id}: row #3 recorded in the checkpoint" in caught.output
    assert "is missing (the chain was cut or deleted)" in caught.output


def test_a_checkpoint_altered_by_hand_is_refused(app, runner, tmp_path):
    with app.app_context():
        submitted_proposal()
    line = runner.invoke(args=["history", "checkpoint", "--output", "-"]).output
    record = json.loads(line)
    pid = next(iter(record["chains"]))
    record["chains"][pid][0] = 1  # pretend the chain was shorter
    altered = tmp_path / "altered.jsonl"
    altered.write_text(json.dumps(record) + "\n")
    result = runner.invoke(args=["history", "verify", "--checkpoint", str(altered)])
    assert result.exit_code == 1
    assert "checkpoint line 1 was altered" in result.output


def test_chains_written_before_the_key_stay_verifiable_once_sealed(app, runner):
    """Rows of before keyed chains (plain SHA-256, no key id) verify below a keyed seal."""
    with app.app_context():
        proposal_id = submitted_proposal().id
        legacy, previous = [], None
        for row in rows(proposal_id):
            values = {
                "proposal_id": row.proposal_id,
                "seq": row.seq,
                "from_status": row.from_status,
                "to_status": row.to_status,
                "transition": row.transition,
                "actor_id": row.actor_id,
                "created_at": row.created_at,
                "comment": row.comment,
                "prev_hash": previous,
            }
            previous = hashlib.sha256(_payload(values).encode()).hexdigest()
            legacy.append((row.id, values["prev_hash"], previous))
        db.session.rollback()
        # Rewrite the chain as the previous version wrote it: plain SHA-256 rows, no key id.
        with db.engine.begin() as connection:
            disable_protection(connection)
            for row_id, prev, digest in legacy:
                connection.execute(
                    sa.text(
                        "UPDATE status_changes SET hash = :h, prev_hash = :prev, key_id = NULL "
                        "WHERE id = :id"
                    ),
                    {"h": digest, "prev": prev, "id": row_id},
                )
            restore_protection(connection)
    unsealed = runner.invoke(args=["history", "verify"])
    assert unsealed.exit_code == 1
    assert "run `tracker history seal` once after upgrading" in unsealed.output
    assert "1 chain(s) sealed." in runner.invoke(args=["history", "seal"]).output
    assert "0 chain(s) sealed." in runner.invoke(args=["history", "seal"]).output
    assert runner.invoke(args=["history", "verify"]).exit_code == 0
    # New rows after the seal are keyed; an unkeyed row forged after them is refused.
    with app.app_context():
        proposal = db.session.get(f.Proposal, proposal_id)
        anna = db.session.get(f.User, proposal.created_by_id)
        perform_transition(proposal, "withdraw", anna, comment="Partner left.")
        db.session.commit()
    assert runner.invoke(args=["history", "verify"]).exit_code == 0
    with app.app_context(), db.engine.begin() as connection:
        forge_row(connection, proposal_id, keyed_with=None, to_status="withdrawn")
    forged = runner.invoke(args=["history", "verify"])
    assert forged.exit_code == 1
    assert "an unkeyed row after keyed ones" in forged.output


def test_postgresql_refuses_to_truncate_the_history(app):
    if app.database_kind != "postgresql":
        pytest.skip("SQLite has no TRUNCATE")
    with app.app_context():
        submitted_proposal()
        with pytest.raises(sa.exc.DatabaseError, match="append-only"), db.engine.begin() as c:
            c.execute(sa.text("TRUNCATE status_changes CASCADE"))
        assert db.session.scalar(sa.select(sa.func.count(StatusChange.id))) == 2
