"""Business rules of the applicant's side: drafts, sections, documents, submission."""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import format_datetime
from flask_babel import gettext as _
from sqlalchemy.dialects import postgresql, sqlite

from tracker.audit.operations import plain, record_change
from tracker.auth.models import Role, User
from tracker.core.time import LUXEMBOURG, utcnow
from tracker.extensions import db
from tracker.programmes.models import Call, ClauseStatus, ClauseVersion, Sector
from tracker.proposals import sections
from tracker.proposals.models import (
    Attachment,
    AttachmentKind,
    Partner,
    Proposal,
    ReferenceCounter,
    SelfAssessmentAnswer,
    Submission,
    SubmissionStage,
)
from tracker.proposals.storage import delete_stored, safe_filename, store_upload
from tracker.workflow.definitions import RETURN_TO_PREVIOUS
from tracker.workflow.operations import (
    ANY_VERSION,
    TransitionContext,
    check_version,
    effect,
    guard,
    start_history,
    workflow_for,
)

log = logging.getLogger(__name__)


class ProposalError(Exception):
    """A request about a proposal that cannot be honoured; the message is for the user."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


# --- who may do what -------------------------------------------------------------------------


def is_member(user: User, proposal: Proposal) -> bool:
    """Applicants of the proposal's organisation."""
    return (
        user.is_authenticated
        and user.has_role(Role.applicant)
        and user.organisation_id is not None
        and user.organisation_id == proposal.organisation_id
    )


def can_view(user: User, proposal: Proposal) -> bool:
    """Members of the organisation and agency staff (staff may not see other people's drafts)."""
    if is_member(user, proposal):
        return True
    from tracker.review.access import can_see  # staff: their programmes, stages, assignments

    return can_see(user, proposal)


def can_edit(user: User, proposal: Proposal) -> bool:
    """Members, while the workflow lets the applicant edit the form."""
    state = workflow_for(proposal).states[proposal.status]
    return is_member(user, proposal) and state.applicant_edits


def editable_sections(proposal: Proposal) -> set[str]:
    """In a two-stage call's draft only the concept-note sections are open."""
    stage = sections.stage_of(proposal)
    return {s.key for s in sections.sections_for(stage, proposal.call)}


def require_edit(user: User, proposal: Proposal, section: str | None = None) -> None:
    if not can_edit(user, proposal):
        raise ProposalError(_("This proposal can no longer be edited."))
    if section is not None and section not in editable_sections(proposal):
        raise ProposalError(
            _("This section is part of the full proposal; it opens after pre-selection.")
        )


# --- drafts ----------------------------------------------------------------------------------


def open_calls(now: datetime | None = None) -> list[Call]:
    """Calls taking new proposals, the one closing first first (rolling calls last)."""
    now = now or utcnow()
    return list(
        db.session.scalars(
            sa.select(Call)
            .where(Call.opens_at <= now, sa.or_(Call.closes_at.is_(None), Call.closes_at > now))
            .order_by(Call.closes_at.is_(None), Call.closes_at, Call.opens_at)
        )
    )


@dataclass(frozen=True)
class Deadline:
    """When the proposal's next submission is due, and until when it is still accepted."""

    at: datetime | None  # None: a rolling call without an end
    accepted_until: datetime | None  # ``at`` plus the call's grace period
    extended: bool = False  # an administrator extended it for this proposal


def deadline_for(proposal: Proposal) -> Deadline:
    """The deadline of the stage the proposal is in: concept note, full proposal, or the one
    extension an administrator gave it (which replaces the call's and has no grace)."""
    if proposal.deadline_extended_to is not None:
        return Deadline(proposal.deadline_extended_to, proposal.deadline_extended_to, True)
    call = proposal.call
    workflow = workflow_for(proposal)
    full_stage = workflow.two_stage and not workflow.in_group(proposal.status, "concept_note")
    base = call.full_proposal_closes_at if full_stage else call.closes_at
    if base is None:
        return Deadline(None, None)
    return Deadline(base, base + call.grace)


