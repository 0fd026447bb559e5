"""The sections of the proposal form and what makes each one complete.

Saving a draft accepts anything well-formed; completeness is judged here, section by section,
for the progress overview and for submission. In a two-stage call the concept note needs only
the lead applicant, the partners, the short project description and the estimated budget.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l

from tracker.proposals import eligibility
from tracker.proposals.models import REQUIRED_DOCUMENTS

CONCEPT = "concept"
FULL = "full"

HRDD_STEPS = {
    1: (
        _l("Policy commitment"),
        _l(
            "Your commitment to responsible business conduct: who approved it at the top of the "
            "company, and how it applies to your partners and suppliers."
        ),
    ),
    2: (
        _l("Identifying and assessing adverse impacts"),
        _l(
            "How you identify and assess actual and potential adverse impacts on people and the "
            "environment in this project and its value chain."
        ),
    ),
    3: (
        _l("Ceasing, preventing and mitigating"),
        _l("The measures you take to stop, prevent or reduce those impacts."),
    ),
    4: (
        _l("Tracking effectiveness"),
        _l("How you check that these measures work (indicators, audits, follow-up)."),
    ),
    5: (
        _l("Communicating"),
        _l("How you report on your impacts and measures, publicly and to those affected."),
    ),
    6: (
        _l("Remediation and grievance mechanism"),
        _l(
            "How you provide for or cooperate in remediation, and the grievance channel open to "
            "workers and communities (legitimate, accessible, predictable, equitable, "
            "transparent, rights-compatible, a source of learning, based on dialogue)."
        ),
    ),
}


@dataclass(frozen=True)
class Section:
    key: str
    number: int
    title: str
    in_concept_note: bool
    own: bool = False  # a section of the call's own questions


SECTIONS = (
    Section("lead", 1, _l("Lead applicant"), True),
    Section("partners", 2, _l("Partners"), True),
    Section("project", 3, _l("Project"), True),
    Section("budget", 4, _l("Budget"), True),
    Section("hrdd", 5, _l("HRDD self-assessment"), False),
    Section("documents", 6, _l("Documents"), False),
    Section("declarations", 7, _l("Declarations"), False),
)
SECTION_KEYS = tuple(s.key for s in SECTIONS)

# Fields of the project section that the concept note needs; the rest wait for the full proposal.
CONCEPT_PROJECT_FIELDS = ("title", "summary", "project_type", "sector_id", "target_countries")
FULL_PROJECT_FIELDS = (
    "sdgs",
    "problem",
    "solution",
    "impact_jobs",
    "impact_beneficiaries",
    "technology_transfer",
    "innovation",
    "sustainability",
    "start_date",
    "duration_months",
)

Problem = tuple[str, str]  # (field name or "", message)


def all_sections(call=None) -> tuple[Section, ...]:
    """The core sections and, before the documents, the call's own sections, numbered."""
    if call is None or call.id is None:
        return SECTIONS
    from tracker.questions.operations import OWN_PREFIX, sections_of, text

    own = [
        Section(f"{OWN_PREFIX}{s.key}", 0, text(s.title), s.stage.value == CONCEPT, own=True)
        for s in sections_of(call)
    ]
    if not own:
        return SECTIONS
    ordered = [*SECTIONS[:5], *own, *SECTIONS[5:]]
    return tuple(
        Section(s.key, number, s.title, s.in_concept_note, s.own)
        for number, s in enumerate(ordered, start=1)
    )


def section_by_key(key: str, call=None) -> Section | None:
    return next((s for s in all_sections(call) if s.key == key), None)


def sections_for(stage: str, call=None) -> tuple[Section, ...]:
    sections = all_sections(call)
    if stage == CONCEPT:
        return tuple(s for s in sections if s.in_concept_note)
    return sections


def _missing(proposal, fields: tuple[str, ...], labels: dict[str, str]) -> list[Problem]:
    problems = []
    for name in fields:
        value = getattr(proposal, name)
        if value is None or value == "" or value == []:
            problems.append((name, str(_l("%(field)s is required.", field=labels.get(name, name)))))
    return problems


def _failed(checks: list[eligibility.Check], field_for: dict[str, str]) -> list[Problem]:
    return [
        (field_for.get(c.key, ""), f"{c.label}" + (f" ({c.detail})" if c.detail else "") + ".")
        for c in checks
        if c.ok is False
    ]


LEAD_LABELS = {
    "lead_name": _l("Legal name"),
    "lead_country": _l("Country of registration"),
    "lead_registration_number": _l("Registration number"),
    "lead_registration_date": _l("Registration date"),
    "lead_employees": _l("Employees"),
    "lead_turnover_1": _l("Turnover, last year"),
    "lead_turnover_2": _l("Turnover, the year before"),
    "lead_turnover_3": _l("Turnover, two years before"),
    "de_minimis_1": _l("De minimis aid, current fiscal year"),
    "de_minimis_2": _l("De minimis aid, previous fiscal year"),
    "de_minimis_3": _l("De minimis aid, two fiscal years ago"),
}
PROJECT_LABELS = {
    "title": _l("Title"),
    "summary": _l("Summary"),
    "project_type": _l("Type of project"),
    "sector_id": _l("Sector"),
    "target_countries": _l("Target countries"),
    "sdgs": _l("Sustainable Development Goals"),
    "problem": _l("Problem addressed"),
    "solution": _l("Proposed solution"),
    "impact_jobs": _l("Jobs created"),
    "impact_beneficiaries": _l("Beneficiaries"),
    "technology_transfer": _l("Technology transfer"),
    "innovation": _l("Innovation and additionality"),
    "sustainability": _l("Sustainability after the grant"),
    "start_date": _l("Start date"),
    "duration_months": _l("Duration in months"),
}
BUDGET_LABELS = {
    "total_cost_eur": _l("Total project cost"),
    "requested_eur": _l("Requested co-financing"),
    "own_contribution_eur": _l("Own contribution"),
    "other_funding_eur": _l("Other funding"),
}


