"""Business rules of the review: screening, HRDD assessment, scoring, selection and contracts."""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import gettext as _

from tracker.audit.operations import plain, record_change
from tracker.auth.models import Role, User
from tracker.core.db import CENT
from tracker.core.time import local_today, utcnow
from tracker.core.web import read_once
from tracker.extensions import db
from tracker.notifications.operations import staff_with, tell_assigned, tell_divergence
from tracker.programmes.rubrics import rubric_for, weighted_total
from tracker.projects.operations import default_releases
from tracker.proposals import eligibility
from tracker.proposals.models import Proposal
from tracker.review import rules
from tracker.review.access import is_partner_evaluator
from tracker.review.models import (
    ClauseDecision,
    ConflictDeclaration,
    Contract,
    HrddAssessment,
    HrddCondition,
    HrddRisk,
    Level,
    PaymentInstalment,
    ReviewerAssignment,
    RiskCategory,
    Score,
    ScreeningItem,
)
from tracker.workflow.definitions import get_workflow
from tracker.workflow.operations import ANY_VERSION, check_version, workflow_for

log = logging.getLogger(__name__)


class ReviewError(Exception):
    """A review step that cannot be recorded; the message is for the reviewer."""

    def __init__(self, message: str, problems: list[str] | None = None):
        super().__init__(message)
        self.message = message
        self.problems = problems or []


def _require(actor: User, proposal: Proposal, *roles: str) -> None:
    """The actor holds one of these roles for the proposal's programme (or for all)."""
    if not actor.has_role_in(proposal.call.programme_id, Role.admin, *roles):
        raise ReviewError(_("Your role does not allow this."))


def _require_stage(proposal: Proposal, group: str) -> None:
    """Refuse work that belongs to another stage of the proposal's workflow."""
    if not workflow_for(proposal).in_group(proposal.status, group):
        raise ReviewError(_("This can only be recorded while the proposal is in another stage."))


def _touch(proposal: Proposal) -> None:
    """Move the proposal's version so that pages showing the old state are refused."""
    proposal.updated_at = utcnow()


# --- screening -------------------------------------------------------------------------------


@dataclass
class ChecklistItem:
    key: str
    label: str
    manual: bool
    computed: bool | None  # for items computed from the data
    detail: str
    decision: ScreeningItem | None

    @property
    def met(self) -> bool | None:
        if self.decision is not None:
            return self.decision.met
        return None if self.manual else self.computed

    @property
    def overridden(self) -> bool:
        """A reviewer decided otherwise than the data (a note alone does not override)."""
        return not self.manual and self.decision is not None and self.decision.met != self.computed


def screening_checklist(proposal: Proposal, today: date | None = None) -> list[ChecklistItem]:
    """Every item of the eligibility checklist with its current outcome."""
    today = today or local_today()
    decisions = {item.key: item for item in screening_decisions(proposal)}
    items = [
        ChecklistItem(c.key, c.label, False, c.ok, c.detail, decisions.get(c.key))
        for c in eligibility.all_checks(proposal, proposal.call, today)
    ]
    concept_note_only = workflow_for(proposal).two_stage and proposal.full_submitted_at is None
    items += [
        ChecklistItem(key, str(label), True, None, "", decisions.get(key))
        for key, label in rules.MANUAL_SCREENING_ITEMS.items()
        if not (concept_note_only and key in rules.FULL_PROPOSAL_ITEMS)
    ]
    return items


def screening_decisions(proposal: Proposal) -> list[ScreeningItem]:
    return list(
        db.session.scalars(sa.select(ScreeningItem).where(ScreeningItem.proposal_id == proposal.id))
    )


def screening_problems(proposal: Proposal) -> list[str]:
    """What keeps the checklist from letting the proposal pass."""
    problems = []
    for item in screening_checklist(proposal):
        if item.met is None:
            problems.append(_("Checklist: “%(item)s” is not resolved yet.", item=item.label))
        elif item.met is False:
            problems.append(_("Checklist: “%(item)s” is not met.", item=item.label))
    return problems