def create_draft(call: Call, user: User, now: datetime | None = None) -> Proposal:
    """A new draft for the user's organisation; its history starts here."""
    now = now or utcnow()
    if not user.has_role(Role.applicant) or user.organisation is None:
        raise ProposalError(_("Only applicants of a company can start a proposal."))
    if not call.is_open(now):
        raise ProposalError(_("This call is not open for proposals."))
    organisation = user.organisation
    proposal = Proposal(
        call=call,
        organisation=organisation,
        created_by=user,
        lead_name=organisation.name,
        lead_country=organisation.country,
        created_at=now,
        updated_at=now,
        target_countries=[],
        sdgs=[],
        unsaved_inputs={},
    )
    start_history(proposal, user.id, at=now)
    return proposal


def _touch(proposal: Proposal, now: datetime | None = None) -> None:
    """Bump the proposal's row so that its version moves (optimistic locking of edits)."""
    proposal.updated_at = now or utcnow()


LEAD_FIELDS = (
    "lead_name",
    "lead_country",
    "lead_registration_number",
    "lead_registration_date",
    "lead_employees",
    "lead_turnover_1",
    "lead_turnover_2",
    "lead_turnover_3",
    "lead_is_road_haulage",
    "de_minimis_1",
    "de_minimis_2",
    "de_minimis_3",
)
PROJECT_FIELDS = sections.CONCEPT_PROJECT_FIELDS + sections.FULL_PROJECT_FIELDS
BUDGET_FIELDS = ("total_cost_eur", "requested_eur", "own_contribution_eur", "other_funding_eur")
SIMPLE_SECTIONS = {"lead": LEAD_FIELDS, "project": PROJECT_FIELDS, "budget": BUDGET_FIELDS}


def save_section(
    proposal: Proposal,
    section: str,
    values: dict,
    user: User,
    *,
    expected_version=ANY_VERSION,
    unsaved: dict | None = None,
    answers: dict | None = None,
) -> None:
    """Store what was typed in one section (well-formed values only; see ``unsaved``).

    ``unsaved`` holds raw inputs that could not be stored in their column (a malformed date,
    say); they are kept on the proposal so the applicant finds them, with their error, next time.
    ``answers`` are the call's questions of the section, by key, as canonical text (None
    clears one); the core fields and the answers are saved independently.
    """
    require_edit(user, proposal, section)
    check_version(proposal, expected_version)
    before = section_snapshot(proposal, section)
    core_unsaved = {k: v for k, v in (unsaved or {}).items() if not k.startswith("q_")}
    answer_changes = {}
    if answers:
        from tracker.questions.operations import save_answers

        asked = sections.section_questions(proposal, section, sections.stage_of(proposal))
        answer_changes = save_answers(proposal, asked, answers)
    if section.startswith("x-"):
        pass  # a section of the call's own questions: nothing but answers
    elif section in SIMPLE_SECTIONS:
        for name in SIMPLE_SECTIONS[section]:
            if name in values:
                setattr(proposal, name, values[name])
    elif section not in ("partners", "hrdd", "declarations"):
        raise ProposalError(_("Unknown section."))
    elif core_unsaved:
        pass  # these sections are saved whole: nothing is stored until the whole section is valid
    elif section == "partners":
        _save_partners(proposal, values["partners"])
    elif section == "hrdd":
        _save_self_assessment(proposal, values["steps"])
    else:
        _save_declarations(proposal, values)
    kept = dict(proposal.unsaved_inputs or {})
    if unsaved:
        kept[section] = unsaved
    else:
        kept.pop(section, None)
    proposal.unsaved_inputs = kept
    after = section_snapshot(proposal, section)
    for name, (old, new) in answer_changes.items():
        before[name], after[name] = old, new
    record_change(
        f"section:{section}",
        proposal.id,
        actor=user,
        before=before,
        after=after,
        proposal=proposal,
    )
    _touch(proposal)


