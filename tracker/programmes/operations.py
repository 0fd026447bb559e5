"""Configuring a facility: programmes, calls, sectors and HRDD clause versions."""

from __future__ import annotations

import re
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import gettext as _

from tracker.audit.operations import plain, record_change
from tracker.core.countries import INCOME_GROUPS, oecd_dac_recipients
from tracker.core.time import utcnow
from tracker.extensions import db
from tracker.programmes.models import Call, ClauseStatus, ClauseVersion, Programme, Sector
from tracker.programmes.rubrics import ensure_rubric
from tracker.workflow.definitions import get_workflow, workflows

BUILT_IN_SECTORS = (
    ("ict", "ICT"),
    ("fintech", "Fintech"),
    ("renewable-energy", "Renewable energy"),
    ("logistics", "Logistics"),
    ("circular-economy", "Circular economy"),
    ("space", "Space"),
    ("mobility", "Mobility"),
    ("cleantech", "CleanTech"),
    ("healthtech", "HealthTech"),
    ("biohealth", "Biohealth"),
    ("eco-innovation", "Eco-innovation"),
    ("covid-19", "Fight against COVID-19"),
    ("other", "Other"),
)


class ConfigurationError(Exception):
    """Bad settings for a programme, call, sector or clause; ``field`` names the form field."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


def ensure_built_in_sectors() -> None:
    """Insert any built-in sector that is missing (the first migration inserts them too)."""
    existing = set(db.session.scalars(sa.select(Sector.key)))
    for position, (key, label) in enumerate(BUILT_IN_SECTORS, start=1):
        if key not in existing:
            db.session.add(Sector(key=key, label=label, built_in=True, position=position * 10))


def find_sector(text: str) -> Sector | None:
    """A sector by key or label, case-insensitively."""
    value = (text or "").strip().lower()
    if not value:
        return None
    return db.session.scalar(
        sa.select(Sector).where(
            sa.or_(sa.func.lower(Sector.key) == value, sa.func.lower(Sector.label) == value)
        )
    )


def add_sector(label: str, key: str | None = None) -> Sector:
    label = (label or "").strip()
    if not label:
        raise ConfigurationError(_("Give the sector a name."), "label")
    key = (key or re.sub(r"[^a-z0-9]+", "-", label.lower())).strip("-")
    if find_sector(key) or find_sector(label):
        raise ConfigurationError(_("This sector exists already."), "label")
    sector = Sector(key=key, label=label, built_in=False, position=1000)
    db.session.add(sector)
    return sector


def active_sectors() -> list[Sector]:
    return list(
        db.session.scalars(
            sa.select(Sector).where(Sector.active.is_(True)).order_by(Sector.position, Sector.label)
        )
    )


def save_programme(
    programme: Programme | None,
    *,
    code: str,
    name: str,
    first_year: int,
    description: str = "",
    report_introduction: str = "",
    report_method: str = "",
) -> Programme:
    code = (code or "").strip().upper()
    if not re.fullmatch(r"[A-Z0-9][A-Z0-9-]{0,19}", code):
        raise ConfigurationError(
            _("Use letters, digits and hyphens (up to 20), such as BPF."), "code"
        )
    clash = db.session.scalar(sa.select(Programme).where(Programme.code == code))
    if clash is not None and clash is not programme:
        raise ConfigurationError(_("Another programme uses this code."), "code")
    if programme is None:
        programme = Programme(code=code)
        db.session.add(programme)
    programme.code = code
    programme.name = name.strip()
    programme.first_year = first_year
    programme.description = description or ""
    programme.report_introduction = (report_introduction or "").strip()
    programme.report_method = (report_method or "").strip()
    return programme


CALL_FIELDS = (
    "title",
    "description",
    "workflow_key",
    "opens_at",
    "closes_at",
    "full_proposal_closes_at",
    "cofinancing_rate",
    "ceiling_eur",
    "road_haulage_ceiling_eur",
    "budget_envelope_eur",
    "min_company_age_years",
    "min_employees",
    "min_turnover_eur",
    "turnover_multiple",
    "turnover_base",
    "rolling",
    "grace_minutes",
)
RATE_FIELDS = {
    "ldc": "rate_ldc",
    "other_lic": "rate_other_lic",
    "lmic": "rate_lmic",
    "umic": "rate_umic",
}


def call_snapshot(call: Call) -> dict:
    """A call's settings as text, named like the fields of its form."""
    values = {name: plain(getattr(call, name)) for name in CALL_FIELDS}
    for group, field in RATE_FIELDS.items():
        values[field] = (call.rate_by_income_group or {}).get(group)
    values["sectors"] = plain(sorted(s.label for s in call.sectors))
    values["partner_countries"] = plain(sorted(call.partner_countries or []))
    return values


