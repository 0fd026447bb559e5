"""Factories for test data; they run inside an app context and go through the operations."""

from __future__ import annotations

import io
import zipfile
from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa

from tracker.auth.models import Organisation, Role, User
from tracker.auth.operations import create_user
from tracker.core.countries import oecd_dac_recipients
from tracker.core.time import utcnow
from tracker.extensions import db
from tracker.programmes.models import Call, ClauseStatus, ClauseVersion, Programme, Sector
from tracker.programmes.rubrics import ensure_rubric
from tracker.proposals import operations as proposal_ops
from tracker.proposals.models import AttachmentKind, PartnerKind, ProjectType, Proposal
from tracker.workflow.definitions import BPF_SINGLE_STAGE, BPF_TWO_STAGE

PASSWORD = "a-long-test-password"

# The smallest files each checker accepts: real documents, as office software writes them.
PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def png_bytes(size=(2, 2)) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, (10, 120, 200)).save(buffer, format="PNG")
    return buffer.getvalue()


def jpeg_bytes(size=(2, 2)) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 120, 10)).save(buffer, format="JPEG")
    return buffer.getvalue()


PNG_BYTES = png_bytes()

OOXML_TYPES = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
    "docm": "application/vnd.ms-word.document.macroEnabled.main+xml",
}


def _ooxml(part: str, main_type: str, extra: dict | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            f'content-types"><Override PartName="/{part}" ContentType="{main_type}"/></Types>',
        )
        archive.writestr(part, "<document/>")
        for name, content in (extra or {}).items():
            archive.writestr(name, content)
    return buffer.getvalue()


def docx_bytes() -> bytes:
    return _ooxml("word/document.xml", OOXML_TYPES["docx"])


def xlsx_bytes() -> bytes:
    return _ooxml("xl/workbook.xml", OOXML_TYPES["xlsx"])


def docm_bytes() -> bytes:
    """A Word document with macros, renamed .docx."""
    return _ooxml(
        "word/document.xml", OOXML_TYPES["docm"], {"word/vbaProject.bin": b"\xd0\xcf\x11\xe0macro"}
    )


def xlsx_with_macros_bytes() -> bytes:
    """Plain-looking content types, but a VBA project inside."""
    return _ooxml("xl/workbook.xml", OOXML_TYPES["xlsx"], {"xl/vbaProject.bin": b"macro"})


