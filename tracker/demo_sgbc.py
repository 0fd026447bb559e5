"""The demo's second programme: the Smart Green Business Centre (Luxembourg-Korea).

It runs what a sister facility would set up without code: the challenge-fund workflow, its own
rubric, Korea as its partner country (not on the OECD-DAC list, so the call carries its own
list), a rolling call reviewed in batches, and proposals at different points.
"""

from __future__ import annotations

import secrets
from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa

from tracker.auth.models import Role, User
from tracker.auth.operations import create_user
from tracker.core.time import utcnow
from tracker.extensions import db
from tracker.programmes.models import Call, CallBatch, Programme, Sector
from tracker.programmes.rubrics import save_rubric

SGBC_CODE = "SGBC"
SGBC_RUBRIC = {
    "scores_required": 2,
    "divergence_percent": Decimal("25"),
    "threshold": Decimal("50"),
    "criteria": [
        {
            "title": "Green business model",
            "guidance": "Emissions or resources saved, and how they are measured; circularity.",
            "weight": Decimal(40),
            "scale_min": 1,
            "scale_max": 5,
        },
        {
            "title": "Digital innovation",
            "guidance": "What is new in the technology or its use, for the Korean market.",
            "weight": Decimal(20),
            "scale_min": 1,
            "scale_max": 5,
        },
        {
            "title": "Korean partner",
            "guidance": "The partner's standing, its share of the work, a signed letter of intent.",
            "weight": Decimal(20),
            "scale_min": 1,
            "scale_max": 5,
        },
        {
            "title": "Market potential",
            "guidance": "Customers identified, a realistic plan to reach them in three years.",
            "weight": Decimal(20),
            "scale_min": 1,
            "scale_max": 5,
        },
    ],
}

# (company, e-mail, title, Korean partner, total cost, how far it went)
PROPOSALS = (
    (
        "Ardennes Batteries S.A.",
        "team@ardennes-batteries.lu",
        "Second-life batteries for Busan harbour cranes",
        "Busan Port Energy Co.",
        280_000,
        "submitted",
    ),
    (
        "Moselle Sensors S.à r.l.",
        "team@moselle-sensors.lu",
        "Smart irrigation sensors for Jeju greenhouses",
        "Jeju Agritech Cooperative",
        190_000,
        "external_assessment",
    ),
    (
        "GreenGrid Lux S.A.",
        "team@greengrid.lu",
        "Peer-to-peer solar trading in Daejeon",
        "Daejeon Smart City Lab",
        340_000,
        "investment_committee",
    ),
    (
        "Alzette Circular S.A.",
        "team@alzette-circular.lu",
        "Textile recycling plant with Seoul designers",
        "Seoul Upcycling Alliance",
        260_000,
        "due_diligence",
    ),
)


def load_sgbc(people: dict[str, User]) -> Call:
    """The SGBC programme, its rolling call with two batches, and four proposals."""
    programme = Programme(
        code=SGBC_CODE,
        name="Smart Green Business Centre",
        first_year=2024,
        description="Luxembourg-Korea green and digital projects of small and medium enterprises.",
    )
    db.session.add(programme)
    now = utcnow().replace(second=0, microsecond=0)
    sectors = list(
        db.session.scalars(
            sa.select(Sector).where(
                Sector.key.in_(("cleantech", "ict", "mobility", "circular-economy"))
            )
        )
    )
    call = Call(
        programme=programme,
        title=f"SGBC rolling call {now.year}",
        description="Green and digital SME projects with a Korean partner, reviewed in batches.",
        workflow_key="challenge-fund",
        opens_at=now - timedelta(days=120),
        closes_at=None,
        rolling=True,
        partner_countries=["KR"],
        cofinancing_rate=Decimal("50.00"),
        ceiling_eur=Decimal("150000.00"),
        road_haulage_ceiling_eur=Decimal("100000.00"),
        sectors=sectors,
    )
    call.batches = [
        CallBatch(
            number=1,
            title="Spring batch",
            closes_at=now + timedelta(days=30),
            budget_envelope_eur=Decimal("300000.00"),
        ),
        CallBatch(
            number=2,
            title="Autumn batch",
            closes_at=now + timedelta(days=200),
            budget_envelope_eur=Decimal("300000.00"),
        ),
    ]
    db.session.add(call)
    db.session.flush()
    save_rubric(call, SGBC_RUBRIC, people["admin"])
    _questions(call, people["admin"])
    for company, email, title, partner, total, stage in PROPOSALS:
        _proposal(call, people, company, email, title, partner, Decimal(total), stage)
    return call


