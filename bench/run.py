"""Benchmarks: the staff pages, exports and reports over a database of many proposals.

    make bench                         # 100,000 proposals on SQLite
    make bench BENCH_ARGS="--proposals 20000 --database postgresql+psycopg://postgres@127.0.0.1/bench"

Each measure runs a few times through the test client; the table shows the median time and the
number of SQL queries of one run. Results are written to bench/results/latest.txt too.
Timings are never asserted in tests (they depend on the machine); query counts are.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from config import TestingConfig  # noqa: E402
from tracker import create_app  # noqa: E402
from tracker.extensions import db  # noqa: E402

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


def chain_hash(payload: dict) -> str:
    return hashlib.sha256(
        json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()


def seed(app, count: int) -> None:
    """Bulk-insert programmes, calls, organisations, proposals and a two-row history each."""
    rnd = random.Random(42)
    with app.app_context():
        from tracker.auth.operations import create_user
        from tracker.programmes.models import Call, Programme, Sector

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
        db.session.flush()
        sectors = list(db.session.scalars(sa.select(Sector)))
        calls = []
        for year in range(2016, 2027):
            call = Call(
                programme=programme,
                title=f"Call {year}",
                workflow_key="bpf-single-stage",
                opens_at=datetime(year, 1, 10, tzinfo=UTC),
                closes_at=datetime(year, 3, 31, tzinfo=UTC),
                partner_countries=COUNTRIES,
                imported=True,
            )
            db.session.add(call)
            calls.append((year, call))
        db.session.flush()
        organisation_ids = []
        connection = db.session.connection()
        organisations = sa.table(
            "organisations",
            sa.column("id"),
            sa.column("name"),
            sa.column("country"),
            sa.column("created_at"),
        )
        connection.execute(
            organisations.insert(),
            [
                {
                    "name": f"Company {i}",
                    "country": "LU",
                    "created_at": datetime(2015, 1, 1, tzinfo=UTC).replace(tzinfo=None),
                }
                for i in range(1000)
            ],
        )
        organisation_ids = list(
            db.session.scalars(sa.select(sa.column("id")).select_from(organisations))
        )
        statuses = [s for s, weight in STATUSES for _ in range(weight)]
        proposals = sa.table(
            "proposals",
            *[
                sa.column(c)
                for c in (
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
            ],
        )
        changes = sa.table(
            "status_changes",
            *[
                sa.column(c)
                for c in (
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
            ],
        )
        is_sqlite = connection.dialect.name == "sqlite"

        def stamp(value: datetime):
            return value.replace(tzinfo=None) if is_sqlite else value

        batch, history = [], []
        for number in range(1, count + 1):
            year, call = calls[number % len(calls)]
            status = rnd.choice(statuses)
            submitted = datetime(year, 2, 1, 9, tzinfo=UTC) + timedelta(minutes=number)
            total = Decimal(rnd.randrange(100_000, 900_000))
            requested = min(total / 2, Decimal(200_000))
            batch.append(
                {
                    "id": number,
                    "call_id": call.id,
                    "organisation_id": rnd.choice(organisation_ids),
                    "reference": f"BPF-{year}-{number:06d}",
                    "status": status,
                    "version": 2,
                    "imported": True,
                    "created_at": stamp(submitted),
                    "updated_at": stamp(submitted),
                    "submitted_at": stamp(submitted),
                    "title": f"{rnd.choice(['Solar', 'Water', 'Digital', 'Cold-chain', 'Health'])} project {number}",
                    "lead_name": f"Company {number % 1000}",
                    "lead_country": "LU",
                    "lead_is_road_haulage": False,
                    "sector_id": rnd.choice(sectors).id,
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
            first = {
                "proposal": number,
                "seq": 1,
                "from": None,
                "to": "submitted",
                "transition": "import",
                "actor": None,
                "at": submitted.isoformat(timespec="microseconds"),
                "comment": "",
                "prev": None,
            }
            first_hash = chain_hash(first)
            decided = submitted + timedelta(days=120)
            second = {
                "proposal": number,
                "seq": 2,
                "from": "submitted",
                "to": status,
                "transition": "import",
                "actor": None,
                "at": decided.isoformat(timespec="microseconds"),
                "comment": "",
                "prev": first_hash,
            }
            history += [
                {
                    "proposal_id": number,
                    "seq": 1,
                    "from_status": None,
                    "to_status": "submitted",
                    "transition": "import",
                    "actor_id": None,
                    "created_at": stamp(submitted),
                    "comment": "",
                    "internal_note": "",
                    "imported": True,
                    "prev_hash": None,
                    "hash": first_hash,
                },
                {
                    "proposal_id": number,
                    "seq": 2,
                    "from_status": "submitted",
                    "to_status": status,
                    "transition": "import",
                    "actor_id": None,
                    "created_at": stamp(decided),
                    "comment": "",
                    "internal_note": "",
                    "imported": True,
                    "prev_hash": first_hash,
                    "hash": chain_hash(second),
                },
            ]
            if len(batch) >= 5000:
                connection.execute(proposals.insert(), batch)
                connection.execute(changes.insert(), history)
                batch, history = [], []
        if batch:
            connection.execute(proposals.insert(), batch)
            connection.execute(changes.insert(), history)
        if connection.dialect.name == "postgresql":
            connection.execute(
                sa.text("SELECT setval('proposals_id_seq', (SELECT max(id) FROM proposals))")
            )
            connection.execute(sa.text("ANALYZE"))
        db.session.commit()


def measure(app, client, name, path, runs=5):
    counter = {"n": 0}

    def count(*_args):
        counter["n"] += 1

    with app.app_context():
        engine = db.engine
    times, size, queries = [], 0, 0
    for _ in range(runs):
        counter["n"] = 0
        sa.event.listen(engine, "before_cursor_execute", count)
        start = time.perf_counter()
        response = client.get(path)
        body = response.get_data()
        times.append(time.perf_counter() - start)
        sa.event.remove(engine, "before_cursor_execute", count)
        assert response.status_code == 200, (path, response.status_code)
        size, queries = len(body), counter["n"]
    return name, statistics.median(times) * 1000, queries, size


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--proposals", type=int, default=100_000)
    parser.add_argument(
        "--database", help="an empty database URL (default: a temporary SQLite file)"
    )
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="tracker-bench-"))
    url = args.database or f"sqlite:///{workdir / 'bench.db'}"
    app = create_app(
        TestingConfig, {"SQLALCHEMY_DATABASE_URI": url, "UPLOAD_FOLDER": str(workdir / "uploads")}
    )
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
    started = time.perf_counter()
    seed(app, args.proposals)
    print(
        f"Seeded {args.proposals:,} proposals ({url.split('://')[0]}) in {time.perf_counter() - started:.1f} s"
    )

    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    client.post(
        "/login",
        data={"email": "bench@agency.lu", "password": "bench-password-1", "csrf_token": token},
    )
    with app.app_context():
        sector_id = db.session.scalar(sa.text("SELECT id FROM sectors WHERE key = 'ict'"))
        reference = db.session.scalar(
            sa.text(
                "SELECT reference FROM proposals WHERE id = 77777 % (SELECT max(id) FROM proposals) + 1"
            )
        )
        proposal_id = db.session.scalar(
            sa.text("SELECT id FROM proposals WHERE reference = :r"), {"r": reference}
        )
    measures = [
        ("queue, first page (25)", "/review/proposals"),
        ("queue, 100 per page", "/review/proposals?per_page=100"),
        ("queue, last page", "/review/proposals?page=100000"),
        (
            "queue, status+sector+country",
            f"/review/proposals?status=rejected&sector={sector_id}&country=VN",
        ),
        ("queue, text search", "/review/proposals?q=cold-chain"),
        ("queue, by reference", f"/review/proposals?q={reference}"),
        ("queue, sorted by title", "/review/proposals?sort=title&dir=asc"),
        ("proposal page", f"/review/proposals/{proposal_id}"),
        ("export CSV, one status", "/review/proposals.csv?status=selected"),
        ("export CSV, everything", "/review/proposals.csv"),
        ("export XLSX, one status", "/review/proposals.xlsx?status=contracted"),
    ]
    if "reports.selections" in app.view_functions:
        measures += [
            ("report page 2021", "/reports/selections?programme=BPF&year=2021"),
            ("report JSON 2021", "/reports/selections.json?programme=BPF&year=2021"),
            ("report XLSX 2021", "/reports/selections.xlsx?programme=BPF&year=2021"),
        ]
    lines = [f"{'measure':34} {'median ms':>10} {'queries':>8} {'bytes':>12}"]
    for name, path in measures:
        runs = 1 if "everything" in name else args.runs
        result = measure(app, client, name, path, runs)
        lines.append(f"{result[0]:34} {result[1]:10.1f} {result[2]:8d} {result[3]:12,d}")
        print(lines[-1], flush=True)
    results = ROOT / "bench" / "results"
    results.mkdir(exist_ok=True)
    header = f"{date.today()} · {args.proposals:,} proposals · {url.split('://')[0]}"
    (results / "latest.txt").write_text(header + "\n" + "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