def record_screening(
    proposal: Proposal,
    actor: User,
    decisions: dict[str, tuple[bool | None, str]],
    expected_version=ANY_VERSION,
) -> None:
    """Store the reviewer's ticks; overriding a computed check needs a note saying why."""
    _require(actor, proposal, Role.reviewer)
    _require_stage(proposal, "screening")
    check_version(proposal, expected_version)
    checklist = {item.key: item for item in screening_checklist(proposal)}
    existing = {item.key: item for item in screening_decisions(proposal)}
    before = _screening_snapshot(existing.values())
    problems = []
    for key, (met, note) in decisions.items():
        item = checklist.get(key)
        if item is None:
            continue
        note = (note or "").strip()
        if not item.manual and met is not None and met != item.computed and not note:
            problems.append(
                _("“%(item)s”: say why the computed result is overridden.", item=item.label)
            )
            continue
        if met is None and note:
            if item.manual:
                # A note needs a decision to belong to; the form comes back with the note typed.
                problems.append(
                    _("“%(item)s”: choose met or not met to keep the note.", item=item.label)
                )
                continue
            met = item.computed  # a note on a computed result keeps the result
        row = existing.get(key)
        keep_computed = not item.manual and (met is None or met == item.computed) and not note
        if met is None or keep_computed:
            if row is not None:
                db.session.delete(row)
            continue
        if row is None:
            row = ScreeningItem(proposal_id=proposal.id, key=key)
            db.session.add(row)
        row.met, row.note, row.decided_by_id, row.decided_at = met, note, actor.id, utcnow()
    if problems:
        raise ReviewError(problems[0], problems)
    db.session.flush()
    record_change(
        "screening",
        proposal.id,
        actor=actor,
        before=before,
        after=_screening_snapshot(screening_decisions(proposal)),
        proposal=proposal,
    )
    _touch(proposal)


def _screening_snapshot(decisions) -> dict:
    values = {}
    for item in decisions:
        values[f"item_{item.key}-met"] = "yes" if item.met else "no"
        values[f"item_{item.key}-note"] = plain(item.note)
    return values


# --- HRDD assessment -------------------------------------------------------------------------


def hrdd_assessment(proposal: Proposal) -> HrddAssessment | None:
    return db.session.get(HrddAssessment, proposal.id)


def save_hrdd_assessment(proposal: Proposal, actor: User, data: dict, expected_version=ANY_VERSION):
    """Record the HRDD officer's assessment (it may be saved incomplete and finished later)."""
    _require(actor, proposal, Role.hrdd)
    _require_stage(proposal, "hrdd_review")
    check_version(proposal, expected_version)
    decision = ClauseDecision(data["clause_decision"]) if data.get("clause_decision") else None
    conditions = [c.strip() for c in data.get("conditions", []) if c and c.strip()]
    if data.get("exclusion_hit") and decision not in (None, ClauseDecision.refused):
        raise ReviewError(_("An activity on the exclusion list means the clause is refused."))
    if decision == ClauseDecision.conditions and not conditions:
        raise ReviewError(_("List the specific conditions of the clause."))
    assessment = hrdd_assessment(proposal)
    before = hrdd_snapshot(assessment) if assessment is not None else None
    if assessment is None:
        assessment = HrddAssessment(proposal_id=proposal.id)
        db.session.add(assessment)
    assessment.exclusion_checked = bool(data.get("exclusion_checked"))
    assessment.exclusion_hit = bool(data.get("exclusion_hit"))
    assessment.exclusion_note = data.get("exclusion_note") or ""
    assessment.risk_category = (
        RiskCategory(data["risk_category"]) if data.get("risk_category") else None
    )
    assessment.clause_decision = decision
    assessment.summary = data.get("summary") or ""
    assessment.assessed_by_id = actor.id
    assessment.updated_at = utcnow()
    risks = {risk.risk_key: risk for risk in assessment.risks}
    for key in rules.SALIENT_RISKS:
        relevant, severity, likelihood, note = data.get("risks", {}).get(
            key, (None, None, None, "")
        )
        risk = risks.get(key)
        if risk is None:
            risk = HrddRisk(risk_key=key)
            assessment.risks.append(risk)
        risk.relevant = relevant
        risk.severity = Level(severity) if relevant and severity else None
        risk.likelihood = Level(likelihood) if relevant and likelihood else None
        risk.note = note or ""
    assessment.conditions.clear()
    db.session.flush()
    if decision == ClauseDecision.conditions:
        for position, text in enumerate(conditions, start=1):
            assessment.conditions.append(HrddCondition(position=position, text=text))
    record_change(
        "hrdd_assessment",
        proposal.id,
        actor=actor,
        before=before,
        after=hrdd_snapshot(assessment),
        proposal=proposal,
    )
    _touch(proposal)
    return assessment