def odt_bytes(extra: dict | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.text")
        archive.writestr("content.xml", "<office:document-content/>")
        archive.writestr("META-INF/manifest.xml", "<manifest:manifest/>")
        for name, content in (extra or {}).items():
            archive.writestr(name, content)
    return buffer.getvalue()


def zip_of(files: dict) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def programme(code: str = "BPF", first_year: int = 2016) -> Programme:
    existing = db.session.scalar(sa.select(Programme).where(Programme.code == code))
    if existing:
        return existing
    item = Programme(
        code=code,
        name="Business Partnership Facility" if code == "BPF" else code,
        first_year=first_year,
        description="",
    )
    db.session.add(item)
    db.session.flush()
    return item


def call(
    *,
    code: str = "BPF",
    two_stage: bool = False,
    title: str | None = None,
    opens_in_days: int = -10,
    closes_in_days: int = 30,
    full_closes_in_days: int = 90,
    workflow_key: str | None = None,
    **settings,
) -> Call:
    now = utcnow()
    item = Call(
        programme=programme(code),
        title=title or f"Call {db.session.scalar(sa.select(sa.func.count(Call.id))) + 1}",
        workflow_key=workflow_key or (BPF_TWO_STAGE if two_stage else BPF_SINGLE_STAGE),
        opens_at=now + timedelta(days=opens_in_days),
        closes_at=now + timedelta(days=closes_in_days),
        full_proposal_closes_at=now + timedelta(days=full_closes_in_days) if two_stage else None,
        partner_countries=list(oecd_dac_recipients()),
        budget_envelope_eur=Decimal("1000000.00"),
        **settings,
    )
    db.session.add(item)
    ensure_rubric(item)
    db.session.flush()
    return item


def clause() -> ClauseVersion:
    existing = db.session.scalar(
        sa.select(ClauseVersion).where(ClauseVersion.status == ClauseStatus.published)
    )
    if existing:
        return existing
    item = ClauseVersion(
        number=1,
        title="HRDD clause",
        text="The beneficiary respects human rights.",
        status=ClauseStatus.published,
        published_at=utcnow(),
    )
    db.session.add(item)
    db.session.flush()
    return item


def user(
    email: str, *roles: Role | str, organisation: str | None = None, name: str | None = None
) -> User:
    from tracker.auth.operations import organisations_named

    existing = organisations_named(organisation) if organisation else []
    item, _ = create_user(
        email=email,
        name=name or email.split("@")[0].title(),
        roles=roles or [Role.applicant],
        password=PASSWORD,
        organisation_name=None if existing else organisation,
        organisation_id=existing[0].id if existing else None,
    )
    db.session.flush()
    return item


def applicant(email: str = "anna@company.lu", organisation: str = "Company S.A.") -> User:
    item = user(email, Role.applicant, organisation=organisation)
    item.organisation.country = "LU"
    return item


def staff(role: str, email: str | None = None) -> User:
    return user(email or f"{role}@agency.lu", role)


def sector(key: str = "ict") -> Sector:
    return db.session.scalar(sa.select(Sector).where(Sector.key == key))


LEAD = {
    "lead_name": "Company S.A.",
    "lead_country": "LU",
    "lead_registration_number": "B123456",
    "lead_registration_date": date(2010, 5, 1),
    "lead_employees": 25,
    "lead_turnover_1": Decimal("2000000.00"),
    "lead_turnover_2": Decimal("1800000.00"),
    "lead_turnover_3": Decimal("1600000.00"),
    "lead_is_road_haulage": False,
    "de_minimis_1": Decimal("0.00"),
    "de_minimis_2": Decimal("0.00"),
    "de_minimis_3": Decimal("10000.00"),
}
PARTNERS = [
    {
        "name": "Hanoi Solar JSC",
        "country": "VN",
        "kind": PartnerKind.company,
        "is_local": True,
        "role_description": "Installs and runs the pilot sites.",
    },
]
BUDGET = {
    "total_cost_eur": Decimal("300000.00"),
    "requested_eur": Decimal("150000.00"),
    "own_contribution_eur": Decimal("150000.00"),
    "other_funding_eur": None,
}


def project_values(sector_key: str = "renewable-energy") -> dict:
    return {
        "title": "Solar cold storage for fishing cooperatives",
        "summary": "Solar-powered cold rooms for three fishing cooperatives.",
        "project_type": ProjectType.pilot,
        "sector_id": sector(sector_key).id,
        "target_countries": ["VN"],
        "sdgs": [7, 8, 13],
        "problem": "Catch spoils before it reaches the market.",
        "solution": "Cold rooms powered by solar panels, run by the cooperatives.",
        "impact_jobs": 40,
        "impact_beneficiaries": 1200,
        "technology_transfer": "Training of local technicians.",
        "innovation": "First pay-per-use cold storage in the province.",
        "sustainability": "Fees cover maintenance after the grant.",
        "start_date": date.today() + timedelta(days=120),
        "duration_months": 24,
    }


def draft(call_: Call, owner: User) -> Proposal:
    return proposal_ops.create_draft(call_, owner)


def fill(
    proposal: Proposal,
    owner: User,
    *,
    sections=("lead", "partners", "project", "budget", "hrdd", "documents", "declarations"),
) -> Proposal:
    """Fill the named sections with valid data through the operations."""
    if "lead" in sections:
        proposal_ops.save_section(proposal, "lead", LEAD, owner)
    if "partners" in sections:
        proposal_ops.save_section(proposal, "partners", {"partners": PARTNERS}, owner)
    if "project" in sections:
        values = project_values()
        if proposal.status == "draft" and proposal.call.workflow_key == BPF_TWO_STAGE:
            values = {
                k: values[k]
                for k in ("title", "summary", "project_type", "sector_id", "target_countries")
            }
        proposal_ops.save_section(proposal, "project", values, owner)
    if "budget" in sections:
        proposal_ops.save_section(proposal, "budget", BUDGET, owner)
    editable = proposal_ops.editable_sections(proposal)
    if "hrdd" in sections and "hrdd" in editable:
        steps = {n: (f"Answer to step {n}.", "") for n in range(1, 7)}
        proposal_ops.save_section(proposal, "hrdd", {"steps": steps}, owner)
    if "documents" in sections and "documents" in editable:
        for kind in (
            AttachmentKind.business_plan,
            AttachmentKind.budget_sheet,
            AttachmentKind.partner_letter,
        ):
            proposal_ops.add_attachment(
                proposal, kind, io.BytesIO(PDF_BYTES), f"{kind.value}.pdf", owner
            )
    if "declarations" in sections and "declarations" in editable:
        clause()
        proposal_ops.save_section(
            proposal,
            "declarations",
            {
                "declared_accuracy": True,
                "accept_clause": True,
                "declared_de_minimis": True,
                "declared_data_protection": True,
            },
            owner,
        )
    db.session.flush()
    return proposal


def organisation(name: str) -> Organisation:
    return db.session.scalar(sa.select(Organisation).where(Organisation.name == name))


# --- the review pipeline ---------------------------------------------------------------------

from tracker.review import operations as review_ops  # noqa: E402
from tracker.review import rules as review_rules  # noqa: E402
from tracker.workflow.operations import perform_transition  # noqa: E402


def team() -> dict[str, User]:
    """One account per staff role, plus a third reviewer and a second company."""
    people = {role: staff(role) for role in ("reviewer", "hrdd", "committee", "reporting", "admin")}
    people["reviewer2"] = staff("reviewer", "reviewer2@agency.lu")
    people["reviewer3"] = staff("reviewer", "reviewer3@agency.lu")
    people["outsider"] = applicant("eve@other.lu", "Other S.A.")
    return people


def submitted(call_: Call, owner: User) -> Proposal:
    proposal = fill(draft(call_, owner), owner)
    perform_transition(proposal, "submit", owner)
    return proposal


def tick_checklist(proposal: Proposal, reviewer: User) -> None:
    review_ops.record_screening(
        proposal, reviewer, {key: (True, "") for key in review_rules.MANUAL_SCREENING_ITEMS}
    )


def assess_hrdd(proposal: Proposal, officer: User, decision: str = "conditions") -> None:
    review_ops.save_hrdd_assessment(
        proposal,
        officer,
        {
            "exclusion_checked": True,
            "exclusion_hit": False,
            "risk_category": "B",
            "clause_decision": decision,
            "conditions": ["Action plan on working conditions before the first payment."]
            if decision == "conditions"
            else [],
            "risks": {
                key: (
                    key == "labour",
                    "medium" if key == "labour" else None,
                    "medium" if key == "labour" else None,
                    "",
                )
                for key in review_rules.SALIENT_RISKS
            },
        },
    )


def score(proposal: Proposal, reviewer: User, mark: int = 7) -> None:
    if not review_ops.is_assigned(proposal, reviewer):
        review_ops.assign_reviewer(proposal, reviewer, reviewer)
    if review_ops.conflict_of(proposal, reviewer) is None:
        review_ops.declare_conflict(proposal, reviewer, False)
    from tracker.programmes.rubrics import rubric_for

    criteria = rubric_for(proposal.call).criteria
    review_ops.submit_score(
        proposal,
        reviewer,
        {c.key: max(min(mark, c.scale_max), c.scale_min) for c in criteria},
    )


def complete_contract(proposal: Proposal, reviewer: User) -> None:
    contract = review_ops.contract_for(proposal)
    granted = proposal.granted_eur
    review_ops.save_contract(
        contract,
        proposal,
        reviewer,
        {
            "number": f"{proposal.reference}-A",
            "granted_eur": granted,
            "start_date": date.today() + timedelta(days=30),
            "end_date": date.today() + timedelta(days=760),
            "clause_version": clause(),
            "conditions": list(contract.conditions),
            "agency_signed_on": date.today(),
            "company_signed_on": date.today(),
            "instalments": [(i.label, i.percent, i.amount_eur) for i in contract.instalments],
        },
    )


def prepare_for(proposal: Proposal, people: dict[str, User]) -> None:
    """Satisfy the guards of the ways out of the proposal's current state (asked of its
    workflow's groups, so it serves every workflow)."""
    from tracker.workflow.operations import workflow_for

    workflow = workflow_for(proposal)
    status = proposal.status
    if workflow.in_group(status, "screening"):
        tick_checklist(proposal, people["reviewer"])
    elif workflow.in_group(status, "hrdd_review"):
        assess_hrdd(proposal, people["hrdd"])
    elif workflow.in_group(status, "scoring"):
        score(proposal, people["reviewer"], 7)
        score(proposal, people["reviewer2"], 8)
    elif workflow.states[status].applicant_edits and not workflow.in_group(status, "concept_note"):
        if not workflow.in_group(status, "hidden_from_staff"):  # the full proposal
            owner = proposal.created_by
            fill(proposal, owner, sections=("project", "hrdd", "documents", "declarations"))
    elif workflow.in_group(status, "contracting"):
        complete_contract(proposal, people["reviewer"])
    elif any("closure_ready" in t.guards for t in workflow.transitions_from(status)):
        finish_reports(proposal, people)


def finish_reports(proposal: Proposal, people: dict[str, User]) -> None:
    """Every report of the project submitted and approved (so that it may close)."""
    from tracker.projects import operations as project_ops

    for report in project_ops.load_project(proposal).reports:
        if report.open:
            project_ops.submit_report(
                report, proposal, proposal.created_by, report_content(proposal)
            )
        if report.status.value == "submitted":
            approve_report(proposal, people["reviewer"], report.kind.value)


def _signed_path(screening):
    return [
        *screening,
        ("clear_hrdd", "hrdd"),
        ("complete_evaluation", "reviewer"),
        ("select", "committee"),
        ("start_contracting", "reviewer"),
        ("sign_contract", "reviewer"),
    ]


# The path to each state: (transition, role) steps from a submitted proposal.
def path_to(state: str, two_stage: bool) -> list[tuple[str, str]]:
    screening = [("start_screening", "reviewer"), ("pass_screening", "reviewer")]
    if two_stage:
        screening += [("preselect", "committee"), ("submit_full_proposal", "owner")]
    paths = {
        "draft": None,
        "submitted": [],
        "screening": [("start_screening", "reviewer")],
        "preselection": [("start_screening", "reviewer"), ("pass_screening", "reviewer")],
        "full_proposal": [
            ("start_screening", "reviewer"),
            ("pass_screening", "reviewer"),
            ("preselect", "committee"),
        ],
        "hrdd_review": screening,
        "evaluation": [*screening, ("clear_hrdd", "hrdd")],
        "selection": [*screening, ("clear_hrdd", "hrdd"), ("complete_evaluation", "reviewer")],
        "reserve": [
            *screening,
            ("clear_hrdd", "hrdd"),
            ("complete_evaluation", "reviewer"),
            ("reserve", "committee"),
        ],
        "selected": [
            *screening,
            ("clear_hrdd", "hrdd"),
            ("complete_evaluation", "reviewer"),
            ("select", "committee"),
        ],
        "contracting": [
            *screening,
            ("clear_hrdd", "hrdd"),
            ("complete_evaluation", "reviewer"),
            ("select", "committee"),
            ("start_contracting", "reviewer"),
        ],
        "contracted": [
            *screening,
            ("clear_hrdd", "hrdd"),
            ("complete_evaluation", "reviewer"),
            ("select", "committee"),
            ("start_contracting", "reviewer"),
            ("sign_contract", "reviewer"),
        ],
        "implementation": [*_signed_path(screening), ("start_implementation", "reviewer")],
        "suspended": [
            *_signed_path(screening),
            ("start_implementation", "reviewer"),
            ("suspend", "reviewer"),
        ],
        "terminated": [*_signed_path(screening), ("terminate", "admin")],
        "info_requested": [("start_screening", "reviewer"), ("request_information", "reviewer")],
        "rejected": [("start_screening", "reviewer"), ("reject_screening", "reviewer")],
        "withdrawn": [("withdraw", "owner")],
    }
    return paths[state]


def inputs_for(proposal: Proposal, key: str) -> dict:
    """What a transition's form would carry: an amount, a new deadline."""
    from tracker.workflow.operations import workflow_for

    transition = workflow_for(proposal).transitions.get(key)
    wanted = transition.inputs if transition else ()
    data = {}
    if "granted_eur" in wanted:
        data["granted_eur"] = Decimal("150000.00")
    if "deadline" in wanted:
        data["deadline"] = utcnow() + timedelta(days=400)  # after every deadline of a test call
    if "end_date" in wanted:
        data["end_date"] = date.today() + timedelta(days=900)
    if "recover_eur" in wanted:
        data["recover_eur"] = Decimal("0.00")
    return data


# --- after the signature -----------------------------------------------------------------------


def signed_project(people: dict[str, User], owner: User | None = None, **call_args) -> Proposal:
    """A proposal whose agreement is signed (one HRDD condition), in implementation."""
    owner = owner or applicant()
    proposal = bring_to("contracted", call(**call_args), owner, people)
    take(proposal, "start_implementation", people["reviewer"])
    return proposal


def report_content(proposal: Proposal, **changes):
    from tracker.projects import operations as project_ops

    project = project_ops.load_project(proposal)
    values = {
        "narrative": "Two production lines installed; training of 40 technicians done.",
        "jobs": 12,
        "beneficiaries": 300,
        "expenses": Decimal("210000.00"),
        "evidence": {str(c.position): "Audit report of March." for c in project.conditions},
        "incidents": "None.",
    }
    values.update(changes)
    return project_ops.ReportContent(**values)


def report_of(proposal: Proposal, kind: str):
    from tracker.projects import operations as project_ops

    return project_ops.load_project(proposal).report(kind)


def submit_report(proposal: Proposal, owner: User, kind: str = "mid_term", **changes):
    from tracker.projects import operations as project_ops

    report = report_of(proposal, kind)
    return project_ops.submit_report(report, proposal, owner, report_content(proposal, **changes))


def approve_report(proposal: Proposal, officer: User, kind: str = "mid_term"):
    from tracker.projects import operations as project_ops
    from tracker.projects.models import ReportStatus

    report = report_of(proposal, kind)
    return project_ops.decide_report(report, proposal, officer, ReportStatus.approved, "Fine.")


def meet_conditions(proposal: Proposal, officer: User) -> None:
    from tracker.projects import operations as project_ops
    from tracker.projects.models import ConditionStatus

    for condition in project_ops.load_project(proposal).conditions:
        if not condition.settled:
            project_ops.decide_condition(
                condition, proposal, officer, ConditionStatus.met, "Seen on site."
            )


def pay(proposal: Proposal, position: int, actor: User, amount=None, **kwargs):
    from tracker.projects import operations as project_ops

    project = project_ops.load_project(proposal)
    instalment = project.contract.instalments[position - 1]
    return project_ops.record_payment(
        proposal,
        instalment.id,
        actor,
        paid_on=kwargs.pop("paid_on", date.today()),
        amount=instalment.amount_eur if amount is None else amount,
        reference=kwargs.pop("reference", f"PAY-{proposal.id}-{position}"),
        **kwargs,
    )


def take(proposal: Proposal, key: str, actor: User):
    return perform_transition(
        proposal, key, actor, comment=f"Because of {key}.", data=inputs_for(proposal, key)
    )


def bring_to(state: str, call_: Call, owner: User, people: dict[str, User]) -> Proposal:
    """A proposal in the given state, reached through the workflow, ready for its next step."""
    if state == "draft":
        proposal = fill(draft(call_, owner), owner)
    else:
        proposal = submitted(call_, owner)
        for key, role in path_to(state, call_.workflow_key == BPF_TWO_STAGE):
            prepare_for(proposal, people)
            take(proposal, key, owner if role == "owner" else people[role])
    prepare_for(proposal, people)
    db.session.flush()
    return proposal
