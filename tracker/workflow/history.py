"""Writing and verifying the tamper-evident history chain of each proposal.

Each row's hash is the SHA-256 of a canonical serialisation: sorted-key JSON of the proposal id,
sequence number, from, to, transition, actor id, time (ISO-8601 UTC with microseconds), comment
and the previous row's hash. Changing any of those in the database breaks the chain from that row
on, and ``tracker history verify`` names the first broken row.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy import event

from tracker.core.time import utcnow
from tracker.extensions import db
from tracker.workflow.models import StatusChange


class HistoryIsAppendOnly(Exception):
    """Raised when code tries to change or delete a history row."""


def canonical_payload(
    *,
    proposal_id: int,
    seq: int,
    from_status: str | None,
    to_status: str,
    transition: str,
    actor_id: int | None,
    created_at: datetime,
    comment: str,
    prev_hash: str | None,
) -> str:
    """The exact text a row's hash is computed over."""
    return json.dumps(
        {
            "proposal": proposal_id,
            "seq": seq,
            "from": from_status,
            "to": to_status,
            "transition": transition,
            "actor": actor_id,
            "at": created_at.astimezone(UTC).isoformat(timespec="microseconds"),
            "comment": comment or "",
            "prev": prev_hash,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )


def row_hash(row: StatusChange) -> str:
    """The hash a row should carry, from its stored content."""
    payload = canonical_payload(
        proposal_id=row.proposal_id,
        seq=row.seq,
        from_status=row.from_status,
        to_status=row.to_status,
        transition=row.transition,
        actor_id=row.actor_id,
        created_at=row.created_at,
        comment=row.comment,
        prev_hash=row.prev_hash,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def last_change(proposal_id: int) -> StatusChange | None:
    """The newest history row of a proposal."""
    return db.session.scalar(
        sa.select(StatusChange)
        .where(StatusChange.proposal_id == proposal_id)
        .order_by(StatusChange.seq.desc())
        .limit(1)
    )


def append_change(
    proposal,
    *,
    from_status: str | None,
    to_status: str,
    transition: str,
    actor_id: int | None,
    comment: str = "",
    internal_note: str = "",
    at: datetime | None = None,
    imported: bool = False,
    previous: StatusChange | None = None,
) -> StatusChange:
    """Append one row to a proposal's chain (the proposal must already have an id).

    ``previous`` saves a query when the caller already holds the last row, or knows there is
    none (pass ``previous=None`` with ``from_status=None`` for the first row).
    """
    if previous is None and from_status is not None:
        previous = last_change(proposal.id)
    at = at or utcnow()
    if previous is not None and at < previous.created_at:
        at = previous.created_at  # the chain never goes back in time
    row = StatusChange(
        proposal_id=proposal.id,
        seq=(previous.seq + 1) if previous else 1,
        from_status=from_status,
        to_status=to_status,
        transition=transition,
        actor_id=actor_id,
        created_at=at.astimezone(UTC),
        comment=comment or "",
        internal_note=internal_note or "",
        imported=imported,
        prev_hash=previous.hash if previous else None,
    )
    row.hash = row_hash(row)
    db.session.add(row)
    return row


@dataclass
class BrokenLink:
    """The first row of a chain that does not verify, and why."""

    proposal_id: int
    seq: int
    row_id: int
    problem: str


@dataclass
class VerifyResult:
    proposals: int
    rows: int
    broken: list[BrokenLink]


def verify_chains(batch_size: int = 5000) -> VerifyResult:
    """Recompute every chain; report the first broken row of each broken chain.

    Also checks that each proposal's status equals the target of its last row.
    """
    from tracker.proposals.models import Proposal

    broken: list[BrokenLink] = []
    proposals = rows = 0
    current_id: int | None = None
    expected_prev: str | None = None
    expected_seq = 1
    last_to: str | None = None
    chain_broken = False

    def finish(pid: int | None) -> None:
        nonlocal proposals
        if pid is None:
            return
        proposals += 1
        status = statuses.get(pid)
        if not chain_broken and status is not None and status != last_to:
            broken.append(
                BrokenLink(
                    pid,
                    expected_seq - 1,
                    last_row_id,
                    f"proposal status is {status!r} but its history ends in {last_to!r}",
                )
            )

    statuses = dict(db.session.execute(sa.select(Proposal.id, Proposal.status)).all())
    last_row_id = 0
    query = sa.select(StatusChange).order_by(StatusChange.proposal_id, StatusChange.seq)
    for row in db.session.scalars(query.execution_options(yield_per=batch_size)):
        rows += 1
        if row.proposal_id != current_id:
            finish(current_id)
            current_id = row.proposal_id
            expected_prev, expected_seq, chain_broken = None, 1, False
        if not chain_broken:
            problem = None
            if row.seq != expected_seq:
                problem = f"sequence number {row.seq}, expected {expected_seq}"
            elif row.prev_hash != expected_prev:
                problem = "previous-hash link does not match the row before"
            elif row.hash != row_hash(row):
                problem = "content does not match its hash (the row was altered)"
            if problem:
                broken.append(BrokenLink(row.proposal_id, row.seq, row.id, problem))
                chain_broken = True
        expected_prev = row.hash
        expected_seq = row.seq + 1
        last_to = row.to_status
        last_row_id = row.id
    finish(current_id)
    missing = set(statuses) - _proposals_with_history()
    for pid in sorted(missing):
        broken.append(BrokenLink(pid, 0, 0, "proposal has no history"))
    db.session.expunge_all()
    return VerifyResult(proposals=proposals, rows=rows, broken=broken)


def _proposals_with_history() -> set[int]:
    return set(db.session.scalars(sa.select(StatusChange.proposal_id).distinct()))


@event.listens_for(StatusChange, "before_update")
def _refuse_update(mapper, connection, target):  # pragma: no cover - exercised in tests
    raise HistoryIsAppendOnly("history rows are append-only")


@event.listens_for(StatusChange, "before_delete")
def _refuse_delete(mapper, connection, target):
    raise HistoryIsAppendOnly("history rows are append-only")
