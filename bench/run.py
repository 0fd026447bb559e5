"""Benchmarks: the staff pages, exports, report and import at 1,000 and at 100,000 proposals.

    make bench                                    # SQLite, and PostgreSQL when it answers
    make bench BENCH_ARGS="--proposals 20000 --databases sqlite"
    make bench BENCH_ARGS="--postgresql postgresql+psycopg://postgres@127.0.0.1:5432/tracker_bench"

For each database the data is seeded at ``--small`` proposals, every page is measured, then the
data grows to ``--proposals`` and everything is measured again beside its ceiling
(``bench/ceilings.py``: the same content from hand-written SQL). The tables give the median time
of ``--runs`` requests through the test client, the SQL statements of one request at both sizes,
and ratios: to the ceiling, to the page at the small size, to the first page. The PostgreSQL
database named by ``--postgresql`` is emptied first (created when missing).

The run fails (exit status 1) when a page's statement count differs between the two sizes: a
page's queries must not depend on the number of proposals. Timings are never asserted (they
depend on the machine); requests per second against the Django admin come from the peer harness
(``../shared/peers``, see README "Speed"). Results are written to bench/results/latest.txt.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from datetime import date
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import ceilings  # noqa: E402
from bench.seed import seed  # noqa: E402
from config import TestingConfig  # noqa: E402
from tracker import create_app  # noqa: E402
from tracker.extensions import db  # noqa: E402

DEFAULT_POSTGRESQL = "postgresql+psycopg://postgres@127.0.0.1:5432/tracker_bench"
REFERENCE_WORD = "project 99"  # in about 1 % of the titles, as the peers' search


class Counter:
    """SQL statements seen by SQLAlchemy while active."""

    def __init__(self, engine):
        self.engine, self.n = engine, 0

    def _count(self, *_args):
        self.n += 1

    def __enter__(self):
        self.n = 0
        sa.event.listen(self.engine, "before_cursor_execute", self._count)
        return self

    def __exit__(self, *_exc):
        sa.event.remove(self.engine, "before_cursor_execute", self._count)


def forget_caches() -> None:
    """Empty the pages kept and the counts kept (tracker.core.pagecache, the queue's counts,
    the unread counts), as after a change of the data."""
    from tracker.core import pagecache
    from tracker.notifications import operations as notifications
    from tracker.review import queue

    pagecache._PAGES.clear()
    queue._COUNTS.clear()
    notifications._UNREAD.clear()


def timed(function, runs: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000, result


def peak_python_memory(function) -> float:
    """The most memory Python held above its start while ``function`` ran, in MB."""
    tracemalloc.start()
    try:
        function()
        return tracemalloc.get_traced_memory()[1] / 1e6
    finally:
        tracemalloc.stop()


class Bench:
    def __init__(self, url: str, args):
        self.url, self.args = url, args
        self.kind = url.split("+")[0].split(":")[0]
        self.workdir = Path(tempfile.mkdtemp(prefix="tracker-bench-"))
        self.app = create_app(
            TestingConfig,
            {"SQLALCHEMY_DATABASE_URI": url, "UPLOAD_FOLDER": str(self.workdir / "uploads")},
        )
        with self.app.app_context():
            self.engine = db.engine
        self.client = self.app.test_client()
        self.lines: list[str] = []
        self.dependent: list[str] = []
        self.small: dict[str, tuple[float, int]] = {}
        self.figures: dict[str, float] = {}

    # --- set-up ---------------------------------------------------------------------------

    def prepare(self) -> None:
        if self.kind == "postgresql":
            _empty_postgresql(self.url)
        with self.app.app_context():
            from flask_migrate import upgrade

            upgrade()

    def grow(self, count: int, start: int) -> None:
        began = time.perf_counter()
        seed(self.app, count, start)
        self.say(f"seeded to {count:,} proposals in {time.perf_counter() - began:.1f} s")
        if start == 1:
            self.sign_in()

    def sign_in(self) -> None:
        page = self.client.get("/login").get_data(as_text=True)
        token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        response = self.client.post(
            "/login",
            data={"email": "bench@agency.lu", "password": "bench-password-1", "csrf_token": token},
        )
        assert response.status_code == 302, "the bench account could not sign in"

    def say(self, line: str) -> None:
        print(line, flush=True)
        self.lines.append(line)

    def raw(self):
        return db.session.connection().connection.driver_connection

    # --- the pages ------------------------------------------------------------------------

    def pages(self) -> list[tuple[str, str, dict | None]]:
        """(name, URL, ceiling arguments) of every staff page measured."""
        with self.app.app_context():
            sector_id = db.session.scalar(sa.text("SELECT id FROM sectors WHERE key = 'ict'"))
            total = db.session.scalar(sa.text("SELECT count(*) FROM proposals"))
        proposal_id = self.args.small // 2  # the same proposal at both sizes
        like = "ILIKE" if self.kind == "postgresql" else "LIKE"
        search = {
            "where": f"AND (p.title {like} ? OR p.reference {like} ?)",
            "params": (f"%{REFERENCE_WORD}%",) * 2,
        }
        found = [
            ("queue, first page", "/review/proposals", {}),
            (
                "queue, status+sector",
                f"/review/proposals?status=rejected&sector={sector_id}",
                {
                    "where": "AND p.status = ? AND p.sector_id = ?",
                    "params": ("rejected", sector_id),
                },
            ),
            (
                "queue, text search",
                "/review/proposals?q=" + REFERENCE_WORD.replace(" ", "%20"),
                search,
            ),
            ("queue, page 1,000", "/review/proposals?page=1000", {"offset": 999 * 25}),
            (
                "queue, last page",
                f"/review/proposals?page={(total + 24) // 25}",
                {"offset": (total + 24) // 25 * 25 - 25},
            ),
        ]
        for sort in ("reference", "title", "status", "updated", "requested"):
            found.append(
                (
                    f"queue, sorted by {sort}",
                    f"/review/proposals?sort={sort}&dir=asc",
                    {"order": f"p.{_column(sort)}, p.id"},
                )
            )
        found.append(
            ("proposal page", f"/review/proposals/{proposal_id}", {"proposal": proposal_id})
        )
        # The landing page of staff; its ceiling is the queue page's one query.
        found.append(("my work", "/review/my-work", {}))
        return found

    def measure_page(self, path: str) -> tuple[float, int, float, int]:
        """The page made afresh (every cache emptied first: its queries and its rendering) and
        the page kept (the same address again while the data is unchanged): milliseconds and
        statements of each."""

        def get():
            response = self.client.get(path)
            body = response.get_data()
            assert response.status_code == 200, (path, response.status_code)
            return body

        def fresh():
            forget_caches()
            return get()

        fresh()  # warm: templates compiled
        with Counter(self.engine) as counter:
            fresh()
        made, _ = timed(fresh, self.args.runs)
        get()
        with Counter(self.engine) as kept_counter:
            get()
        kept, _ = timed(get, self.args.runs)
        return made, counter.n, kept, kept_counter.n

    def ceiling_page(self, arguments: dict) -> float:
        with self.app.app_context():
            raw = self.raw()
            if "proposal" in arguments:
                work = lambda: ceilings.proposal_page(raw, self.kind, arguments["proposal"])  # noqa: E731
            else:
                work = lambda: ceilings.queue_page(raw, self.kind, **arguments)  # noqa: E731
            work()
            milliseconds, _ = timed(work, self.args.runs)
            db.session.rollback()
        return milliseconds

    def pages_at_small(self) -> None:
        self.say(f"\n{self.kind}, {self.args.small:,} proposals")
        for name, path, _ceiling in self.pages():
            self.small[name] = self.measure_page(path)
            made, statements, kept, kept_statements = self.small[name]
            self.say(
                f"  {name:30} {made:8.1f} ms {statements:4d} statements;"
                f" kept {kept:5.1f} ms {kept_statements:2d} statements"
            )

    def pages_at_large(self) -> None:
        n = self.args.proposals
        self.say(f"\n{self.kind}, {n:,} proposals: pages (made afresh, then kept)")
        self.say(
            f"  {'page':30} {'ms':>8} {'stmts':>5} {'at 1k':>6} {'ceiling':>8} {'x ceil':>7}"
            f" {'x 1k':>6} {'x first':>8} {'kept ms':>8} {'stmts':>5}"
        )
        first = None
        for name, path, ceiling in self.pages():
            milliseconds, statements, kept, kept_statements = self.measure_page(path)
            small_ms, small_statements, _kept, small_kept = self.small.get(
                name, (float("nan"), statements, float("nan"), kept_statements)
            )
            top = self.ceiling_page(ceiling)
            first = first or milliseconds
            if statements != small_statements:
                self.dependent.append(f"{self.kind}: {name}: {small_statements} -> {statements}")
            if kept_statements != small_kept:
                self.dependent.append(
                    f"{self.kind}: {name} (kept): {small_kept} -> {kept_statements}"
                )
            self.figures[name] = milliseconds
            self.figures[f"{name} (kept)"] = kept
            self.say(
                f"  {name:30} {milliseconds:8.1f} {statements:5d} {small_statements:6d} {top:8.2f}"
                f" {milliseconds / top:7.1f} {milliseconds / small_ms:6.2f} {milliseconds / first:8.2f}"
                f" {kept:8.2f} {kept_statements:5d}"
            )

    # --- exports, report, import ----------------------------------------------------------

    def download(self, path: str) -> int:
        response = self.client.get(path)
        size = sum(len(chunk) for chunk in response.response)
        assert response.status_code == 200, (path, response.status_code)
        return size

    def exports(self) -> None:
        self.say(f"\n{self.kind}, {self.args.proposals:,} proposals: exports and report")
        self.say(f"  {'what':30} {'ms':>8} {'stmts':>5} {'ceiling':>8} {'x ceil':>7} {'MB':>6}")

        def ceiling(work) -> float:
            with self.app.app_context():
                raw = self.raw()
                milliseconds, _ = timed(lambda: work(raw), 1)
                db.session.rollback()
            return milliseconds

        def line(name, path, top, runs=1, memory=True, extra=""):
            self.download(path)  # warm
            with Counter(self.engine) as counter:
                milliseconds, _ = timed(lambda: self.download(path), runs)
            grown = peak_python_memory(lambda: self.download(path)) if memory else float("nan")
            self.figures[name] = milliseconds
            self.say(
                f"  {name:30} {milliseconds:8.0f} {counter.n // runs:5d} {top:8.0f}"
                f" {milliseconds / top:7.2f} {grown:6.1f}{extra}"
            )

        copy = "COPY" if self.kind == "postgresql" else "raw cursor + csv.writer"
        line(
            "CSV, every proposal",
            "/review/proposals.csv",
            ceiling(lambda raw: ceilings.export_csv(raw, self.kind)),
            extra=f"  (ceiling: {copy}; +1 statement on the raw connection)",
        )
        line(
            "XLSX, every proposal",
            "/review/proposals.xlsx",
            ceiling(lambda raw: ceilings.export_xlsx(raw, self.kind)),
            extra="  (ceiling: XlsxWriter constant memory on the rows)",
        )
        with self.app.app_context():
            from tracker.workflow.definitions import states_in_group

            groups = {
                "selected": states_in_group("selected"),
                "rejected": states_in_group("rejected"),
                "after_screening": states_in_group("after_screening"),
            }
        report = ceiling(lambda raw: ceilings.report_json(raw, self.kind, "BPF", 2021, **groups))
        for name, path in (
            ("report JSON 2021", "/reports/selections.json?programme=BPF&year=2021"),
            ("report page 2021", "/reports/selections?programme=BPF&year=2021"),
        ):
            line(
                name, path, report, runs=self.args.runs, memory=False, extra="  (ceiling: its SQL)"
            )

    def import_rows(self) -> None:
        """The tracker's import of ``--proposals`` new rows, against COPY (PostgreSQL) or
        executemany (SQLite) of the rows it writes, both rolled back; then once from the
        command line, committed, for the peak memory of the process."""
        n = self.args.proposals
        path = self.workdir / "import.csv"
        _import_file(path, n)
        with self.app.app_context():
            from tracker.imports import operations as ops

            text = ops.decode(path.read_bytes())
            began = time.perf_counter()
            plan = ops.plan_import(text)
            assert plan.ok, plan.errors[:3]
            ops.execute(plan)
            db.session.flush()
            ours = (time.perf_counter() - began) * 1000
            written = _written_rows(db.session.connection())
            db.session.rollback()
            began = time.perf_counter()
            _load(db.session.connection(), written)
            top = (time.perf_counter() - began) * 1000
            db.session.rollback()
        # The command's own peak, measured by time(1): a child's rusage would count the memory
        # of this process, which it starts as a copy of.
        command = [str(Path(sys.executable).parent / "tracker"), "import", "proposals", str(path)]
        timer = shutil.which("time") or "/usr/bin/time"
        measured = Path(timer).exists()
        result = subprocess.run(
            ([timer, "-f", "peak-kb %M"] if measured else []) + command,
            env=dict(os.environ, TRACKER_DATABASE_URL=self.url),
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        assert result.returncode == 0, result.stderr[-2000:]
        peaks = [line for line in result.stderr.splitlines() if line.startswith("peak-kb ")]
        peak = int(peaks[-1].split()[1]) / 1024 if peaks else float("nan")
        self.figures["import"] = ours
        self.say(
            f"  {'import of ' + format(n, ',') + ' rows':30} {ours:8.0f} {'':5} {top:8.0f}"
            f" {ours / top:7.2f} {peak:6.0f}  (ceiling: {'COPY' if self.kind == 'postgresql' else 'executemany'}"
            " of its proposal, partner, history and HRDD rows; MB is the command's peak RSS)"
        )

    def run(self) -> None:
        self.prepare()
        self.grow(self.args.small, 1)
        self.pages_at_small()
        self.grow(self.args.proposals, self.args.small + 1)
        self.pages_at_large()
        self.exports()
        if not self.args.skip_import:
            self.import_rows()


def _column(sort: str) -> str:
    return {"updated": "updated_at", "requested": "requested_eur"}.get(sort, sort)


def _empty_postgresql(url: str) -> None:
    target = sa.make_url(url)
    admin = sa.create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        exists = connection.scalar(
            sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": target.database}
        )
        if not exists:
            connection.execute(sa.text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()
    engine = sa.create_engine(target, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(sa.text("DROP SCHEMA public CASCADE"))
        connection.execute(sa.text("CREATE SCHEMA public"))
        connection.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
    engine.dispose()


def _import_file(path: Path, n: int) -> None:
    """``n`` rows in the import format (DESIGN section 6), references of their own programme."""
    outcomes = ["submitted", "rejected", "rejected", "withdrawn", "selected", "contracted"]
    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(
            [
                "reference", "programme", "call", "title", "lead_organisation", "lead_country",
                "partner_organisation", "partner_country", "sector", "total_budget_eur",
                "requested_eur", "submitted_on", "outcome", "decided_on", "granted_eur",
                "contracted_on", "hrdd_category",
            ]
        )  # fmt: skip
        for i in range(n):
            year = 2016 + i % 9
            outcome = outcomes[i % len(outcomes)]
            decided = outcome != "submitted"
            writer.writerow(
                [
                    f"IMP-{year}-{i:06d}", "IMP", f"Import call {year}", f"Imported project {i}",
                    f"Importing company {i % 2000}", "LU", f"Partner {i % 3000}", "VN",
                    "ict", "300000.00", "150000.00", f"{year}-02-01", outcome,
                    f"{year}-06-01" if decided else "",
                    "150000.00" if outcome in ("selected", "contracted") else "",
                    f"{year}-09-01" if outcome == "contracted" else "",
                    "B" if outcome in ("selected", "contracted") else "",
                ]
            )  # fmt: skip


TABLES = (
    "programmes",
    "calls",
    "organisations",
    "proposals",
    "partners",
    "status_changes",
    "hrdd_assessments",
)


def _written_rows(connection) -> dict[str, tuple[list[str], list[tuple]]]:
    """The rows the import wrote (read back inside its transaction), as the ceiling's input."""
    found = {}
    for table in TABLES:
        columns = [c["name"] for c in sa.inspect(connection).get_columns(table)]
        where = {
            "programmes": "code = 'IMP'",
            "calls": "programme_id IN (SELECT id FROM programmes WHERE code = 'IMP')",
            "organisations": "substr(name, 1, 18) = 'Importing company '",
            "proposals": "substr(reference, 1, 4) = 'IMP-'",
        }.get(
            table,
            "proposal_id IN (SELECT id FROM proposals WHERE substr(reference, 1, 4) = 'IMP-')",
        )
        rows = connection.exec_driver_sql(
            f"SELECT {', '.join(columns)} FROM {table} WHERE {where}"
        ).fetchall()
        # JSON read back as Python values goes back as JSON text (prepared before the timing).
        found[table] = (
            columns,
            [
                tuple(json.dumps(v) if isinstance(v, (dict, list)) else v for v in row)
                for row in rows
            ],
        )
    return found