def hrdd_snapshot(assessment: HrddAssessment) -> dict:
    """The assessment as text, named like the fields of its form."""
    values = {
        "exclusion_checked": plain(assessment.exclusion_checked),
        "exclusion_hit": plain(assessment.exclusion_hit),
        "exclusion_note": plain(assessment.exclusion_note),
        "risk_category": plain(assessment.risk_category),
        "clause_decision": plain(assessment.clause_decision),
        "summary": plain(assessment.summary),
    }
    for index, condition in enumerate(assessment.conditions):
        values[f"conditions-{index}"] = plain(condition.text)
    risks = {risk.risk_key: risk for risk in assessment.risks}
    for key in rules.SALIENT_RISKS:
        risk = risks.get(key)
        relevant = (
            None if risk is None or risk.relevant is None else ("yes" if risk.relevant else "no")
        )
        values[f"risk_{key}-relevant"] = relevant
        values[f"risk_{key}-severity"] = plain(risk.severity) if risk else None
        values[f"risk_{key}-likelihood"] = plain(risk.likelihood) if risk else None
        values[f"risk_{key}-note"] = plain(risk.note) if risk else None
    return values


def hrdd_problems(proposal: Proposal) -> list[str]:
    """What the assessment still lacks to be complete."""
    assessment = hrdd_assessment(proposal)
    if assessment is None:
        return [_("The HRDD assessment has not been started.")]
    problems = []
    if not assessment.exclusion_checked:
        problems.append(_("Check the exclusion list."))
    rated = {risk.risk_key: risk for risk in assessment.risks}
    for key, label in rules.SALIENT_RISKS.items():
        risk = rated.get(key)
        if risk is None or risk.relevant is None:
            problems.append(_("Say whether “%(risk)s” is relevant.", risk=label))
        elif risk.relevant and (risk.severity is None or risk.likelihood is None):
            problems.append(_("Rate the severity and likelihood of “%(risk)s”.", risk=label))
    if assessment.risk_category is None:
        problems.append(_("Choose the risk category."))
    if assessment.clause_decision is None:
        problems.append(_("Decide the clause."))
    return problems


# --- conflicts, assignments and scores -------------------------------------------------------


def conflict_of(proposal: Proposal, user: User) -> ConflictDeclaration | None:
    found = read_once(
        ("conflict", proposal.id, user.id),
        lambda: [d for d in [db.session.get(ConflictDeclaration, (proposal.id, user.id))] if d],
    )
    return found[0] if found else None


def declare_conflict(
    proposal: Proposal, user: User, has_conflict: bool, note: str = ""
) -> ConflictDeclaration:
    """A scorer or committee member declares whether they have a conflict of interest."""
    _require(user, proposal, Role.reviewer, Role.committee, Role.evaluator)
    if is_partner_evaluator(user) and not is_assigned(proposal, user):
        raise ReviewError(_("Only reviewers assigned to this proposal can score it."))
    if has_conflict and not (note or "").strip():
        raise ReviewError(_("Describe the conflict of interest."))
    declaration = conflict_of(proposal, user)
    if declaration is not None and declaration.has_conflict and not has_conflict:
        raise ReviewError(
            _("A declared conflict of interest cannot be withdrawn; ask an administrator.")
        )
    before = _conflict_snapshot(declaration) if declaration is not None else None
    if declaration is None:
        declaration = ConflictDeclaration(proposal_id=proposal.id, user_id=user.id)
        db.session.add(declaration)
    declaration.has_conflict = has_conflict
    declaration.note = (note or "").strip()
    declaration.declared_at = utcnow()
    record_change(
        "conflict",
        f"{proposal.id}:{user.id}",
        actor=user,
        before=before,
        after=_conflict_snapshot(declaration),
        proposal=proposal,
    )
    if has_conflict:
        # A conflicted scorer's marks no longer count; what they were stays in the audit trail.
        mine = db.session.scalar(
            sa.select(Score).where(Score.proposal_id == proposal.id, Score.reviewer_id == user.id)
        )
        if mine is not None:
            record_change(
                "score",
                mine.id,
                actor=user,
                before=score_snapshot(mine),
                after=None,
                proposal=proposal,
            )
            db.session.delete(mine)
    _touch(proposal)
    return declaration


def _conflict_snapshot(declaration: ConflictDeclaration) -> dict:
    return {"has_conflict": plain(declaration.has_conflict), "note": plain(declaration.note)}


def assignments(proposal: Proposal) -> list[ReviewerAssignment]:
    return list(
        db.session.scalars(
            sa.select(ReviewerAssignment)
            .where(ReviewerAssignment.proposal_id == proposal.id)
            .options(sa.orm.selectinload(ReviewerAssignment.reviewer))
            .order_by(ReviewerAssignment.assigned_at)
        )
    )