def section_snapshot(proposal: Proposal, section: str) -> dict:
    """A section's stored values as text, named like the fields of its form."""
    if section in SIMPLE_SECTIONS:
        values = {name: plain(getattr(proposal, name)) for name in SIMPLE_SECTIONS[section]}
        if "sector_id" in values:
            # By id: the relationship may still hold the sector of before the change.
            sector = db.session.get(Sector, proposal.sector_id) if proposal.sector_id else None
            values["sector_id"] = sector.label if sector else None
        return values
    if section == "partners":
        values = {}
        for index in range(4):
            partner = proposal.partners[index] if index < len(proposal.partners) else None
            values.update(
                {
                    f"partners-{index}-name": plain(partner.name) if partner else None,
                    f"partners-{index}-country": plain(partner.country) if partner else None,
                    f"partners-{index}-kind": plain(partner.kind) if partner else None,
                    f"partners-{index}-is_local": (
                        ("local" if partner.is_local else "eu") if partner else None
                    ),
                    f"partners-{index}-role_description": (
                        plain(partner.role_description) if partner else None
                    ),
                }
            )
        return values
    if section == "hrdd":
        values = {}
        for index, step in enumerate(sections.HRDD_STEPS):
            answer = proposal.answer_for(step)
            values[f"steps-{index}-answer"] = plain(answer.answer) if answer else None
            values[f"steps-{index}-evidence"] = plain(answer.evidence) if answer else None
        return values
    if section == "declarations":
        clause = proposal.accepted_clause_version
        return {
            "declared_accuracy": plain(proposal.declared_accuracy),
            "accept_clause": clause.label if clause else plain(False),
            "declared_de_minimis": plain(proposal.declared_de_minimis),
            "declared_data_protection": plain(proposal.declared_data_protection),
        }
    return {}


def _save_partners(proposal: Proposal, partners: list[dict]) -> None:
    if len(partners) > 4:
        raise ProposalError(_("At most four partners can be listed."))
    proposal.partners.clear()
    db.session.flush()
    for position, data in enumerate(partners, start=1):
        proposal.partners.append(
            Partner(
                position=position,
                name=data["name"],
                country=data["country"],
                kind=data["kind"],
                is_local=data["is_local"],
                role_description=data.get("role_description") or "",
            )
        )
    local = proposal.local_partner
    proposal.partner_country = local.country if local else None


def _save_self_assessment(proposal: Proposal, steps: dict[int, tuple[str, str]]) -> None:
    existing = {a.step: a for a in proposal.self_assessment}
    for step, (answer, evidence) in steps.items():
        if step not in sections.HRDD_STEPS:
            continue
        row = existing.get(step)
        if row is None:
            row = SelfAssessmentAnswer(step=step)
            proposal.self_assessment.append(row)
        row.answer = answer or ""
        row.evidence = evidence or ""


def current_clause() -> ClauseVersion | None:
    """The newest published version of the HRDD clause."""
    return db.session.scalar(
        sa.select(ClauseVersion)
        .where(ClauseVersion.status == ClauseStatus.published)
        .order_by(ClauseVersion.number.desc())
        .limit(1)
    )


def _save_declarations(proposal: Proposal, values: dict) -> None:
    proposal.declared_accuracy = bool(values.get("declared_accuracy"))
    proposal.declared_de_minimis = bool(values.get("declared_de_minimis"))
    proposal.declared_data_protection = bool(values.get("declared_data_protection"))
    if values.get("accept_clause"):
        clause = current_clause()
        if clause is None:
            raise ProposalError(_("No HRDD clause has been published yet; ask the agency."))
        proposal.accepted_clause_version = clause
    else:
        proposal.accepted_clause_version = None
    everything = all(
        (
            proposal.declared_accuracy,
            proposal.declared_de_minimis,
            proposal.declared_data_protection,
            proposal.accepted_clause_version,
        )
    )
    proposal.declarations_at = utcnow() if everything else None


# --- documents -------------------------------------------------------------------------------


def add_attachment(
    proposal: Proposal,
    kind: AttachmentKind,
    stream,
    filename: str,
    user: User,
    *,
    status_change_id: int | None = None,
    expected_version=ANY_VERSION,
    allowed_types=None,
) -> Attachment:
    """Check and store an upload; a refused file leaves nothing behind.

    Documents answering a question (``AttachmentKind.answer``) are saved with their section
    and may be limited to some types (``allowed_types``: keys such as ``pdf``).
    """
    if status_change_id is None and kind != AttachmentKind.answer:
        require_edit(user, proposal, "documents")
        check_version(proposal, expected_version)
    stored = store_upload(stream, filename, allowed_types)
    attachment = Attachment(
        proposal=proposal,
        kind=kind,
        filename=safe_filename(filename),
        stored_name=stored.stored_name,
        content_type=stored.file_type.content_type,
        size_bytes=stored.size_bytes,
        sha256=stored.sha256,
        uploaded_by_id=user.id,
        uploaded_at=utcnow(),
        status_change_id=status_change_id,
    )
    db.session.add(attachment)
    db.session.flush()
    record_change(
        "document",
        attachment.id,
        actor=user,
        before=None,
        after=_document_snapshot(attachment),
        proposal=proposal,
    )
    _touch(proposal)
    return attachment


