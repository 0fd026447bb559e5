"""Writing and verifying the tamper-evident history chain of each proposal.

Each row's hash is an HMAC-SHA256, under the history key, of a canonical serialisation:
sorted-key JSON of the proposal id, sequence number, from, to, transition, actor id, time
(ISO-8601 UTC with microseconds), comment and the previous row's hash. The key is not in the
database (``TRACKER_HISTORY_KEY`` or ``instance/history_key``), so someone who can write to the
database cannot append a forged row with a matching hash; ``tracker history verify`` names the
first broken row of each chain.

Rows written before the key existed keep their plain SHA-256 (``key_id`` is NULL). They stay
verifiable: ``tracker history seal`` writes a keyed seal over the last unkeyed row of each
chain, and verify accepts unkeyed rows only below a valid seal. A chain that is rewritten or cut
behind everyone's back is caught against checkpoints kept outside the database
(``tracker history checkpoint``, then ``tracker history verify --checkpoint FILE``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy import event

from tracker.core.time import utcnow
from tracker.extensions import db
from tracker.workflow.models import HistorySeal, StatusChange


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


# --- the key --------------------------------------------------------------------------------


def history_key() -> bytes:
    """The key of the chains (from the configuration; never stored in the database)."""
    from flask import current_app

    key = current_app.config.get("HISTORY_KEY")
    if not key:
        raise RuntimeError("HISTORY_KEY is not configured")
    return key.encode("utf-8")


def key_id(key: bytes | None = None) -> str:
    """A short fingerprint naming the key (stored with each row; reveals nothing of the key)."""
    key = key if key is not None else history_key()
    return hashlib.sha256(b"tracker-history-key:" + key).hexdigest()[:16]


def mac(text: str, key: bytes | None = None) -> str:
    return hmac.new(
        key if key is not None else history_key(), text.encode("utf-8"), hashlib.sha256
    ).hexdigest()


def row_hash(row: StatusChange, key: bytes | None = None) -> str:
    """The hash a row should carry: keyed (HMAC) for rows with a key id, SHA-256 for older ones."""
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
    if row.key_id is None:
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()
    return mac(payload, key)


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
        key_id=key_id(),
    )
    row.hash = row_hash(row)
    db.session.add(row)
    return row


def imported_chain(
    proposal_id: int,
    steps: list[tuple[str, str, datetime, str]],
    actor_id: int | None,
    key: bytes,
    fingerprint: str,
) -> list[dict]:
    """The rows of a new proposal's imported history as values to insert in bulk: the same
    chain and hashes as ``append_change`` writes one by one (the import of thousands of rows
    passes the key once)."""
    rows, previous_hash, from_status = [], None, None
    for seq, (transition, to_status, at, comment) in enumerate(steps, start=1):
        at = at.astimezone(UTC)
        if rows and at < rows[-1]["created_at"]:
            at = rows[-1]["created_at"]  # the chain never goes back in time
        payload = canonical_payload(
            proposal_id=proposal_id,
            seq=seq,
            from_status=from_status,
            to_status=to_status,
            transition=transition,
            actor_id=actor_id,
            created_at=at,
            comment=comment,
            prev_hash=previous_hash,
        )
        previous_hash = mac(payload, key)
        rows.append(
            {
                "proposal_id": proposal_id,
                "seq": seq,
                "from_status": from_status,
                "to_status": to_status,
                "transition": transition,
                "actor_id": actor_id,
                "created_at": at,
                "comment": comment or "",
                "internal_note": "",
                "imported": True,
                "prev_hash": rows[-1]["hash"] if rows else None,
                "key_id": fingerprint,
                "hash": previous_hash,
            }
        )
        from_status = to_status
    return rows


# --- seals of the rows written before the key -------------------------------------------------


def seal_payload(proposal_id: int, seq: int, head_hash: str) -> str:
    return json.dumps(
        {"proposal": proposal_id, "seq": seq, "head": head_hash, "type": "seal"},
        sort_keys=True,
        separators=(",", ":"),
    )


def seal_unkeyed_chains() -> int:
    """Seal, under the key, the last unkeyed row of every chain not sealed yet; returns how many.

    Run once after upgrading from plain SHA-256 chains (``make run`` does it); idempotent.
    """
    last_unkeyed = (
        sa.select(StatusChange.proposal_id, sa.func.max(StatusChange.seq).label("seq"))
        .where(StatusChange.key_id.is_(None))
        .group_by(StatusChange.proposal_id)
        .subquery()
    )
    rows = db.session.execute(
        sa.select(StatusChange.proposal_id, StatusChange.seq, StatusChange.hash)
        .join(
            last_unkeyed,
            sa.and_(
                StatusChange.proposal_id == last_unkeyed.c.proposal_id,
                StatusChange.seq == last_unkeyed.c.seq,
            ),
        )
        .outerjoin(HistorySeal, HistorySeal.proposal_id == StatusChange.proposal_id)
        .where(HistorySeal.proposal_id.is_(None))
    ).all()
    now = utcnow()
    kid = key_id()
    for proposal_id, seq, head in rows:
        db.session.add(
            HistorySeal(
                proposal_id=proposal_id,
                seq=seq,
                head_hash=head,
                key_id=kid,
                mac=mac(seal_payload(proposal_id, seq, head)),
                sealed_at=now,
            )
        )
    return len(rows)


# --- checkpoints outside the database ---------------------------------------------------------

CHECKPOINT_TYPE = "tracker-history-checkpoint"


def _checkpoint_text(record: dict) -> str:
    body = {k: v for k, v in record.items() if k != "mac"}
    return json.dumps(body, sort_keys=True, separators=(",", ":"))


def make_checkpoint(now: datetime | None = None) -> dict:
    """The head (last sequence number and hash) of every chain, signed with the key."""
    last = (
        sa.select(StatusChange.proposal_id, sa.func.max(StatusChange.seq).label("seq"))
        .group_by(StatusChange.proposal_id)
        .subquery()
    )
    heads = db.session.execute(
        sa.select(StatusChange.proposal_id, StatusChange.seq, StatusChange.hash)
        .join(
            last,
            sa.and_(StatusChange.proposal_id == last.c.proposal_id, StatusChange.seq == last.c.seq),
        )
        .order_by(StatusChange.proposal_id)
    ).all()
    record = {
        "type": CHECKPOINT_TYPE,
        "version": 1,
        "at": (now or utcnow()).astimezone(UTC).isoformat(timespec="seconds"),
        "key_id": key_id(),
        "chains": {str(pid): [seq, head] for pid, seq, head in heads},
    }
    record["mac"] = mac(_checkpoint_text(record))
    return record


def checkpoint_line(record: dict) -> str:
    return json.dumps(record, sort_keys=True, separators=(",", ":")) + "\n"


@dataclass
class CheckpointExpectations:
    """What the checkpoints say each chain contained: ``(proposal, seq) -> (hash, when)``."""

    rows: dict[tuple[int, int], tuple[str, str]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    records: int = 0


def read_checkpoints(lines) -> CheckpointExpectations:
    """Every checkpoint of a file; a line altered, or signed with another key, is a problem."""
    expected = CheckpointExpectations()
    current = key_id()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            expected.problems.append(f"checkpoint line {number} is not JSON")
            continue
        if not isinstance(record, dict) or record.get("type") != CHECKPOINT_TYPE:
            expected.problems.append(f"checkpoint line {number} is not a history checkpoint")
            continue
        if record.get("key_id") != current:
            expected.problems.append(
                f"checkpoint line {number} was signed with another key ({record.get('key_id')})"
            )
            continue
        if not hmac.compare_digest(str(record.get("mac", "")), mac(_checkpoint_text(record))):
            expected.problems.append(
                f"checkpoint line {number} was altered (its MAC does not match)"
            )
            continue
        expected.records += 1
        for pid, (seq, head) in (record.get("chains") or {}).items():
            expected.rows[(int(pid), int(seq))] = (head, record.get("at", ""))
    return expected


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
    checkpoints: int = 0
    checkpoint_problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.broken and not self.checkpoint_problems


def verify_chains(
    batch_size: int = 5000, checkpoints: CheckpointExpectations | None = None
) -> VerifyResult:
    """Recompute every chain; report the first broken row of each broken chain.

    Also checks that each proposal's status equals the target of its last row, that unkeyed
    rows are covered by a valid seal, and (with ``checkpoints``) that every row a checkpoint
    recorded is still there with the same hash.
    """
    from tracker.proposals.models import Proposal

    key = history_key()
    broken: list[BrokenLink] = []
    proposals = rows = 0
    current_id: int | None = None
    expected_prev: str | None = None
    expected_seq = 1
    last_to: str | None = None
    chain_broken = False
    seen_keyed = False
    seal = None
    expected_rows = dict(checkpoints.rows) if checkpoints else {}
    checkpoint_problems = list(checkpoints.problems) if checkpoints else []

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
    seals = {s.proposal_id: s for s in db.session.scalars(sa.select(HistorySeal))}
    last_row_id = 0
    query = sa.select(StatusChange).order_by(StatusChange.proposal_id, StatusChange.seq)
    for row in db.session.scalars(query.execution_options(yield_per=batch_size)):
        rows += 1
        if row.proposal_id != current_id:
            finish(current_id)
            current_id = row.proposal_id
            expected_prev, expected_seq, chain_broken, seen_keyed = None, 1, False, False
            seal = seals.get(row.proposal_id)
        if expected_rows:
            recorded = expected_rows.pop((row.proposal_id, row.seq), None)
            if recorded is not None and recorded[0] != row.hash:
                checkpoint_problems.append(
                    f"proposal {row.proposal_id}: row #{row.seq} differs from the checkpoint of "
                    f"{recorded[1]} (the chain was rewritten)"
                )
        if not chain_broken:
            problem = None
            if row.seq != expected_seq:
                problem = f"sequence number {row.seq}, expected {expected_seq}"
            elif row.prev_hash != expected_prev:
                problem = "previous-hash link does not match the row before"
            elif row.key_id is None and seen_keyed:
                problem = "an unkeyed row after keyed ones (a forged row)"
            elif row.key_id is None and not _sealed(seal, row, key):
                problem = (
                    "unkeyed row not covered by a valid seal (a forged row, or run "
                    "`tracker history seal` once after upgrading)"
                )
            elif row.key_id is not None and row.key_id != key_id(key):
                problem = f"row was keyed with another key ({row.key_id})"
            elif not hmac.compare_digest(row.hash, row_hash(row, key)):
                problem = "content does not match its hash (the row was altered or forged)"
            if problem:
                broken.append(BrokenLink(row.proposal_id, row.seq, row.id, problem))
                chain_broken = True
        seen_keyed = seen_keyed or row.key_id is not None
        sealed_row = seal is not None and row.seq == seal.seq
        if sealed_row and row.hash != seal.head_hash and not chain_broken:
            broken.append(
                BrokenLink(row.proposal_id, row.seq, row.id, "row does not match its seal")
            )
            chain_broken = True
        expected_prev = row.hash
        expected_seq = row.seq + 1
        last_to = row.to_status
        last_row_id = row.id
    finish(current_id)
    missing = set(statuses) - _proposals_with_history()
    for pid in sorted(missing):
        broken.append(BrokenLink(pid, 0, 0, "proposal has no history"))
    for (pid, seq), (_head, at) in sorted(expected_rows.items()):
        checkpoint_problems.append(
            f"proposal {pid}: row #{seq} recorded in the checkpoint of {at} is missing "
            "(the chain was cut or deleted)"
        )
    db.session.expunge_all()
    return VerifyResult(
        proposals=proposals,
        rows=rows,
        broken=broken,
        checkpoints=checkpoints.records if checkpoints else 0,
        checkpoint_problems=checkpoint_problems,
    )


def _sealed(seal: HistorySeal | None, row: StatusChange, key: bytes) -> bool:
    """Whether an unkeyed row lies at or below a seal made with the key."""
    if seal is None or row.seq > seal.seq or seal.key_id != key_id(key):
        return False
    return hmac.compare_digest(
        seal.mac, mac(seal_payload(seal.proposal_id, seal.seq, seal.head_hash), key)
    )


def _proposals_with_history() -> set[int]:
    return set(db.session.scalars(sa.select(StatusChange.proposal_id).distinct()))


@event.listens_for(StatusChange, "before_update")
def _refuse_update(mapper, connection, target):  # pragma: no cover - exercised in tests
    raise HistoryIsAppendOnly("history rows are append-only")


@event.listens_for(StatusChange, "before_delete")
def _refuse_delete(mapper, connection, target):
    raise HistoryIsAppendOnly("history rows are append-only")