def section_questions(proposal, key: str, stage: str) -> list:
    """The call's questions asked in a section at this stage."""
    from tracker.questions.operations import OWN_PREFIX, for_stage, questions_of
    from tracker.workflow.definitions import get_workflow

    section = key.removeprefix(OWN_PREFIX)
    two_stage = get_workflow(proposal.call.workflow_key).two_stage
    asked = for_stage(questions_of(proposal.call), stage, two_stage)
    return [q for q in asked if q.section == section]


def problems_for(proposal, key: str, stage: str, today: date) -> list[Problem]:
    """What still keeps one section from being complete at this stage: the core fields and
    rules, then the call's required questions (those shown by the other answers)."""
    core = [] if key.startswith("x-") else _core_problems(proposal, key, stage, today)
    questions = section_questions(proposal, key, stage)
    if not questions:
        return core
    from tracker.questions.operations import answers_of
    from tracker.questions.operations import problems as question_problems

    return core + question_problems(proposal, questions, answers_of(proposal))


def rule_problems(proposal, key: str, today: date) -> list[Problem]:
    """The call's rules that the section's values break, each with the field it is about (the
    form shows them at that field as well as in the section's list)."""
    call = proposal.call
    if key == "lead":
        return _failed(
            eligibility.company_checks(proposal, call, today),
            {
                "lead_country": "lead_country",
                "company_age": "lead_registration_date",
                "employees": "lead_employees",
                "turnover": "lead_turnover_1",
            },
        )
    if key == "budget":
        return _failed(
            eligibility.amount_checks(proposal, call),
            {
                "rate": "requested_eur",
                "ceiling": "requested_eur",
                "budget_balance": "total_cost_eur",
            },
        )
    return []


def _core_problems(proposal, key: str, stage: str, today: date) -> list[Problem]:
    call = proposal.call
    if key == "lead":
        problems = _missing(proposal, tuple(LEAD_LABELS), LEAD_LABELS)
        return problems + rule_problems(proposal, key, today)
    if key == "partners":
        if not proposal.partners:
            return [("", str(_l("Add at least one local partner.")))]
        return _failed(eligibility.partner_checks(proposal, call), {})
    if key == "project":
        fields = (
            CONCEPT_PROJECT_FIELDS
            if stage == CONCEPT
            else CONCEPT_PROJECT_FIELDS + FULL_PROJECT_FIELDS
        )
        problems = _missing(proposal, fields, PROJECT_LABELS)
        problems += _failed([eligibility.sector_check(proposal, call)], {"sector": "sector_id"})
        if (
            stage == FULL
            and proposal.start_date is not None
            and proposal.start_date < today
            and _applicant_edits(proposal)
        ):
            problems.append(("start_date", str(_l("The start date cannot be in the past."))))
        return problems
    if key == "budget":
        problems = _missing(
            proposal, ("total_cost_eur", "requested_eur", "own_contribution_eur"), BUDGET_LABELS
        )
        return problems + rule_problems(proposal, key, today)
    if key == "hrdd":
        problems = []
        for step, (title, _hint) in HRDD_STEPS.items():
            answer = proposal.answer_for(step)
            if answer is None or not answer.answer.strip():
                problems.append(
                    (
                        f"step_{step}-answer",
                        str(_l("Answer step %(n)s: %(title)s.", n=step, title=title)),
                    )
                )
        return problems
    if key == "documents":
        present = {a.kind for a in proposal.attachments if a.status_change_id is None}
        return [
            ("", str(_l("Upload the %(kind)s.", kind=str(kind.title).lower())))
            for kind in REQUIRED_DOCUMENTS
            if kind not in present
        ]
    if key == "declarations":
        problems = []
        for name, label in (
            ("declared_accuracy", _l("Confirm that the information is accurate.")),
            ("accepted_clause_version_id", _l("Accept the human-rights due-diligence clause.")),
            ("declared_de_minimis", _l("Make the de minimis declaration.")),
            ("declared_data_protection", _l("Accept the data-protection notice.")),
        ):
            if not getattr(proposal, name):
                problems.append((name, str(label)))
        return problems
    raise KeyError(key)


@dataclass
class SectionStatus:
    section: Section
    required: bool
    problems: list[Problem]

    @property
    def complete(self) -> bool:
        return not self.problems


def overview(proposal, stage: str, today: date) -> list[SectionStatus]:
    """Every section with whether it is needed at this stage and what it still lacks."""
    sections = all_sections(proposal.call)
    needed = {s.key for s in sections_for(stage, proposal.call)}
    return [
        SectionStatus(s, s.key in needed, problems_for(proposal, s.key, stage, today))
        for s in sections
    ]


def _applicant_edits(proposal) -> bool:
    from tracker.workflow.definitions import get_workflow

    state = get_workflow(proposal.call.workflow_key).states.get(proposal.status)
    return state is not None and state.applicant_edits


def stage_of(proposal) -> str:
    """Which set of sections the next submission needs."""
    from tracker.workflow.definitions import get_workflow

    workflow = get_workflow(proposal.call.workflow_key)
    if workflow.two_stage and workflow.in_group(proposal.status, "concept_note"):
        return CONCEPT
    return FULL


def submission_problems(proposal, stage: str, today: date) -> list[Problem]:
    """Every problem of every section the stage needs, prefixed with the section title."""
    problems = []
    for status in overview(proposal, stage, today):
        if status.required:
            problems += [
                (status.section.key, f"{status.section.title}: {msg}")
                for _f, msg in status.problems
            ]
    return problems