def _document_snapshot(attachment: Attachment) -> dict:
    return {
        "kind": plain(attachment.kind),
        "filename": attachment.filename,
        "sha256": attachment.sha256,
    }


def remove_attachment(attachment: Attachment, user: User, expected_version=ANY_VERSION) -> None:
    """Delete a document of a draft (the file goes after the transaction commits)."""
    proposal = attachment.proposal
    require_edit(user, proposal, "documents")
    check_version(proposal, expected_version)
    if attachment.status_change_id is not None:
        raise ProposalError(_("Documents sent with an answer cannot be removed."))
    stored_name = attachment.stored_name
    record_change(
        "document",
        attachment.id,
        actor=user,
        before=_document_snapshot(attachment),
        after=None,
        proposal=proposal,
    )
    proposal.attachments.remove(attachment)
    _touch(proposal)

    @sa.event.listens_for(db.session(), "after_commit", once=True)
    def _delete_file(session):
        delete_stored(stored_name)


def respond_to_request(
    proposal: Proposal, user: User, answer: str, files, *, expected_version=ANY_VERSION
):
    """Answer a request for information, with documents: all of it or nothing.

    ``files`` are ``(stream, filename)`` pairs. If one document is refused, the answer is not
    sent and the documents already stored for it are removed again.
    """
    from tracker.workflow.operations import perform_transition

    workflow = workflow_for(proposal)
    respond = next(
        (
            t
            for t in workflow.transitions_from(proposal.status)
            if t.by_applicant and t.target == RETURN_TO_PREVIOUS
        ),
        None,
    )
    if respond is None:
        raise ProposalError(_("No information is requested at the moment."))
    change = perform_transition(
        proposal, respond.key, user, expected_version=expected_version, comment=answer
    )
    stored: list[str] = []
    try:
        for stream, filename in files:
            attachment = add_attachment(
                proposal,
                AttachmentKind.response,
                stream,
                filename,
                user,
                status_change_id=change.id,
            )
            stored.append(attachment.stored_name)
    except BaseException:
        for name in stored:
            delete_stored(name)
        raise
    return change


# --- submission ------------------------------------------------------------------------------


def submission_content(proposal: Proposal) -> dict:
    """Everything the applicant submitted, as plain data (for the receipt's checksum)."""

    def plain(value):
        if isinstance(value, Decimal):
            return f"{value:.2f}"
        if hasattr(value, "isoformat"):
            return value.isoformat()
        return str(value) if hasattr(value, "value") else value

    content = {
        name: plain(getattr(proposal, name))
        for name in LEAD_FIELDS + PROJECT_FIELDS + BUDGET_FIELDS
    }
    content["call"] = proposal.call_id
    content["partners"] = [
        {
            "name": p.name,
            "country": p.country,
            "kind": str(p.kind),
            "local": p.is_local,
            "role": p.role_description,
        }
        for p in proposal.partners
    ]
    content["self_assessment"] = {
        str(a.step): {"answer": a.answer, "evidence": a.evidence} for a in proposal.self_assessment
    }
    content["documents"] = sorted(
        (str(a.kind), a.filename, a.sha256)
        for a in proposal.attachments
        if a.status_change_id is None and a.kind != AttachmentKind.answer
    )
    content["declarations"] = {
        "accuracy": proposal.declared_accuracy,
        "de_minimis": proposal.declared_de_minimis,
        "data_protection": proposal.declared_data_protection,
        "clause_version": proposal.accepted_clause_version_id,
    }
    # The call's questions, as they were asked (labels, choices), with their answers; hidden
    # questions (whose condition does not hold) are left out.
    from tracker.questions.operations import submitted_answers

    workflow = workflow_for(proposal)
    stage = sections.stage_of(proposal)
    kept = submitted_answers(proposal, stage, workflow.two_stage)
    if kept["questions"]:
        content["questions"] = kept["questions"]
        content["answers"] = kept["answers"]
    return content