def assign_reviewer(proposal: Proposal, reviewer: User, actor: User) -> ReviewerAssignment:
    """Ask a reviewer to score a proposal in evaluation (or before, to prepare)."""
    _require(actor, proposal, Role.reviewer)
    if not workflow_for(proposal).in_group(proposal.status, "assignable"):
        raise ReviewError(_("Reviewers are assigned to proposals under review."))
    scorer = reviewer.has_role_in(proposal.call.programme_id, Role.reviewer, Role.evaluator)
    if not scorer or not reviewer.active:
        raise ReviewError(_("Only active reviewers can be assigned."))
    declaration = conflict_of(proposal, reviewer)
    if declaration is not None and declaration.has_conflict:
        raise ReviewError(
            _("%(name)s declared a conflict of interest on this proposal.", name=reviewer.name)
        )
    existing = db.session.scalar(
        sa.select(ReviewerAssignment).where(
            ReviewerAssignment.proposal_id == proposal.id,
            ReviewerAssignment.reviewer_id == reviewer.id,
        )
    )
    if existing is not None:
        raise ReviewError(_("%(name)s is already assigned.", name=reviewer.name))
    assignment = ReviewerAssignment(
        proposal_id=proposal.id, reviewer_id=reviewer.id, assigned_by_id=actor.id
    )
    db.session.add(assignment)
    db.session.flush()
    record_change(
        "assignment",
        assignment.id,
        actor=actor,
        before=None,
        after={"reviewer": reviewer.name},
        proposal=proposal,
    )
    _touch(proposal)
    tell_assigned(proposal, reviewer)
    return assignment


def is_assigned(proposal: Proposal, user: User) -> bool:
    return (
        db.session.scalar(
            sa.select(ReviewerAssignment.id).where(
                ReviewerAssignment.proposal_id == proposal.id,
                ReviewerAssignment.reviewer_id == user.id,
            )
        )
        is not None
    )


def scores(proposal: Proposal) -> list[Score]:
    return read_once(
        ("scores", proposal.id),
        lambda: db.session.scalars(
            sa.select(Score)
            .where(Score.proposal_id == proposal.id)
            .options(sa.orm.selectinload(Score.reviewer))
            .order_by(Score.submitted_at)
        ),
    )


def submit_score(
    proposal: Proposal,
    reviewer: User,
    marks: dict[str, int],
    comment: str = "",
    expected_version=ANY_VERSION,
) -> Score:
    """An assigned reviewer without a conflict scores each criterion from 0 to 10."""
    _require(reviewer, proposal, Role.reviewer, Role.evaluator)
    _require_stage(proposal, "scoring")
    check_version(proposal, expected_version)
    if not is_assigned(proposal, reviewer):
        raise ReviewError(_("Only reviewers assigned to this proposal can score it."))
    declaration = conflict_of(proposal, reviewer)
    if declaration is None:
        raise ReviewError(_("Declare first whether you have a conflict of interest."))
    if declaration.has_conflict:
        raise ReviewError(_("You declared a conflict of interest: you cannot score this proposal."))
    rubric = rubric_for(proposal.call).as_data()
    clean = {}
    for criterion in rubric["criteria"]:
        value = marks.get(criterion["key"])
        if value is None or not criterion["min"] <= int(value) <= criterion["max"]:
            raise ReviewError(
                _(
                    "Mark “%(criterion)s” from %(min)s to %(max)s.",
                    criterion=criterion["title"],
                    min=criterion["min"],
                    max=criterion["max"],
                )
            )
        clean[criterion["key"]] = int(value)
    score = db.session.scalar(
        sa.select(Score).where(Score.proposal_id == proposal.id, Score.reviewer_id == reviewer.id)
    )
    before = score_snapshot(score) if score is not None else None
    if score is None:
        score = Score(proposal_id=proposal.id, reviewer_id=reviewer.id)
        db.session.add(score)
    score.marks = clean
    score.rubric = rubric
    score.total = weighted_total(clean, rubric)
    score.comment = (comment or "").strip()
    score.submitted_at = utcnow()
    db.session.flush()
    record_change(
        "score",
        score.id,
        actor=reviewer,
        before=before,
        after=score_snapshot(score),
        proposal=proposal,
    )
    _touch(proposal)
    _ask_for_a_further_score(proposal)
    return score


def _ask_for_a_further_score(proposal: Proposal) -> None:
    """Scores that diverge: the reviewers who could still score hear of it (once)."""
    summary = score_summary(proposal)
    if not summary.divergent or summary.enough:
        return
    scored = {s.reviewer_id for s in scores(proposal)}
    people = [
        u for u in staff_with(proposal.call.programme_id, Role.reviewer) if u.id not in scored
    ]
    tell_divergence(proposal, people)


def score_snapshot(score: Score) -> dict:
    values = {f"mark_{key}": plain(mark) for key, mark in (score.marks or {}).items()}
    values["comment"] = plain(score.comment)
    values["total"] = plain(score.total)
    return values


