"""Demonstration data: the BPF programme, an open call, one account per role, the HRDD clause."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa

from tracker.auth.models import Role, User
from tracker.auth.operations import create_user
from tracker.core.countries import oecd_dac_recipients
from tracker.core.time import utcnow
from tracker.extensions import db
from tracker.programmes.models import Call, ClauseStatus, ClauseVersion, Programme, Sector
from tracker.programmes.operations import ensure_built_in_sectors
from tracker.workflow.definitions import TWO_STAGE

DEMO_PASSWORD = "demo-password"  # noqa: S105 - printed by make run; demo accounts only
DEMO_ORGANISATION = "Demo Solutions S.à r.l."

DEMO_ACCOUNTS = (
    ("applicant@demo.lu", "Anna Applicant", [Role.applicant]),
    ("reviewer@demo.lu", "Rui Reviewer", [Role.reviewer]),
    ("reviewer2@demo.lu", "Rita Second-Reviewer", [Role.reviewer]),
    ("hrdd@demo.lu", "Hana HRDD-Officer", [Role.hrdd]),
    ("committee@demo.lu", "Carl Committee", [Role.committee]),
    ("reporting@demo.lu", "Rosa Reporting", [Role.reporting]),
    ("admin@demo.lu", "Ada Admin", [Role.admin]),
)

CLAUSE_V1 = """Human-rights due diligence

1. The Beneficiary shall respect internationally recognised human rights and conduct its business in line with the UN Guiding Principles on Business and Human Rights and the OECD Due Diligence Guidance for Responsible Business Conduct, in the Project and in its relations with the partners and suppliers involved in it.

2. The Beneficiary shall identify, prevent, mitigate and account for actual and potential adverse impacts of the Project on people and the environment, and report on them in each progress report.

3. The Beneficiary shall make an operational grievance mechanism available to workers and communities affected by the Project.

4. Serious breaches of this clause, such as forced or harmful child labour, allow the Agency to suspend payments and to terminate the Agreement."""

CLAUSE_V2 = (
    CLAUSE_V1.replace(
        "3. The Beneficiary shall make an operational grievance mechanism available",
        "3. The Beneficiary shall make a legitimate, accessible, predictable, equitable and transparent "
        "operational grievance mechanism available",
    )
    + """

5. Specific conditions decided at the HRDD review form part of this clause; the payments they name are made only once the condition is met."""
)


def database_is_empty() -> bool:
    return db.session.scalar(sa.select(User.id).limit(1)) is None


def load_demo(with_history: bool = True) -> list[tuple[str, str]]:
    """Create the demo programme, call, clause and accounts; returns (e-mail, roles) pairs."""
    ensure_built_in_sectors()
    db.session.flush()
    programme = db.session.scalar(sa.select(Programme).where(Programme.code == "BPF"))
    if programme is None:
        programme = Programme(
            code="BPF",
            name="Business Partnership Facility",
            first_year=2016,
            description="Luxembourg's co-financing facility for partnerships between EU companies "
            "and partners in developing countries.",
        )
        db.session.add(programme)
    now = utcnow().replace(second=0, microsecond=0)
    sectors = list(db.session.scalars(sa.select(Sector).where(Sector.built_in.is_(True))))
    open_call = Call(
        programme=programme,
        title=f"BPF call {now.year}-2 (concept notes)",
        description="Concept notes for partnerships serving one of the 17 Sustainable Development Goals.",
        workflow_key=TWO_STAGE.key,
        opens_at=now - timedelta(days=30),
        closes_at=now + timedelta(days=60),
        full_proposal_closes_at=now + timedelta(days=150),
        partner_countries=list(oecd_dac_recipients()),
        cofinancing_rate=Decimal("50.00"),
        ceiling_eur=Decimal("200000.00"),
        road_haulage_ceiling_eur=Decimal("100000.00"),
        budget_envelope_eur=Decimal("1000000.00"),
        sectors=sectors,
    )
    db.session.add(open_call)
    if db.session.scalar(sa.select(ClauseVersion.id).limit(1)) is None:
        db.session.add_all(
            [
                ClauseVersion(
                    number=1,
                    title="HRDD clause 2020",
                    text=CLAUSE_V1,
                    status=ClauseStatus.published,
                    published_at=datetime(2020, 1, 15, 9, 0, tzinfo=UTC),
                ),
                ClauseVersion(
                    number=2,
                    title="HRDD clause 2023",
                    text=CLAUSE_V2,
                    status=ClauseStatus.published,
                    published_at=datetime(2023, 1, 16, 9, 0, tzinfo=UTC),
                ),
            ]
        )
    accounts = []
    for email, name, roles in DEMO_ACCOUNTS:
        if db.session.scalar(sa.select(User.id).where(User.email == email)) is None:
            create_user(
                email=email,
                name=name,
                roles=roles,
                password=DEMO_PASSWORD,
                organisation_name=DEMO_ORGANISATION if Role.applicant in roles else None,
            )
        accounts.append((email, ", ".join(r.value for r in roles)))
    db.session.flush()
    organisation_country(DEMO_ORGANISATION, "LU")
    if with_history:
        _load_history(programme)
    db.session.commit()
    return accounts


def organisation_country(name: str, country: str) -> None:
    from tracker.auth.models import Organisation

    organisation = db.session.scalar(sa.select(Organisation).where(Organisation.name == name))
    if organisation is not None and not organisation.country:
        organisation.country = country


def _load_history(programme: Programme) -> None:
    """Historical proposals reproducing the published figures (added with the import feature)."""
    try:
        from tracker.imports.demo_history import load_demo_history
    except ModuleNotFoundError:
        return
    load_demo_history()
