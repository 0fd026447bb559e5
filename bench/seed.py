"""The benchmark's data: one programme, a call a year since 2016, a thousand companies, and
proposals with a two-row imported history each, written in bulk (the tracker's own import is
measured on its own). The shape matches the peer harness's (``../shared/peers``)."""

from __future__ import annotations

import hashlib
import json
import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa

from tracker.extensions import db

STATUSES = [
    ("submitted", 20),
    ("screening", 10),
    ("hrdd_review", 5),
    ("evaluation", 5),
    ("selection", 2),
    ("rejected", 40),
    ("withdrawn", 10),
    ("selected", 3),
    ("contracted", 5),
]
COUNTRIES = ["BF", "CV", "ET", "ML", "NE", "SN", "LA", "MN", "MM", "VN", "SV", "NI", "XK"]
WORDS = ["Solar", "Water", "Digital", "Cold-chain", "Health"]
BATCH = 5000

PROPOSAL_COLUMNS = (
    "id",
    "call_id",
    "organisation_id",
    "reference",
    "status",
    "version",
    "imported",
    "created_at",
    "updated_at",
    "submitted_at",
    "title",
    "lead_name",
    "lead_country",
    "lead_is_road_haulage",
    "sector_id",
    "target_countries",
    "sdgs",
    "total_cost_eur",
    "requested_eur",
    "granted_eur",
    "declared_accuracy",
    "declared_de_minimis",
    "declared_data_protection",
    "partner_country",
    "unsaved_inputs",
)
CHANGE_COLUMNS = (
    "proposal_id",
    "seq",
    "from_status",
    "to_status",
    "transition",
    "actor_id",
    "created_at",
    "comment",
    "internal_note",
    "imported",
    "prev_hash",
    "hash",
)


def chain_hash(payload: dict) -> str:
    return hashlib.sha256(
        json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()


def seed(app, count: int, start: int = 1) -> None:
    """Proposals number ``start`` to ``count``; the first call also makes the programme, its
    calls, the companies and the bench@agency.lu account."""
    with app.app_context():
        from tracker.programmes.models import Call, Sector

        if start == 1:
            _fixtures()
        sectors = [s.id for s in db.session.scalars(sa.select(Sector).order_by(Sector.id))]
        calls = [
            (call.opens_at.year, call.id)
            for call in db.session.scalars(sa.select(Call).order_by(Call.opens_at))
        ]
        organisations = sa.table("organisations", sa.column("id"))
        organisation_ids = list(
            db.session.scalars(sa.select(organisations.c.id).order_by(organisations.c.id))
        )
        connection = db.session.connection()
        _proposals(connection, range(start, count + 1), calls, sectors, organisation_ids)
        if connection.dialect.name == "postgresql":
            connection.execute(
                sa.text("SELECT setval('proposals_id_seq', (SELECT max(id) FROM proposals))")
            )
        db.session.commit()
        if connection.dialect.name == "postgresql":
            with db.engine.connect() as fresh:
                fresh.execution_options(isolation_level="AUTOCOMMIT").execute(
                    sa.text("VACUUM ANALYZE")
                )
        else:
            db.session.execute(sa.text("ANALYZE"))
            db.session.commit()


def _fixtures() -> None:
    from tracker.auth.operations import create_user
    from tracker.programmes.models import Call, Programme

    create_user(
        email="bench@agency.lu",
        name="Bench Reviewer",
        roles=["reviewer", "reporting", "admin"],
        password="bench-password-1",
    )
    programme = Programme(
        code="BPF", name="Business Partnership Facility", first_year=2016, description=""
    )
    db.session.add(programme)
    for year in range(2016, 2027):
        db.session.add(
            Call(
                programme=programme,
                title=f"Call {year}",
                workflow_key="bpf-single-stage",
                opens_at=datetime(year, 1, 10, tzinfo=UTC),
                closes_at=datetime(year, 3, 31, tzinfo=UTC),
                partner_countries=COUNTRIES,
                imported=True,
            )
        )
    db.session.flush()
    organisations = sa.table(
        "organisations", sa.column("name"), sa.column("country"), sa.column("created_at")
    )
    created = datetime(2015, 1, 1)
    db.session.connection().execute(
        organisations.insert(),
        [{"name": f"Company {i}", "country": "LU", "created_at": created} for i in range(1000)],
    )


def _proposals(connection, numbers: range, calls, sectors, organisation_ids) -> None:
    rnd = random.Random(42 + numbers.start)
    is_sqlite = connection.dialect.name == "sqlite"
    proposals = sa.table("proposals", *[sa.column(c) for c in PROPOSAL_COLUMNS])
    changes = sa.table("status_changes", *[sa.column(c) for c in CHANGE_COLUMNS])
    statuses = [s for s, weight in STATUSES for _ in range(weight)]

    def stamp(value: datetime):
        return value.replace(tzinfo=None) if is_sqlite else value

    batch, history = [], []
    for number in numbers:
        year, call_id = calls[number % len(calls)]
        status = rnd.choice(statuses)
        submitted = datetime(year, 2, 1, 9, tzinfo=UTC) + timedelta(minutes=number)
        total = Decimal(rnd.randrange(100_000, 900_000))
        requested = min(total / 2, Decimal(200_000))
        batch.append(
            {
                "id": number,
                "call_id": call_id,
                "organisation_id": rnd.choice(organisation_ids),
                "reference": f"BPF-{year}-{number:06d}",
                "status": status,
                "version": 2,
                "imported": True,
                "created_at": stamp(submitted),
                "updated_at": stamp(submitted),
                "submitted_at": stamp(submitted),
                "title": f"{rnd.choice(WORDS)} project {number}",
                "lead_name": f"Company {number % 1000}",
                "lead_country": "LU",
                "lead_is_road_haulage": False,
                "sector_id": rnd.choice(sectors),
                "target_countries": "[]",
                "sdgs": "[]",
                "total_cost_eur": str(total),
                "requested_eur": str(requested),
                "granted_eur": str(requested) if status in ("selected", "contracted") else None,
                "declared_accuracy": True,
                "declared_de_minimis": True,
                "declared_data_protection": True,
                "partner_country": rnd.choice(COUNTRIES),
                "unsaved_inputs": "{}",
            }
        )
        history += _history(number, submitted, status, stamp)
        if len(batch) >= BATCH:
            connection.execute(proposals.insert(), batch)
            connection.execute(changes.insert(), history)
            batch, history = [], []
    if batch:
        connection.execute(proposals.insert(), batch)
        connection.execute(changes.insert(), history)


def _history(number: int, submitted: datetime, status: str, stamp) -> list[dict]:
    """Submitted, then the proposal's status four months later (plain SHA-256 rows, as rows
    written before the history key are; ``tracker history seal`` would seal them)."""
    rows, previous = [], None
    for seq, (from_status, to_status, at) in enumerate(
        [(None, "submitted", submitted), ("submitted", status, submitted + timedelta(days=120))],
        start=1,
    ):
        payload = {
            "proposal": number,
            "seq": seq,
            "from": from_status,
            "to": to_status,
            "transition": "import",
            "actor": None,
            "at": at.isoformat(timespec="microseconds"),
            "comment": "",
            "prev": previous,
        }
        digest = chain_hash(payload)
        rows.append(
            {
                "proposal_id": number,
                "seq": seq,
                "from_status": from_status,
                "to_status": to_status,
                "transition": "import",
                "actor_id": None,
                "created_at": stamp(at),
                "comment": "",
                "internal_note": "",
                "imported": True,
                "prev_hash": previous,
                "hash": digest,
            }
        )
        previous = digest
    return rows