@dataclass
class ScoreSummary:
    totals: list[Decimal]
    mean: Decimal | None
    divergent: bool  # two totals differ by more than the threshold of the higher one
    needed: int  # how many scores completing the evaluation needs

    @property
    def enough(self) -> bool:
        return len(self.totals) >= self.needed


def summarise(
    totals: list[Decimal], required: int = 2, divergence_percent: Decimal | None = Decimal(30)
) -> ScoreSummary:
    """The mean, and whether a further score is needed because two totals diverge (by more
    than ``divergence_percent`` of the higher; no such rule when it is None)."""
    share = None if divergence_percent is None else Decimal(divergence_percent) / 100
    divergent = share is not None and any(
        max(a, b) > 0 and abs(a - b) > share * max(a, b)
        for a, b in itertools.combinations(totals[:required], 2)
    )
    needed = required + 1 if divergent else required
    mean = (sum(totals) / len(totals)).quantize(CENT) if totals else None
    return ScoreSummary(totals, mean, divergent, needed)


def score_summary(proposal: Proposal) -> ScoreSummary:
    """The scores against the call's rubric: how many are needed, whether they diverge."""
    rubric = rubric_for(proposal.call)
    totals = [s.total for s in scores(proposal)]
    return summarise(totals, rubric.scores_required, rubric.divergence_percent)


def may_see_scores(proposal: Proposal, user: User) -> bool:
    """Committee and administrators see every score; a scorer sees the others once they scored."""
    programme = proposal.call.programme_id
    if user.has_role_in(programme, Role.admin, Role.committee):
        declaration = conflict_of(proposal, user)
        return declaration is None or not declaration.has_conflict
    if is_partner_evaluator(user) or not user.has_role_in(programme, Role.reviewer):
        return False  # a partner's evaluator sees their own score only
    declaration = conflict_of(proposal, user)
    if declaration is not None and declaration.has_conflict:
        return False
    own = db.session.scalar(
        sa.select(Score.id).where(Score.proposal_id == proposal.id, Score.reviewer_id == user.id)
    )
    return own is not None or not is_assigned(proposal, user)


# --- selection -------------------------------------------------------------------------------


@dataclass
class RankedProposal:
    proposal: Proposal
    mean: Decimal | None
    scores: int
    max_grant: Decimal | None
    running_total: Decimal
    within_envelope: bool
    lowest: Decimal | None = None  # the scores' spread beside the mean
    highest: Decimal | None = None
    hrdd_category: str | None = None


@dataclass
class Ranking:
    """The committee's ranking: ranked proposals, and those below the rubric's threshold."""

    ranked: list[RankedProposal]
    below_threshold: list[RankedProposal]
    threshold: Decimal | None
    envelope: Decimal | None

    def __iter__(self):
        return iter(self.ranked)

    def __len__(self) -> int:
        return len(self.ranked)

    def __bool__(self) -> bool:
        return bool(self.ranked or self.below_threshold)


def selection_ranking(call, batch=None) -> Ranking:
    """The call's proposals before the committee, best mean score first, with the running
    total against the envelope (a batch's own, in a rolling call); those below the rubric's
    threshold are listed apart, not ranked."""
    mean = sa.func.avg(Score.total)
    category = (
        sa.select(HrddAssessment.risk_category)
        .where(HrddAssessment.proposal_id == Proposal.id)
        .correlate(Proposal)
        .scalar_subquery()
    )
    query = (
        sa.select(
            Proposal,
            mean.label("mean"),
            sa.func.count(Score.id).label("n"),
            sa.func.min(Score.total).label("lowest"),
            sa.func.max(Score.total).label("highest"),
            category.label("category"),
        )
        .outerjoin(Score, Score.proposal_id == Proposal.id)
        .where(
            Proposal.call_id == call.id,
            Proposal.status.in_(get_workflow(call.workflow_key).group("committee")),
        )
        .group_by(Proposal.id)
        .order_by(mean.desc().nulls_last(), Proposal.reference)
        .options(sa.orm.selectinload(Proposal.sector))
    )
    if batch is not None:
        query = query.where(Proposal.batch_id == batch.id)
    rows = db.session.execute(query).all()
    threshold = rubric_for(call).threshold
    envelope = batch.budget_envelope_eur if batch is not None else call.budget_envelope_eur
    ranked, below, running = [], [], Decimal("0.00")

    def two(value):
        return Decimal(str(value)).quantize(CENT) if value is not None else None

    for proposal, average, count, lowest, highest, risk in rows:
        mean_score = two(average)
        spread = {
            "lowest": two(lowest),
            "highest": two(highest),
            "hrdd_category": getattr(risk, "value", risk),
        }
        if threshold is not None and mean_score is not None and mean_score < threshold:
            below.append(
                RankedProposal(
                    proposal=proposal,
                    mean=mean_score,
                    scores=count,
                    max_grant=eligibility.max_grant(proposal, call),
                    running_total=running,
                    within_envelope=False,
                    **spread,
                )
            )
            continue
        amount = proposal.granted_eur or proposal.requested_eur or Decimal("0.00")
        running += amount
        ranked.append(
            RankedProposal(
                proposal=proposal,
                mean=mean_score,
                scores=count,
                max_grant=eligibility.max_grant(proposal, call),
                running_total=running,
                within_envelope=envelope is None or running <= envelope,
                **spread,
            )
        )
    return Ranking(ranked, below, threshold, envelope)


