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
from tracker.programmes.rubrics import ensure_rubric
from tracker.workflow.definitions import BPF_TWO_STAGE

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
    ("evaluator@demo.lu", "Eli Evaluator (partner institution)", [Role.evaluator]),
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
        workflow_key=BPF_TWO_STAGE,
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
    ensure_rubric(open_call)
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
                check_password=False,  # the published demo password
            )
        accounts.append((email, ", ".join(r.value for r in roles)))
    db.session.flush()
    organisation_country(DEMO_ORGANISATION, "LU")
    if with_history:
        _load_history(programme)
        _live_proposals(open_call)
        _demo_applicant_draft(open_call)
        from tracker.demo_sgbc import load_sgbc

        people = {
            key: db.session.scalar(sa.select(User).where(User.email == email))
            for key, email in (
                ("reviewer", "reviewer@demo.lu"),
                ("reviewer2", "reviewer2@demo.lu"),
                ("hrdd", "hrdd@demo.lu"),
                ("committee", "committee@demo.lu"),
                ("admin", "admin@demo.lu"),
                ("evaluator", "evaluator@demo.lu"),
            )
        }
        load_sgbc(people)
        from tracker.demo_projects import load_projects

        load_projects(people)
    db.session.commit()
    return accounts


def organisation_country(name: str, country: str) -> None:
    from tracker.auth.models import Organisation

    organisation = db.session.scalar(sa.select(Organisation).where(Organisation.name == name))
    if organisation is not None and not organisation.country:
        organisation.country = country


def _load_history(programme: Programme) -> None:
    """Historical proposals reproducing the published figures, through the historical import."""
    from tracker.imports.demo_history import load_demo_history

    load_demo_history()


def _demo_applicant_draft(call: Call) -> None:
    """The demo company's own concept note, half written: the lead applicant and the partners
    filled, the project started, the budget to do, so the form can be tried where it stands."""
    from tracker.proposals import operations as proposal_ops
    from tracker.proposals.models import PartnerKind

    anna = db.session.scalar(sa.select(User).where(User.email == "applicant@demo.lu"))
    if anna is None or anna.organisation is None:
        return
    proposal = proposal_ops.create_draft(call, anna)
    proposal_ops.save_section(
        proposal,
        "lead",
        {
            "lead_name": DEMO_ORGANISATION,
            "lead_country": "LU",
            "lead_registration_number": "B245118",
            "lead_registration_date": datetime(2014, 9, 15, tzinfo=UTC).date(),
            "lead_employees": 22,
            "lead_turnover_1": Decimal(2_400_000),
            "lead_turnover_2": Decimal(2_150_000),
            "lead_turnover_3": Decimal(1_900_000),
            "de_minimis_1": Decimal(0),
            "de_minimis_2": Decimal(0),
            "de_minimis_3": Decimal(0),
        },
        anna,
    )
    proposal_ops.save_section(
        proposal,
        "partners",
        {
            "partners": [
                {
                    "name": "Kigali Digital Health Ltd",
                    "country": "RW",
                    "kind": PartnerKind.company,
                    "is_local": True,
                    "role_description": "Runs the clinics' network and trains their staff.",
                },
            ]
        },
        anna,
    )
    proposal_ops.save_section(
        proposal,
        "project",
        {"title": "Offline patient records for rural clinics in Rwanda"},
        anna,
    )


# Concept notes of three other companies in the open call, so the staff queue has work in it.
LIVE = (
    (
        "Sûre Water S.A.",
        "contact@surewater.lu",
        "Solar water kiosks for peri-urban Dakar",
        "SN",
        "cleantech",
        "Dakar Eau Propre SARL",
        320_000,
        None,
    ),
    (
        "Kirchberg Ledger S.à r.l.",
        "contact@kledger.lu",
        "Mobile savings for market women in Cotonou",
        "BJ",
        "fintech",
        "Cotonou Women Traders Association",
        410_000,
        "screening",
    ),
    (
        "Orbital Farms S.A.",
        "contact@orbitalfarms.lu",
        "Satellite drought alerts for herders",
        "MN",
        "space",
        "Ulaanbaatar Pastoral Institute",
        560_000,
        "preselection",
    ),
)


def _live_proposals(call: Call) -> None:
    import secrets as _secrets

    from tracker.proposals import operations as proposal_ops
    from tracker.proposals.models import PartnerKind, ProjectType
    from tracker.review.operations import record_screening
    from tracker.review.rules import MANUAL_SCREENING_ITEMS
    from tracker.workflow.operations import perform_transition

    reviewer = db.session.scalar(sa.select(User).where(User.email == "reviewer@demo.lu"))
    for company, email, title, country, sector_key, partner, total, stage in LIVE:
        user, _password = create_user(
            email=email,
            name=f"{company} team",
            roles=[Role.applicant],
            password=_secrets.token_urlsafe(16),
            organisation_name=company,
        )
        user.organisation.country = "LU"
        proposal = proposal_ops.create_draft(call, user)
        total_eur = Decimal(total)
        requested = min(total_eur / 2, Decimal(200_000))
        sector = db.session.scalar(sa.select(Sector).where(Sector.key == sector_key))
        proposal_ops.save_section(
            proposal,
            "lead",
            {
                "lead_name": company,
                "lead_country": "LU",
                "lead_registration_number": "B" + str(100000 + total // 1000),
                "lead_registration_date": datetime(2011, 6, 1, tzinfo=UTC).date(),
                "lead_employees": 14,
                "lead_turnover_1": Decimal(1_800_000),
                "lead_turnover_2": Decimal(1_650_000),
                "lead_turnover_3": Decimal(1_500_000),
                "de_minimis_1": Decimal(0),
                "de_minimis_2": Decimal(0),
                "de_minimis_3": Decimal(0),
            },
            user,
        )
        proposal_ops.save_section(
            proposal,
            "partners",
            {
                "partners": [
                    {
                        "name": partner,
                        "country": country,
                        "kind": PartnerKind.company,
                        "is_local": True,
                    },
                ]
            },
            user,
        )
        proposal_ops.save_section(
            proposal,
            "project",
            {
                "title": title,
                "summary": f"{title}: a pilot with a local partner, then a scale-up.",
                "project_type": ProjectType.pilot,
                "sector_id": sector.id,
                "target_countries": [country],
            },
            user,
        )
        proposal_ops.save_section(
            proposal,
            "budget",
            {
                "total_cost_eur": total_eur,
                "requested_eur": requested,
                "own_contribution_eur": total_eur - requested,
                "other_funding_eur": None,
            },
            user,
        )
        perform_transition(proposal, "submit", user)
        if stage in ("screening", "preselection"):
            perform_transition(proposal, "start_screening", reviewer)
        if stage == "preselection":
            record_screening(
                proposal, reviewer, {key: (True, "") for key in MANUAL_SCREENING_ITEMS}
            )
            perform_transition(
                proposal, "pass_screening", reviewer, comment="Eligible; welcome to pre-selection."
            )
