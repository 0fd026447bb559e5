"""Importing historical proposals from CSV (DESIGN section 6): all or nothing, idempotent.

The whole file is read and checked first; only a file without errors is written, in one
transaction, in batches of a few thousand rows per statement. Each proposal gets a backdated
history chained and keyed by the same rule as live transitions, marked as imported.
"""

from __future__ import annotations

import csv
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from tracker.auth.models import Organisation
from tracker.core import bulk, generation
from tracker.core.countries import is_country, oecd_dac_recipients
from tracker.core.time import LUXEMBOURG, local_date_at
from tracker.extensions import db
from tracker.programmes.models import Call, Programme, Sector
from tracker.programmes.operations import find_sector
from tracker.proposals.models import Partner, PartnerKind, Proposal
from tracker.review.models import HrddAssessment, RiskCategory
from tracker.workflow.definitions import (
    BPF_SINGLE_STAGE,
    IMPORT,
    get_workflow,
    states_in_group,
)
from tracker.workflow.history import history_key, imported_chain, key_id
from tracker.workflow.models import StatusChange

COLUMNS = (
    "reference",
    "programme",
    "call",
    "title",
    "lead_organisation",
    "lead_country",
    "partner_organisation",
    "partner_country",
    "sector",
    "total_budget_eur",
    "requested_eur",
    "submitted_on",
    "outcome",
    "decided_on",
    "granted_eur",
    "contracted_on",
    "hrdd_category",
)
OUTCOMES = ("submitted", "rejected", "withdrawn", "selected", "contracted")
# Needed on every line; the others depend on the outcome.
OUTCOME_FIELDS = ("decided_on", "granted_eur", "contracted_on", "hrdd_category")
REQUIRED_ALWAYS = tuple(c for c in COLUMNS if c not in OUTCOME_FIELDS)
AMOUNT = re.compile(r"\d+(\.\d{1,2})?")
MAX_LENGTHS = {
    "reference": 40,
    "programme": 20,
    "call": 200,
    "title": 200,
    "lead_organisation": 200,
    "partner_organisation": 200,
}


@dataclass(frozen=True)
class ImportProblem:
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}" + (f", {self.field}" if self.field else "")
        return f"{where}: {self.message}"


@dataclass(slots=True)
class Row:
    """One valid line of the file, with typed values."""

    line: int
    reference: str
    programme: str
    call: str
    title: str
    lead_organisation: str
    lead_country: str
    partner_organisation: str
    partner_country: str
    sector: Sector
    total: Decimal
    requested: Decimal
    submitted_on: date
    outcome: str
    decided_on: date | None
    granted: Decimal | None
    contracted_on: date | None
    hrdd_category: str | None

    def signature(self) -> tuple:
        return (
            self.programme,
            self.call,
            self.title,
            self.lead_organisation,
            self.lead_country,
            self.partner_organisation,
            self.partner_country,
            self.sector.key,
            self.total,
            self.requested,
            self.submitted_on,
            self.outcome,
            self.effective_decided_on,
            self.granted,
            self.contracted_on,
            self.hrdd_category,
        )

    @property
    def effective_decided_on(self) -> date | None:
        if self.outcome == "withdrawn" and self.decided_on is None:
            return self.submitted_on  # DESIGN: a withdrawal without a date is dated at submission
        return self.decided_on