def calls_before_committee(user: User, group: str = "committee") -> list[tuple]:
    """The calls with proposals waiting for the committee that this person may rank (or, with
    ``group="preselection"``, compare at pre-selection), with how many: ``(call, count)``, the
    call closing last first."""
    from tracker.programmes.models import Call
    from tracker.review.access import programmes_visible
    from tracker.workflow.definitions import workflows as all_workflows

    waiting = set()
    for workflow in all_workflows().values():
        waiting |= workflow.group(group)
    if not waiting:
        return []
    query = (
        sa.select(Proposal.call_id, Proposal.status, sa.func.count(Proposal.id))
        .where(Proposal.status.in_(waiting))
        .group_by(Proposal.call_id, Proposal.status)
    )
    scope = programmes_visible(user, Role.committee, Role.reviewer)
    if scope is not None:
        query = query.join(Call, Call.id == Proposal.call_id).where(
            Call.programme_id.in_(scope or {-1})
        )
    counts: dict[int, dict[str, int]] = {}
    for call_id, status, count in db.session.execute(query):
        counts.setdefault(call_id, {})[status] = count
    if not counts:
        return []
    calls = db.session.scalars(
        sa.select(Call)
        .where(Call.id.in_(counts))
        .order_by(Call.closes_at.desc().nulls_first(), Call.id.desc())
        .options(sa.orm.selectinload(Call.programme))
    )
    found = []
    for call in calls:
        states = get_workflow(call.workflow_key).group(group)
        total = sum(n for status, n in counts[call.id].items() if status in states)
        if total:
            found.append((call, total))
    return found


def committee_options(ranking: Ranking, user: User) -> dict[int, list]:
    """The decisions offered per ranked proposal, for the whole ranking in one query.

    The full guards run again when a decision is submitted; here only what the committee member
    needs to see is worked out: their role, the state, and their own conflicts of interest.
    """
    return decision_options(
        [row.proposal for row in (*ranking.ranked, *ranking.below_threshold)], user
    )


def decision_options(proposals: list[Proposal], user: User) -> dict[int, list]:
    """The committee's decisions offered on each of these proposals (see committee_options)."""
    from tracker.workflow.operations import Option, may_take

    ids = [proposal.id for proposal in proposals]
    conflicted = (
        set(
            db.session.scalars(
                sa.select(ConflictDeclaration.proposal_id).where(
                    ConflictDeclaration.proposal_id.in_(ids),
                    ConflictDeclaration.user_id == user.id,
                    ConflictDeclaration.has_conflict.is_(True),
                )
            )
        )
        if ids
        else set()
    )
    options = {}
    for proposal in proposals:
        problems = (
            [_("You declared a conflict of interest on this proposal.")]
            if proposal.id in conflicted
            else []
        )
        options[proposal.id] = [
            Option(transition, problems)
            for transition in workflow_for(proposal).transitions_from(proposal.status)
            if may_take(user, proposal, transition)
        ]
    return options


def concept_notes(call, batch=None) -> list[Proposal]:
    """The call's concept notes before the pre-selection committee, in the order they were
    submitted, with what the comparison shows loaded in a constant number of queries."""
    states = get_workflow(call.workflow_key).group("preselection")
    if not states:
        return []
    query = (
        sa.select(Proposal)
        .where(Proposal.call_id == call.id, Proposal.status.in_(states))
        .order_by(Proposal.submitted_at, Proposal.id)
        .options(
            sa.orm.selectinload(Proposal.partners),
            sa.orm.selectinload(Proposal.sector),
        )
    )
    if batch is not None:
        query = query.where(Proposal.batch_id == batch.id)
    return list(db.session.scalars(query))