def content_checksum(content: dict) -> str:
    """SHA-256 of the canonical JSON (sorted keys, no spaces) of submitted content."""
    payload = json.dumps(content, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def submission_checksum(proposal: Proposal) -> str:
    """SHA-256 of the canonical JSON of the content as it stands."""
    return content_checksum(submission_content(proposal))


def keep_submission(
    proposal: Proposal, stage: SubmissionStage, actor, at, *, late: bool = False
) -> Submission:
    """Keep what is submitted now, as it is, with its checksum (the receipt quotes it)."""
    content = json.loads(json.dumps(submission_content(proposal), default=str))
    number = (
        db.session.scalar(
            sa.select(sa.func.max(Submission.number)).where(Submission.proposal_id == proposal.id)
        )
        or 0
    ) + 1
    submission = Submission(
        proposal_id=proposal.id,
        number=number,
        stage=stage,
        submitted_at=at,
        submitted_by_id=getattr(actor, "id", None),
        checksum=content_checksum(content),
        content=content,
        late=late,
    )
    db.session.add(submission)
    proposal.submission_checksum = submission.checksum
    return submission


def submissions_of(proposal: Proposal) -> list[Submission]:
    from tracker.core.web import read_once

    return read_once(
        ("submissions", proposal.id),
        lambda: db.session.scalars(
            sa.select(Submission)
            .where(Submission.proposal_id == proposal.id)
            .order_by(Submission.number)
        ),
    )


def next_reference(proposal: Proposal, at: datetime) -> str:
    """``CODE-YEAR-NNN``, unique per programme and year even under concurrent submissions.

    The counter row is incremented with one UPDATE, which the database serialises (PostgreSQL
    holds the row lock until commit; SQLite allows one writer), and the reference column is
    unique besides, so two submissions never share a number.
    """
    programme = proposal.call.programme
    year = at.astimezone(LUXEMBOURG).year
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    db.session.execute(
        insert(ReferenceCounter)
        .values(programme_id=programme.id, year=year, last_value=0)
        .on_conflict_do_nothing()
    )
    while True:
        number = db.session.execute(
            sa.update(ReferenceCounter)
            .where(ReferenceCounter.programme_id == programme.id, ReferenceCounter.year == year)
            .values(last_value=ReferenceCounter.last_value + 1)
            .returning(ReferenceCounter.last_value)
        ).scalar_one()
        reference = f"{programme.code}-{year}-{number:03d}"
        # Imported history may already use a number; skip it rather than fail.
        taken = db.session.scalar(sa.select(Proposal.id).where(Proposal.reference == reference))
        if taken is None:
            return reference


@guard("call_open")
def _call_open(context: TransitionContext) -> list[str]:
    """Before the deadline, its grace period or this proposal's extension (Luxembourg time)."""
    call = context.proposal.call
    if context.now < call.opens_at:
        return [_("The call is not open yet.")]
    deadline = deadline_for(context.proposal)
    if deadline.accepted_until is not None and context.now >= deadline.accepted_until:
        return [_("The call closed; proposals can no longer be submitted.")]
    return []


@guard("address_verified")
def _address_verified(context: TransitionContext) -> list[str]:
    """The applicant who submits has confirmed their e-mail address."""
    actor = context.actor
    if getattr(actor, "email_verified_at", True) is None:
        return [
            _(
                "Confirm your e-mail address before submitting: open the link we sent to "
                "%(email)s, or ask for a new one on your account page.",
                email=actor.email,
            )
        ]
    return []


@guard("full_proposal_open")
def _full_proposal_open(context: TransitionContext) -> list[str]:
    deadline = deadline_for(context.proposal)
    if deadline.accepted_until is None or context.now >= deadline.accepted_until:
        return [_("The deadline for full proposals has passed.")]
    return []


@guard("deadline_given")
def _deadline_given(context: TransitionContext) -> list[str]:
    """An extension needs a new deadline, later than now and than the one it replaces."""
    if not context.with_inputs:
        return []
    new = context.data.get("deadline")
    if new is None:
        return [_("Give the new deadline.")]
    if new <= context.now:
        return [_("The new deadline must be in the future.")]
    current = deadline_for(context.proposal).accepted_until
    if current is not None and new <= current:
        return [_("The new deadline must be later than the current one.")]
    return []


def _late(proposal: Proposal, now: datetime) -> bool:
    deadline = deadline_for(proposal)
    return deadline.at is not None and now >= deadline.at


def _section_guard(stage: str):
    def check(context: TransitionContext) -> list[str]:
        today = context.now.astimezone(LUXEMBOURG).date()
        return [
            message
            for _section, message in sections.submission_problems(context.proposal, stage, today)
        ]

    return check


guard("concept_note_complete")(_section_guard(sections.CONCEPT))
guard("proposal_complete")(_section_guard(sections.FULL))


@effect("record_submission")
def _on_submit(context: TransitionContext) -> None:
    """The reference, the kept version with its checksum, and the batch of a rolling call."""
    proposal = context.proposal
    stage = SubmissionStage.concept if context.workflow.two_stage else SubmissionStage.full
    late = _late(proposal, context.now)
    proposal.reference = next_reference(proposal, context.now)
    proposal.submitted_at = context.now
    if proposal.call.rolling:
        proposal.batch = proposal.call.batch_at(context.now)
    keep_submission(proposal, stage, context.actor, context.now, late=late)
    proposal.unsaved_inputs = {}
    proposal.deadline_extended_to = None  # an extension was for this stage only


@effect("record_full_submission")
def _on_submit_full(context: TransitionContext) -> None:
    proposal = context.proposal
    late = _late(proposal, context.now)
    proposal.full_submitted_at = context.now
    keep_submission(proposal, SubmissionStage.full, context.actor, context.now, late=late)
    proposal.unsaved_inputs = {}
    proposal.deadline_extended_to = None


@effect("extend_deadline")
def _on_extend(context: TransitionContext) -> None:
    """The new deadline, said in the history row (which the applicant reads) and audited."""
    proposal = context.proposal
    new = context.data["deadline"]
    before = {"deadline_extended_to": plain(proposal.deadline_extended_to)}
    proposal.deadline_extended_to = new
    when = format_datetime(new, "d MMM y, HH:mm")
    context.comment = _(
        "New deadline: %(when)s (Luxembourg time). %(reason)s", when=when, reason=context.comment
    )
    record_change(
        "deadline",
        proposal.id,
        actor=context.actor,
        before=before,
        after={"deadline_extended_to": plain(new)},
        proposal=proposal,
    )


def flatten_content(content: dict) -> dict[str, str]:
    """Submitted content as ``{label: text}`` in the order of the form, for reading and diffs."""
    labels = {**sections.LEAD_LABELS, **sections.PROJECT_LABELS, **sections.BUDGET_LABELS}
    flat: dict[str, str] = {}
    for name in LEAD_FIELDS + PROJECT_FIELDS + BUDGET_FIELDS:
        value = content.get(name)
        if value in (None, "", []):
            continue
        if isinstance(value, list):
            value = ", ".join(str(v) for v in value)
        flat[str(labels.get(name, name))] = str(value)
    for index, partner in enumerate(content.get("partners") or [], start=1):
        flat[str(_("Partner %(n)s", n=index))] = (
            f"{partner.get('name')} ({partner.get('country')}, {partner.get('kind')}, "
            f"{_('local partner') if partner.get('local') else _('associated EU partner')})"
            + (f": {partner['role']}" if partner.get("role") else "")
        )
    for step, answer in sorted((content.get("self_assessment") or {}).items()):
        title = sections.HRDD_STEPS.get(int(step), ("", ""))[0]
        flat[f"{_('HRDD step %(n)s', n=step)}: {title}"] = answer.get("answer", "")
        if answer.get("evidence"):
            flat[f"{_('HRDD step %(n)s', n=step)}: {_('evidence')}"] = answer["evidence"]
    for kind, filename, sha in content.get("documents") or []:
        flat[f"{_('Document')}: {filename}"] = f"{kind}, SHA-256 {sha}"
    from tracker.questions.operations import read_answers

    for item in read_answers(content):
        flat[item.label] = item.answer
    declarations = content.get("declarations") or {}
    if declarations:
        flat[str(_("Declarations"))] = ", ".join(
            f"{k}: {_('yes') if v else _('no')}" for k, v in sorted(declarations.items())
        )
    return flat


def content_changes(before: dict, after: dict) -> list[tuple[str, str | None, str | None]]:
    """What changed from one submitted version to the next: ``(label, before, after)``."""
    old, new = flatten_content(before), flatten_content(after)
    keys = list(old) + [k for k in new if k not in old]
    return [(k, old.get(k), new.get(k)) for k in keys if old.get(k) != new.get(k)]