def _load(connection, written) -> None:
    """The ceiling: the same rows, ids included, into the same tables (the import was rolled
    back, so its ids are free), by COPY or executemany."""
    raw = connection.connection.driver_connection
    postgresql = connection.dialect.name == "postgresql"
    for table in TABLES:
        columns, rows = written[table]
        names = ", ".join(columns)
        if postgresql:
            with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" for _ in columns)
            raw.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)


def _postgresql_answers(url: str) -> bool:
    with contextlib.suppress(Exception):
        engine = sa.create_engine(sa.make_url(url).set(database="postgres"))
        with engine.connect():
            pass
        engine.dispose()
        return True
    return False


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--proposals", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--postgresql", default=DEFAULT_POSTGRESQL)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--skip-import", action="store_true")
    args = parser.parse_args()

    benches = []
    for kind in args.databases.split(","):
        if kind == "postgresql" and not _postgresql_answers(args.postgresql):
            print(f"PostgreSQL does not answer at {args.postgresql}: measured on SQLite only.")
            continue
        url = args.postgresql if kind == "postgresql" else None
        bench = Bench(url or "sqlite:///" + str(Path(tempfile.mkdtemp()) / "bench.db"), args)
        bench.run()
        benches.append(bench)
    lines = [f"{date.today()} · {args.proposals:,} proposals (and {args.small:,})"]
    for bench in benches:
        lines += bench.lines
    by_kind = {bench.kind: bench for bench in benches}
    if {"sqlite", "postgresql"} <= set(by_kind):
        lines.append("\nSQLite time / PostgreSQL time")
        for name, milliseconds in by_kind["sqlite"].figures.items():
            other = by_kind["postgresql"].figures.get(name)
            if other:
                lines.append(f"  {name:30} {milliseconds / other:6.2f}")
        print("\n".join(lines[-len(by_kind["sqlite"].figures) - 1 :]))
    dependent = [d for bench in benches for d in bench.dependent]
    if dependent:
        lines.append("\nStatement counts that depend on the number of proposals:")
        lines += [f"  {d}" for d in dependent]
        print("\n".join(lines[-len(dependent) - 1 :]))
    results = ROOT / "bench" / "results"
    results.mkdir(exist_ok=True)
    (results / "latest.txt").write_text("\n".join(lines) + "\n")
    return 1 if dependent else 0


if __name__ == "__main__":
    raise SystemExit(main())