def granted_in_call(call) -> Decimal:
    """What the committee has already granted in this call."""
    total = db.session.scalar(
        sa.select(sa.func.sum(Proposal.granted_eur)).where(
            Proposal.call_id == call.id,
            Proposal.status.in_(get_workflow(call.workflow_key).group("granted")),
        )
    )
    return Decimal(str(total or 0)).quantize(CENT)


# --- contracts -------------------------------------------------------------------------------


def contract_for(proposal: Proposal) -> Contract | None:
    return db.session.scalar(
        sa.select(Contract)
        .where(Contract.proposal_id == proposal.id)
        .options(sa.orm.selectinload(Contract.instalments))
    )


def granted_summary(proposal: Proposal) -> dict | None:
    """After selection: the co-financing granted and, once signed, the agreement's number, dates
    and conditions, as the company should see them without asking."""
    workflow = workflow_for(proposal)
    if not workflow.in_group(proposal.status, "granted"):
        return None
    contract = db.session.scalar(sa.select(Contract).where(Contract.proposal_id == proposal.id))
    signed = contract is not None and contract.signed
    return {
        "granted_eur": (contract.granted_eur if signed and contract.granted_eur else None)
        or proposal.granted_eur,
        "contract": contract if signed else None,
        "signed": workflow.in_group(proposal.status, "signed"),
    }


def prepare_contract(proposal: Proposal) -> Contract:
    """A draft agreement prefilled from the selection and the HRDD review."""
    from tracker.proposals.operations import current_clause

    contract = contract_for(proposal)
    if contract is not None:
        return contract
    assessment = hrdd_assessment(proposal)
    granted = proposal.granted_eur
    contract = Contract(
        proposal_id=proposal.id,
        number=f"{proposal.reference}-A" if proposal.reference else None,
        granted_eur=granted,
        clause_version=current_clause(),
        conditions=[c.text for c in assessment.conditions] if assessment else [],
    )
    count = len(rules.DEFAULT_SCHEDULE)
    for position, (label, percent) in enumerate(rules.DEFAULT_SCHEDULE, start=1):
        amount = (
            (granted * percent / 100).quantize(CENT) if granted is not None else Decimal("0.00")
        )
        at_signature, report, with_conditions = default_releases(position, count)
        contract.instalments.append(
            PaymentInstalment(
                position=position,
                label=str(label),
                percent=percent,
                amount_eur=amount,
                release_at_signature=at_signature,
                release_report=report,
                release_conditions=list(range(1, len(contract.conditions) + 1))
                if with_conditions
                else [],
            )
        )
    if granted is not None and contract.instalments:
        # Rounding goes into the last payment so the schedule adds up to the grant exactly.
        contract.instalments[-1].amount_eur += granted - sum(
            i.amount_eur for i in contract.instalments
        )
    db.session.add(contract)
    db.session.flush()
    record_change(
        "contract",
        contract.id,
        actor=None,
        before=None,
        after=contract_snapshot(contract),
        proposal=proposal,
    )
    return contract


def save_contract(
    contract: Contract,
    proposal: Proposal,
    actor: User,
    data: dict,
    expected_version=ANY_VERSION,
) -> Contract:
    """Edit the draft agreement; a signed one never changes."""
    _require(actor, proposal, Role.reviewer)
    _require_stage(proposal, "contracting")
    check_version(proposal, expected_version)
    if contract.signed:
        raise ReviewError(_("The agreement is signed and can no longer change."))
    number = (data.get("number") or "").strip() or None
    if number:
        clash = db.session.scalar(
            sa.select(Contract.id).where(Contract.number == number, Contract.id != contract.id)
        )
        if clash is not None:
            raise ReviewError(_("Another agreement has this number."))
    start, end = data.get("start_date"), data.get("end_date")
    if start and end and end <= start:
        raise ReviewError(_("The agreement must end after it starts."))
    before = contract_snapshot(contract)
    contract.number = number
    contract.granted_eur = data.get("granted_eur")
    contract.start_date, contract.end_date = start, end
    if data.get("clause_version") is not None:
        contract.clause_version = data["clause_version"]
    contract.conditions = [c.strip() for c in data.get("conditions", []) if c and c.strip()]
    contract.agency_signed_on = data.get("agency_signed_on")
    contract.company_signed_on = data.get("company_signed_on")
    contract.instalments.clear()
    db.session.flush()
    entries = data.get("instalments", [])
    for position, entry in enumerate(entries, start=1):
        label, percent, amount = entry[:3]
        if len(entry) > 3:
            release, conditions = entry[3] or "signature", list(entry[4] or [])
        else:  # no say: the default schedule's releases
            at_signature, report, with_conditions = default_releases(position, len(entries))
            release = "signature" if at_signature else report
            conditions = list(range(1, len(contract.conditions) + 1)) if with_conditions else []
        contract.instalments.append(
            PaymentInstalment(
                position=position,
                label=label,
                percent=percent,
                amount_eur=amount,
                release_at_signature=release == "signature",
                release_report=None if release == "signature" else release,
                release_conditions=conditions,
            )
        )
    contract.updated_at = utcnow()
    record_change(
        "contract",
        contract.id,
        actor=actor,
        before=before,
        after=contract_snapshot(contract),
        proposal=proposal,
    )
    _touch(proposal)
    return contract