def _questions(call, admin) -> None:
    """The SGBC's own questions: a section of their own, one shown only for a yes."""
    from tracker.questions import operations as qops

    section = qops.add_section(
        call,
        {"en": "Green and digital", "fr": "Vert et numérique", "de": "Grün und digital"},
        "full",
        admin,
    )
    asked = [
        (
            section.key,
            "long_text",
            {
                "en": "Your green business model",
                "fr": "Votre modèle d'affaires vert",
                "de": "Ihr grünes Geschäftsmodell",
            },
            {"en": "What the project saves (energy, materials, emissions) and how it is measured."},
            True,
            {"max_words": 300},
            None,
        ),
        (
            section.key,
            "integer",
            {
                "en": "Emissions avoided per year (tonnes CO2e)",
                "fr": "Émissions évitées par an (tonnes éq. CO2)",
                "de": "Vermiedene Emissionen pro Jahr (Tonnen CO2e)",
            },
            {},
            True,
            {"minimum": 0, "maximum": 1000000},
            None,
        ),
        (
            section.key,
            "choices",
            {
                "en": "Digital components",
                "fr": "Composants numériques",
                "de": "Digitale Komponenten",
            },
            {},
            False,
            {
                "choices": [
                    {
                        "value": "iot",
                        "label": {
                            "en": "Sensors (IoT)",
                            "fr": "Capteurs (IdO)",
                            "de": "Sensoren (IoT)",
                        },
                    },
                    {
                        "value": "ai",
                        "label": {
                            "en": "Artificial intelligence",
                            "fr": "Intelligence artificielle",
                            "de": "Künstliche Intelligenz",
                        },
                    },
                    {
                        "value": "platform",
                        "label": {
                            "en": "Online platform",
                            "fr": "Plateforme en ligne",
                            "de": "Online-Plattform",
                        },
                    },
                ]
            },
            None,
        ),
        (
            "partners",
            "long_text",
            {
                "en": "The Korean partner's role",
                "fr": "Le rôle du partenaire coréen",
                "de": "Die Rolle des koreanischen Partners",
            },
            {},
            True,
            {"max_words": 200},
            None,
        ),
        (
            "partners",
            "yes_no",
            {
                "en": "Does a Korean public programme support the project?",
                "fr": "Un programme public coréen soutient-il le projet ?",
                "de": "Unterstützt ein koreanisches öffentliches Programm das Projekt?",
            },
            {},
            True,
            {},
            None,
        ),
        (
            "partners",
            "choice",
            {"en": "Which programme?", "fr": "Quel programme ?", "de": "Welches Programm?"},
            {},
            True,
            {
                "choices": [
                    {"value": "kotra", "label": {"en": "KOTRA"}},
                    {"value": "k_startup", "label": {"en": "K-Startup"}},
                    {
                        "value": "other",
                        "label": {"en": "Another one", "fr": "Un autre", "de": "Ein anderes"},
                    },
                ]
            },
            {"question": "does_a_korean_public_programme", "values": ["yes"]},
        ),
    ]
    for where, kind, label, help_, required, settings, condition in asked:
        qops.save_question(
            call,
            None,
            {
                "label": label,
                "help": help_,
                "kind": kind,
                "section": where,
                "required": required,
                "settings": settings,
                "condition": condition,
            },
            admin,
        )


DEMO_ANSWERS = {
    "your_green_business_model": "Second life for batteries and sensors: less mining, less waste, measured by the partner's meters.",
    "emissions_avoided_per_year_ton": "420",
    "digital_components": '["iot", "platform"]',
    "the_korean_partner_s_role": "Hosts the pilot site, runs operations and sells the service in Korea.",
    "does_a_korean_public_programme": "yes",
    "which_programme": "kotra",
}