def save_call(call: Call | None, programme: Programme, data: dict, actor=None) -> Call:
    """Create or update a call after checking its window, rules and workflow (audited).

    A new call gets the default scoring rubric, which administrators then edit.
    """
    if data["workflow_key"] not in workflows():
        raise ConfigurationError(_("Unknown workflow."), "workflow_key")
    workflow = get_workflow(data["workflow_key"])
    rolling = bool(data.get("rolling"))
    closes_at = data.get("closes_at")
    if closes_at is None and not rolling:
        raise ConfigurationError(_("Give the closing time, or make the call rolling."), "closes_at")
    if closes_at is not None and closes_at <= data["opens_at"]:
        raise ConfigurationError(_("The call must close after it opens."), "closes_at")
    if rolling and workflow.two_stage:
        raise ConfigurationError(
            _("A rolling call runs a single-stage procedure; choose one."), "workflow_key"
        )
    full_close = data.get("full_proposal_closes_at")
    if workflow.two_stage and full_close is None:
        raise ConfigurationError(
            _("A two-stage call needs a deadline for full proposals."), "full_proposal_closes_at"
        )
    if full_close is not None and closes_at is not None and full_close <= closes_at:
        raise ConfigurationError(
            _("Full proposals are due after the concept notes."), "full_proposal_closes_at"
        )
    if not workflow.two_stage:
        full_close = None
    if call is not None and call.workflow_key != data["workflow_key"] and _has_proposals(call):
        raise ConfigurationError(
            _(
                "Proposals already follow this call's workflow; it cannot change. Open a new call instead."
            ),
            "workflow_key",
        )
    title = data["title"].strip()
    clash = db.session.scalar(
        sa.select(Call).where(Call.programme_id == programme.id, Call.title == title)
    )
    if clash is not None and clash is not call:
        raise ConfigurationError(_("This programme has a call with this title already."), "title")
    rate = Decimal(data["cofinancing_rate"])
    if not Decimal(0) < rate <= Decimal(100):
        raise ConfigurationError(
            _("The rate is a percentage between 0 and 100."), "cofinancing_rate"
        )
    by_group = {}
    for group, value in (data.get("rate_by_income_group") or {}).items():
        if value is None:
            continue
        if group not in INCOME_GROUPS or not Decimal(0) < Decimal(value) <= Decimal(100):
            raise ConfigurationError(
                _("The rate is a percentage between 0 and 100."), RATE_FIELDS.get(group)
            )
        by_group[group] = f"{Decimal(value):.2f}"
    grace = data.get("grace_minutes") or 0
    if not 0 <= grace <= 10080:
        raise ConfigurationError(_("A grace period of at most a week."), "grace_minutes")
    before = call_snapshot(call) if call is not None else None
    if call is None:
        call = Call(programme=programme)
        db.session.add(call)
        ensure_rubric(call)
    for name in (
        "title",
        "description",
        "workflow_key",
        "opens_at",
        "cofinancing_rate",
        "ceiling_eur",
        "road_haulage_ceiling_eur",
        "budget_envelope_eur",
        "min_company_age_years",
        "min_employees",
        "min_turnover_eur",
        "turnover_multiple",
        "turnover_base",
    ):
        if name in data:
            setattr(call, name, data[name])
    call.title = title
    call.closes_at = closes_at
    call.rolling = rolling
    call.grace_minutes = grace
    call.rate_by_income_group = by_group
    call.full_proposal_closes_at = full_close
    call.partner_countries = sorted(set(data.get("partner_countries") or oecd_dac_recipients()))
    if "sectors" in data:
        call.sectors = list(data["sectors"])
    db.session.flush()
    record_change("call", call.id, actor=actor, before=before, after=call_snapshot(call))
    return call