def contract_snapshot(contract: Contract) -> dict:
    """The agreement as text, named like the fields of its form."""
    values = {
        "number": plain(contract.number),
        "granted_eur": plain(contract.granted_eur),
        "total_cost_eur": plain(contract.total_cost_eur),
        "start_date": plain(contract.start_date),
        "end_date": plain(contract.end_date),
        "clause_version": contract.clause_version.label if contract.clause_version else None,
        "agency_signed_on": plain(contract.agency_signed_on),
        "company_signed_on": plain(contract.company_signed_on),
        "signed_at": plain(contract.signed_at),
    }
    for index, condition in enumerate(contract.conditions or []):
        values[f"conditions-{index}"] = plain(condition)
    for index, instalment in enumerate(contract.instalments):
        values[f"instalments-{index}-label"] = plain(instalment.label)
        values[f"instalments-{index}-percent"] = plain(instalment.percent)
        values[f"instalments-{index}-amount"] = plain(instalment.amount_eur)
        values[f"instalments-{index}-release"] = plain(
            "signature" if instalment.release_at_signature else instalment.release_report
        )
        values[f"instalments-{index}-conditions"] = plain(instalment.release_conditions)
    return values


def contract_problems(
    proposal: Proposal, contract: Contract | None, today: date | None = None
) -> list[str]:
    """What the agreement still needs before the signature can be recorded."""
    if contract is None:
        return [_("The agreement has not been prepared.")]
    today = today or local_today()
    problems = []
    if not contract.number:
        problems.append(_("Give the agreement a number."))
    granted = contract.granted_eur
    problems += eligibility.grant_problems(
        proposal,
        granted,
        not_above=proposal.granted_eur,
        not_above_message=_(
            "The amount is above what the committee granted (%(granted)s).",
            granted=eligibility.euros(proposal.granted_eur),
        ),
    )
    if contract.start_date is None or contract.end_date is None:
        problems.append(_("Enter the start and end dates."))
    if contract.clause_version is None:
        problems.append(_("Choose the HRDD clause version."))
    assessment = hrdd_assessment(proposal)
    required = [c.text for c in assessment.conditions] if assessment else []
    missing = [c for c in required if c not in contract.conditions]
    if missing:
        problems.append(
            _("The HRDD conditions must be in the agreement: %(list)s", list="; ".join(missing))
        )
    if not contract.instalments:
        problems.append(_("Enter the payment schedule."))
    else:
        if sum(i.percent for i in contract.instalments) != Decimal("100.00"):
            problems.append(_("The payments must add up to 100 %."))
        if granted is not None and sum(i.amount_eur for i in contract.instalments) != granted:
            problems.append(_("The payment amounts must add up to the granted amount."))
        count = len(contract.conditions or [])
        for instalment in contract.instalments:
            beyond = [n for n in instalment.release_conditions or [] if n > count]
            if beyond:
                problems.append(
                    _(
                        "Payment %(n)s names a condition the agreement does not have (%(list)s).",
                        n=instalment.position,
                        list=", ".join(str(b) for b in beyond),
                    )
                )
        if not any(i.release_report == "final" for i in contract.instalments):
            problems.append(_("One payment must be released by the approved final report."))
    for label, day in (
        (_("agency"), contract.agency_signed_on),
        (_("company"), contract.company_signed_on),
    ):
        if day is None:
            problems.append(_("Enter the %(party)s's signature date.", party=label))
        elif day > today:
            problems.append(_("The %(party)s's signature date is in the future.", party=label))
    return problems


def sign(proposal: Proposal, contract: Contract, now: datetime, actor: User | None = None) -> None:
    """Freeze the agreement as signed: the clause text and conditions are copied exactly."""
    before = contract_snapshot(contract)
    from tracker.projects.operations import open_project

    contract.clause_text = contract.clause_version.text
    contract.signed_at = now
    contract.total_cost_eur = proposal.total_cost_eur
    proposal.granted_eur = contract.granted_eur
    open_project(proposal, contract, actor)
    record_change(
        "contract",
        contract.id,
        actor=actor,
        before=before,
        after=contract_snapshot(contract),
        proposal=proposal,
    )