@dataclass
class Plan:
    """What an import would do: the rows to create, those already there, and every error."""

    rows_read: int = 0
    create: list[Row] = field(default_factory=list)
    unchanged: list[Row] = field(default_factory=list)
    errors: list[ImportProblem] = field(default_factory=list)
    new_programmes: dict[str, int] = field(default_factory=dict)  # code -> first year
    new_calls: list[tuple[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def by_outcome(self, rows: list[Row] | None = None) -> dict[str, int]:
        counts = Counter(r.outcome for r in (self.create if rows is None else rows))
        return {o: counts[o] for o in OUTCOMES if counts[o]}


Progress = Callable[[str, int], None]


def _nothing(_stage: str, _count: int) -> None:
    pass


# --- reading and checking --------------------------------------------------------------------


def decode(data: bytes) -> str:
    """UTF-8, with or without a byte-order mark."""
    return data.decode("utf-8-sig")


def _lines(text: str) -> Iterator[str]:
    """The text's lines with their endings, one at a time (a StringIO of a large file would hold
    a second copy of it, four bytes a character). Lines end in LF or CR LF, or in CR alone in a
    file without any LF (old spreadsheets)."""
    newline = "\n" if "\n" in text else "\r"
    start = 0
    while (end := text.find(newline, start)) != -1:
        yield text[start : end + 1]
        start = end + 1
    if start < len(text):
        yield text[start:]


def read(text: str, errors: list[ImportProblem]) -> Iterator[tuple[int, dict[str, str]]]:
    """Rows with the physical line where each starts (the header is line 1), one at a time (a
    large file's rows are never all held as text); problems are added to ``errors``."""
    reader = csv.reader(_lines(text))
    try:
        header = next(reader)
    except StopIteration:
        errors.append(ImportProblem(1, "", "the file is empty: a header row is expected"))
        return
    except csv.Error as error:
        errors.append(ImportProblem(1, "", f"not a readable CSV file ({error})"))
        return
    names = [h.strip().lower() for h in header]
    missing = [c for c in COLUMNS if c not in names]
    unknown = [h for h in names if h not in COLUMNS]
    if missing:
        errors.append(ImportProblem(1, "", f"missing column(s): {', '.join(missing)}"))
    if unknown:
        errors.append(ImportProblem(1, "", f"unknown column(s): {', '.join(unknown)}"))
    duplicated = [n for n, k in Counter(names).items() if k > 1]
    if duplicated:
        errors.append(ImportProblem(1, "", f"repeated column(s): {', '.join(duplicated)}"))
    if missing or unknown or duplicated:
        return
    line = reader.line_num + 1
    while True:
        try:
            values = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            errors.append(ImportProblem(line, "", f"not a readable CSV line ({error})"))
            break
        start, line = line, reader.line_num + 1
        if not any(v.strip() for v in values):
            continue  # blank lines are allowed
        if len(values) != len(names):
            errors.append(
                ImportProblem(
                    start, "", f"{len(values)} values where the header has {len(names)} columns"
                )
            )
            continue
        yield start, {name: value.strip() for name, value in zip(names, values, strict=True)}


def _date(value: str, line: int, name: str, errors: list) -> date | None:
    if not value:
        return None
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        errors.append(ImportProblem(line, name, f"“{value}” is not a date in the form YYYY-MM-DD"))
        return None


def _amount(value: str, line: int, name: str, errors: list) -> Decimal | None:
    if not value:
        return None
    if not AMOUNT.fullmatch(value):
        errors.append(
            ImportProblem(
                line,
                name,
                f"“{value}” is not an amount in euros such as 150000.00 "
                "(digits, a dot and at most two decimals)",
            )
        )
        return None
    try:
        amount = Decimal(value)
    except InvalidOperation:  # pragma: no cover - the pattern rules this out
        errors.append(ImportProblem(line, name, f"“{value}” is not a number"))
        return None
    if amount >= Decimal("10000000000"):
        errors.append(ImportProblem(line, name, f"{value} is too large"))
        return None
    return amount.quantize(Decimal("0.01"))


def check_row(
    line: int, raw: dict[str, str], sectors: Callable[[str], Sector | None]
) -> tuple[Row | None, list]:
    """Type and rule checks of one line; returns the row or its errors."""
    errors: list[ImportProblem] = []
    outcome = raw["outcome"].lower()
    for name in REQUIRED_ALWAYS:
        if not raw[name]:
            errors.append(ImportProblem(line, name, "is required"))
    for name, limit in MAX_LENGTHS.items():
        if len(raw[name]) > limit:
            errors.append(ImportProblem(line, name, f"is longer than {limit} characters"))
    if raw["outcome"] and outcome not in OUTCOMES:
        errors.append(
            ImportProblem(
                line, "outcome", f"“{raw['outcome']}” is not one of {', '.join(OUTCOMES)}"
            )
        )
    for name in ("lead_country", "partner_country"):
        code = raw[name]
        if code and (len(code) != 2 or not is_country(code)):
            errors.append(
                ImportProblem(line, name, f"“{code}” is not an ISO 3166-1 alpha-2 country code")
            )
    sector = None
    if raw["sector"]:
        sector = sectors(raw["sector"])
        if sector is None:
            errors.append(ImportProblem(line, "sector", f"unknown sector “{raw['sector']}”"))
    total = _amount(raw["total_budget_eur"], line, "total_budget_eur", errors)
    requested = _amount(raw["requested_eur"], line, "requested_eur", errors)
    granted = _amount(raw["granted_eur"], line, "granted_eur", errors)
    submitted_on = _date(raw["submitted_on"], line, "submitted_on", errors)
    decided_on = _date(raw["decided_on"], line, "decided_on", errors)
    contracted_on = _date(raw["contracted_on"], line, "contracted_on", errors)
    category = raw["hrdd_category"].upper() or None
    if category and category not in ("A", "B", "C"):
        errors.append(
            ImportProblem(
                line, "hrdd_category", f"“{raw['hrdd_category']}” is not A, B, C or empty"
            )
        )

    # What the outcome needs, and what it excludes.
    if outcome in ("rejected", "selected", "contracted") and not raw["decided_on"]:
        errors.append(
            ImportProblem(line, "decided_on", f"is required when the outcome is {outcome}")
        )
    if outcome in ("selected", "contracted") and not raw["granted_eur"]:
        errors.append(
            ImportProblem(line, "granted_eur", f"is required when the outcome is {outcome}")
        )
    if outcome == "contracted" and not raw["contracted_on"]:
        errors.append(
            ImportProblem(line, "contracted_on", "is required when the outcome is contracted")
        )
    if outcome in ("submitted", "rejected", "withdrawn") and raw["granted_eur"]:
        errors.append(
            ImportProblem(
                line, "granted_eur", f"must be empty: a {outcome} proposal was granted nothing"
            )
        )
    if outcome != "contracted" and outcome in OUTCOMES and raw["contracted_on"]:
        errors.append(
            ImportProblem(line, "contracted_on", f"must be empty when the outcome is {outcome}")
        )
    if outcome == "submitted" and raw["decided_on"]:
        errors.append(
            ImportProblem(
                line, "decided_on", "must be empty when the outcome is submitted (no decision yet)"
            )
        )

    # Amounts and dates that contradict each other.
    if total is not None and total <= 0:
        errors.append(ImportProblem(line, "total_budget_eur", "must be more than zero"))
    if total is not None and requested is not None and requested > total:
        errors.append(
            ImportProblem(
                line, "requested_eur", f"{requested} is more than the total budget {total}"
            )
        )
    if total is not None and granted is not None and granted > total:
        errors.append(
            ImportProblem(line, "granted_eur", f"{granted} is more than the total budget {total}")
        )
    if requested is not None and granted is not None and granted > requested:
        errors.append(
            ImportProblem(
                line, "granted_eur", f"{granted} is more than the amount requested {requested}"
            )
        )
    if submitted_on and decided_on and decided_on < submitted_on:
        errors.append(
            ImportProblem(
                line, "decided_on", f"{decided_on} is before the submission {submitted_on}"
            )
        )
    if decided_on and contracted_on and contracted_on < decided_on:
        errors.append(
            ImportProblem(
                line, "contracted_on", f"{contracted_on} is before the decision {decided_on}"
            )
        )
    if errors:
        return None, errors
    return (
        Row(
            line=line,
            reference=raw["reference"],
            programme=raw["programme"].upper(),
            call=raw["call"],
            title=raw["title"],
            lead_organisation=raw["lead_organisation"],
            lead_country=raw["lead_country"].upper(),
            partner_organisation=raw["partner_organisation"],
            partner_country=raw["partner_country"].upper(),
            sector=sector,
            total=total,
            requested=requested,
            submitted_on=submitted_on,
            outcome=outcome,
            decided_on=decided_on,
            granted=granted,
            contracted_on=contracted_on,
            hrdd_category=category,
        ),
        [],
    )


def outcome_of(proposal: Proposal) -> str:
    """The import outcome a proposal's status stands for, asked of its workflow's groups."""
    workflow = get_workflow(proposal.call.workflow_key)
    for outcome in ("rejected", "withdrawn", "contracted", "selected"):
        if workflow.in_group(proposal.status, outcome):
            return outcome
    if workflow.in_group(proposal.status, "granted"):
        return "selected"
    return "submitted"


def existing_signature(
    proposal: Proposal,
    partner: Partner | None,
    category: str | None,
    decided: date | None,
    contracted: date | None,
) -> tuple:
    outcome = outcome_of(proposal)
    return (
        proposal.call.programme.code,
        proposal.call.title,
        proposal.title,
        proposal.lead_name,
        proposal.lead_country,
        partner.name if partner else None,
        partner.country if partner else None,
        proposal.sector.key if proposal.sector else None,
        proposal.total_cost_eur,
        proposal.requested_eur,
        proposal.submitted_at.astimezone(LUXEMBOURG).date() if proposal.submitted_at else None,
        outcome,
        decided,
        proposal.granted_eur,
        contracted,
        category,
    )


def _known_signatures(references: list[str]) -> dict[str, tuple]:
    """What the tracker holds for these references, in the file's terms (a few queries in all)."""
    found: dict[str, tuple] = {}
    for chunk in range(0, len(references), 500):
        batch = references[chunk : chunk + 500]
        proposals = list(
            db.session.scalars(
                sa.select(Proposal)
                .where(Proposal.reference.in_(batch))
                .options(
                    selectinload(Proposal.partners),
                    selectinload(Proposal.call).selectinload(Call.programme),
                    selectinload(Proposal.sector),
                )
            )
        )
        if not proposals:
            continue
        ids = [p.id for p in proposals]
        categories = dict(
            db.session.execute(
                sa.select(HrddAssessment.proposal_id, HrddAssessment.risk_category).where(
                    HrddAssessment.proposal_id.in_(ids)
                )
            ).all()
        )
        decided: dict[int, date] = {}
        contracted: dict[int, date] = {}
        deciding = (
            states_in_group("rejected") | states_in_group("withdrawn") | states_in_group("selected")
        )
        signed = states_in_group("contracted")
        for pid, to_status, at in db.session.execute(
            sa.select(StatusChange.proposal_id, StatusChange.to_status, StatusChange.created_at)
            .where(StatusChange.proposal_id.in_(ids), StatusChange.seq > 1)
            .order_by(StatusChange.proposal_id, StatusChange.seq)
        ):
            day = at.astimezone(LUXEMBOURG).date()
            if to_status in deciding and pid not in decided:
                decided[pid] = day
            if to_status in signed:
                contracted[pid] = day
        for proposal in proposals:
            category = categories.get(proposal.id)
            found[proposal.reference] = existing_signature(
                proposal,
                proposal.local_partner,
                category.value if category else None,
                decided.get(proposal.id),
                contracted.get(proposal.id),
            )
    return found


def plan_import(text: str, progress: Progress = _nothing) -> Plan:
    """Check the whole file against itself and the tracker; write nothing."""
    plan = Plan()
    sector_cache: dict[str, Sector | None] = {}

    def sectors(text_: str) -> Sector | None:
        key = text_.strip().lower()
        if key not in sector_cache:
            sector_cache[key] = find_sector(key)
        return sector_cache[key]

    rows: list[Row] = []
    first_line: dict[str, int] = {}
    count = 0
    unreadable: list[ImportProblem] = []  # lines that are not rows of the header's columns
    for count, (line, raw) in enumerate(read(text, unreadable), start=1):
        row, errors = check_row(line, raw, sectors)
        reference = raw.get("reference", "")
        if reference:
            if reference in first_line:
                errors.append(
                    ImportProblem(
                        line,
                        "reference",
                        f"“{reference}” is already on line {first_line[reference]} of this file",
                    )
                )
            else:
                first_line[reference] = line
        plan.errors += errors
        if row is not None and not errors:
            rows.append(row)
        if count % 1000 == 0:
            progress("validated", count)
    plan.errors += unreadable
    plan.rows_read = count + sum(1 for problem in unreadable if problem.line > 1)
    progress("validated", count)

    known = _known_signatures([r.reference for r in rows])
    for row in rows:
        if row.reference in known:
            if known[row.reference] == row.signature():
                plan.unchanged.append(row)
            else:
                plan.errors.append(
                    ImportProblem(
                        row.line,
                        "reference",
                        f"“{row.reference}” is already in the tracker with different data",
                    )
                )
        else:
            plan.create.append(row)

    programmes = {p.code: p for p in db.session.scalars(sa.select(Programme))}
    first_years: dict[str, int] = {}
    for row in rows:
        if row.programme not in programmes:
            first_years[row.programme] = min(
                first_years.get(row.programme, 9999), row.submitted_on.year
            )
    plan.new_programmes = first_years
    existing_calls = {
        (code, title)
        for code, title in db.session.execute(
            sa.select(Programme.code, Call.title).join(Call.programme)
        )
    }
    plan.new_calls = sorted({(r.programme, r.call) for r in plan.create} - existing_calls)
    plan.errors.sort(key=lambda e: (e.line, COLUMNS.index(e.field) if e.field in COLUMNS else -1))
    return plan


# --- writing ---------------------------------------------------------------------------------


def execute(
    plan: Plan, actor_id: int | None = None, progress: Progress = _nothing
) -> dict[str, int]:
    """Write a plan without errors, in the caller's transaction; returns counts by outcome."""
    if not plan.ok:
        raise ValueError("a plan with errors is never written")
    programmes = {p.code: p for p in db.session.scalars(sa.select(Programme))}
    for code, first_year in plan.new_programmes.items():
        programmes[code] = Programme(
            code=code,
            name=code,
            first_year=first_year,
            description="Created by a historical import.",
        )
        db.session.add(programmes[code])
    db.session.flush()
    calls = {
        (call.programme.code, call.title): call
        for call in db.session.scalars(sa.select(Call).options(selectinload(Call.programme)))
    }
    spans: dict[tuple[str, str], list[date]] = defaultdict(list)
    for row in plan.create:
        spans[(row.programme, row.call)].append(row.submitted_on)
    for key in plan.new_calls:
        days = spans[key]
        calls[key] = Call(
            programme=programmes[key[0]],
            title=key[1],
            description="Created by a historical import.",
            workflow_key=BPF_SINGLE_STAGE,
            opens_at=datetime.combine(min(days), time(0), tzinfo=LUXEMBOURG),
            closes_at=datetime.combine(max(days), time(23, 59, 59), tzinfo=LUXEMBOURG),
            partner_countries=list(oecd_dac_recipients()),
            imported=True,
        )
        db.session.add(calls[key])
    db.session.flush()
    call_ids = {key: call.id for key, call in calls.items()}
    workflows = {key: get_workflow(call.workflow_key) for key, call in calls.items()}
    organisation_ids = _organisation_ids(plan.create)
    key = history_key()
    fingerprint = key_id(key)
    # Rows in batches on the session's connection (tracker.core.bulk), no ORM objects: the
    # caches are told the data changes (tracker.core.generation).
    connection = db.session.connection()
    generation.changed(db.session)
    written = 0
    for start in range(0, len(plan.create), WRITE_BATCH):
        batch = plan.create[start : start + WRITE_BATCH]
        steps = [history_steps(row, workflows[(row.programme, row.call)]) for row in batch]
        ids = bulk.new_ids(connection, Proposal.__table__, len(batch))
        bulk.insert_rows(
            connection,
            Proposal.__table__,
            [
                _proposal_values(proposal_id, row, call_ids, organisation_ids, row_steps[-1][1])
                for proposal_id, row, row_steps in zip(ids, batch, steps, strict=True)
            ],
        )
        bulk.insert_rows(
            connection,
            Partner.__table__,
            [
                {
                    "proposal_id": proposal_id,
                    "position": 1,
                    "name": row.partner_organisation,
                    "country": row.partner_country,
                    "kind": PartnerKind.company,
                    "is_local": True,
                    "role_description": "",
                }
                for proposal_id, row in zip(ids, batch, strict=True)
            ],
        )
        bulk.insert_rows(
            connection,
            StatusChange.__table__,
            [
                change
                for proposal_id, row_steps in zip(ids, steps, strict=True)
                for change in imported_chain(proposal_id, row_steps, actor_id, key, fingerprint)
            ],
        )
        assessed = [
            {
                "proposal_id": proposal_id,
                "risk_category": RiskCategory(row.hrdd_category),
                "exclusion_checked": True,
                "summary": "Imported from historical records.",
            }
            for proposal_id, row in zip(ids, batch, strict=True)
            if row.hrdd_category
        ]
        bulk.insert_rows(connection, HrddAssessment.__table__, assessed)
        written += len(batch)
        progress("written", written)
    return plan.by_outcome()


# Rows written per statement: large enough that each statement carries real work, small enough
# that a batch's values stay a few megabytes.
WRITE_BATCH = 2000


def _organisation_ids(rows: list[Row]) -> dict[str, int]:
    """The id of every lead organisation of the rows, creating those the tracker lacks."""
    names = {row.lead_organisation: row.lead_country for row in rows}
    found: dict[str, int] = {}
    listed = list(names)
    for start in range(0, len(listed), 500):
        chunk = listed[start : start + 500]
        found.update(
            (name, id_)
            for id_, name in db.session.execute(
                sa.select(Organisation.id, Organisation.name)
                .where(Organisation.name.in_(chunk))
                .order_by(Organisation.id)  # of two with one name, the newer, as before
            )
        )
    missing = [name for name in listed if name not in found]
    for start in range(0, len(missing), WRITE_BATCH):
        chunk = missing[start : start + WRITE_BATCH]
        table = Organisation.__table__
        ids = (
            db.session.connection()
            .scalars(
                table.insert().returning(table.c.id, sort_by_parameter_order=True),
                [{"name": name, "country": names[name]} for name in chunk],
            )
            .all()
        )
        found.update(zip(chunk, ids, strict=True))
    return found


def _proposal_values(proposal_id: int, row: Row, call_ids, organisation_ids, status) -> dict:
    submitted_at = local_date_at(row.submitted_on)
    return {
        "id": proposal_id,
        "call_id": call_ids[(row.programme, row.call)],
        "organisation_id": organisation_ids[row.lead_organisation],
        "reference": row.reference,
        "status": status,
        "imported": True,
        "title": row.title,
        "lead_name": row.lead_organisation,
        "lead_country": row.lead_country,
        "sector_id": row.sector.id if row.sector else None,
        "total_cost_eur": row.total,
        "requested_eur": row.requested,
        "granted_eur": row.granted,
        "submitted_at": submitted_at,
        "created_at": submitted_at,
        "updated_at": submitted_at,
        "partner_country": row.partner_country,
        "target_countries": [row.partner_country],
        "sdgs": [],
        "unsaved_inputs": {},
    }


def history_steps(row: Row, workflow) -> list[tuple[str, str, datetime, str]]:
    """The backdated history of one imported proposal: submitted, then its outcome, each in
    the state of the call's workflow that the outcome names (its groups of the same name)."""
    state = workflow.first_of
    steps = [(IMPORT, state("submitted"), local_date_at(row.submitted_on), "")]
    if row.outcome in ("rejected", "withdrawn", "selected"):
        steps.append((IMPORT, state(row.outcome), local_date_at(row.effective_decided_on, 13), ""))
    elif row.outcome == "contracted":
        steps.append((IMPORT, state("selected"), local_date_at(row.decided_on, 13), ""))
        steps.append((IMPORT, state("contracted"), local_date_at(row.contracted_on, 14), ""))
    return steps