def add_batch(call: Call, *, title: str, closes_at, budget_envelope_eur=None, actor=None):
    """A review round of a rolling call (proposals submitted before its cut-off go into it)."""
    from tracker.programmes.models import CallBatch

    if not call.rolling:
        raise ConfigurationError(_("Only rolling calls are reviewed in batches."), "title")
    if closes_at <= call.opens_at or (call.closes_at is not None and closes_at > call.closes_at):
        raise ConfigurationError(_("The cut-off must fall while the call is open."), "closes_at")
    if any(b.closes_at == closes_at for b in call.batches):
        raise ConfigurationError(_("Another batch has this cut-off."), "closes_at")
    number = max((b.number for b in call.batches), default=0) + 1
    batch = CallBatch(
        number=number,
        title=(title or "").strip(),
        closes_at=closes_at,
        budget_envelope_eur=budget_envelope_eur,
    )
    call.batches.append(batch)
    call.batches.sort(key=lambda b: b.closes_at)
    db.session.flush()
    record_change(
        "batch",
        batch.id,
        actor=actor,
        before=None,
        after={
            "title": batch.title,
            "closes_at": plain(batch.closes_at),
            "budget_envelope_eur": plain(batch.budget_envelope_eur),
        },
    )
    return batch


def _has_proposals(call: Call) -> bool:
    from tracker.proposals.models import Proposal

    return (
        db.session.scalar(sa.select(Proposal.id).where(Proposal.call_id == call.id).limit(1))
        is not None
    )


# --- HRDD clause versions --------------------------------------------------------------------


def clause_in_signed_contract(clause: ClauseVersion) -> bool:
    """Whether a signed contract was made with this version (then it can never change)."""
    try:
        from tracker.review.models import Contract
    except ImportError:  # pragma: no cover - before the review feature exists
        return False
    return (
        db.session.scalar(
            sa.select(Contract.id)
            .where(Contract.clause_version_id == clause.id, Contract.signed_at.is_not(None))
            .limit(1)
        )
        is not None
    )


def latest_clause() -> ClauseVersion | None:
    """The newest version, draft or published (a new draft starts from its text)."""
    return db.session.scalar(
        sa.select(ClauseVersion).order_by(ClauseVersion.number.desc()).limit(1)
    )


def save_clause(clause: ClauseVersion | None, *, title: str, text: str) -> ClauseVersion:
    """Create a new draft version, or edit one no signed contract uses."""
    if not (title or "").strip() or not (text or "").strip():
        raise ConfigurationError(_("A clause needs a title and its text."), "text")
    if clause is None:
        number = (db.session.scalar(sa.select(sa.func.max(ClauseVersion.number))) or 0) + 1
        clause = ClauseVersion(number=number, status=ClauseStatus.draft)
        db.session.add(clause)
    elif clause_in_signed_contract(clause):
        raise ConfigurationError(
            _(
                "Version %(n)s is part of a signed contract and can never be edited. Publish a new version.",
                n=clause.number,
            ),
            "text",
        )
    elif clause.status == ClauseStatus.published:
        raise ConfigurationError(
            _(
                "Published versions are fixed: applicants may have accepted this text. Create a new version."
            ),
            "text",
        )
    clause.title = title.strip()
    clause.text = text.strip()
    return clause


def publish_clause(clause: ClauseVersion, user) -> None:
    """Make a draft version the current clause."""
    if clause.status == ClauseStatus.published:
        raise ConfigurationError(_("This version is already published."))
    clause.status = ClauseStatus.published
    clause.published_at = utcnow()
    clause.published_by_id = user.id