def fill_complete(
    call, company, email, title, partner, country, total, *, sector=None, start=None, jobs=12
):
    """A company account and its complete proposal in the call, ready to submit.

    Returns the account, the proposal and the amount requested (half the cost, capped)."""
    from io import BytesIO

    from tracker.proposals import operations as proposal_ops
    from tracker.proposals.models import REQUIRED_DOCUMENTS, PartnerKind, ProjectType

    user, _password = create_user(
        email=email,
        name=f"{company} team",
        roles=[Role.applicant],
        password=secrets.token_urlsafe(16),
        organisation_name=company,
    )
    user.organisation.country = "LU"
    proposal = proposal_ops.create_draft(call, user)
    requested = min(total / 2, call.ceiling_eur)
    sector = sector or call.sectors[len(title) % len(call.sectors)]
    proposal_ops.save_section(
        proposal,
        "lead",
        {
            "lead_name": company,
            "lead_country": "LU",
            "lead_registration_number": f"B{200000 + int(total) // 1000}",
            "lead_registration_date": date(2014, 3, 1),
            "lead_employees": 22,
            "lead_turnover_1": Decimal(2_400_000),
            "lead_turnover_2": Decimal(2_100_000),
            "lead_turnover_3": Decimal(1_900_000),
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
                {"name": partner, "country": country, "kind": PartnerKind.company, "is_local": True}
            ]
        },
        user,
    )
    start = start or (utcnow() + timedelta(days=90)).date()
    proposal_ops.save_section(
        proposal,
        "project",
        {
            "title": title,
            "summary": f"{title}: a two-year pilot with {partner}.",
            "project_type": ProjectType.pilot,
            "sector_id": sector.id,
            "target_countries": [country],
            "sdgs": [7, 9, 13],
            "problem": "Energy and materials are wasted where a proven European technology exists.",
            "solution": "Adapt the technology with the local partner and run it at one site.",
            "impact_jobs": jobs,
            "impact_beneficiaries": 3000,
            "technology_transfer": "Training of the partner's engineers; shared design files.",
            "innovation": "First use of the technology in the country.",
            "sustainability": "The partner runs the site after the grant; revenue from services.",
            "start_date": start,
            "duration_months": 24,
        },
        user,
    )
    proposal_ops.save_section(
        proposal,
        "budget",
        {
            "total_cost_eur": total,
            "requested_eur": requested,
            "own_contribution_eur": total - requested,
            "other_funding_eur": None,
        },
        user,
    )
    steps = {n: (f"Step {n}: our policy and practice, reviewed yearly.", "") for n in range(1, 7)}
    proposal_ops.save_section(proposal, "hrdd", {"steps": steps}, user)
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    for kind in REQUIRED_DOCUMENTS:
        proposal_ops.add_attachment(proposal, kind, BytesIO(pdf), f"{kind.value}.pdf", user)
    proposal_ops.save_section(
        proposal,
        "declarations",
        {
            "declared_accuracy": True,
            "accept_clause": True,
            "declared_de_minimis": True,
            "declared_data_protection": True,
        },
        user,
    )
    return user, proposal, requested


def _proposal(call, people, company, email, title, partner, total, stage) -> None:
    from tracker.review import operations as review_ops
    from tracker.review.rules import MANUAL_SCREENING_ITEMS, SALIENT_RISKS
    from tracker.workflow.operations import perform_transition

    user, proposal, requested = fill_complete(call, company, email, title, partner, "KR", total)
    from tracker.questions import operations as qops

    qops.save_answers(proposal, qops.questions_of(call), DEMO_ANSWERS)
    perform_transition(proposal, "submit", user)
    if stage == "submitted":
        return
    reviewer, second, hrdd, committee = (
        people["reviewer"],
        people["reviewer2"],
        people["hrdd"],
        people["committee"],
    )
    perform_transition(proposal, "start_eligibility", reviewer)
    review_ops.record_screening(
        proposal, reviewer, {key: (True, "") for key in MANUAL_SCREENING_ITEMS}
    )
    perform_transition(
        proposal,
        "pass_eligibility",
        reviewer,
        comment="Eligible: the external assessors take over.",
    )
    criteria = [c.key for c in call.rubric.criteria]
    for scorer, marks in ((reviewer, (4, 4, 3, 4)), (second, (5, 3, 4, 4))):
        review_ops.assign_reviewer(proposal, scorer, reviewer)
        review_ops.declare_conflict(proposal, scorer, False)
        if stage == "external_assessment" and scorer is second:
            break  # one score so far, the second is awaited
        review_ops.submit_score(proposal, scorer, dict(zip(criteria, marks, strict=True)))
    if stage == "external_assessment":
        if people.get("evaluator") is not None:  # a partner's assessor, asked to score
            review_ops.assign_reviewer(proposal, people["evaluator"], reviewer)
        return
    perform_transition(proposal, "complete_assessment", reviewer)
    if stage == "investment_committee":
        return
    perform_transition(
        proposal,
        "approve",
        committee,
        data={"granted_eur": requested},
        comment="Approved; due diligence follows.",
    )
    review_ops.save_hrdd_assessment(
        proposal,
        hrdd,
        {
            "exclusion_checked": True,
            "risk_category": "C",
            "risks": {key: (False, None, None, "") for key in SALIENT_RISKS},
            "summary": "Low risk: industrial site, no land acquisition; supply chain checked.",
        },
    )
