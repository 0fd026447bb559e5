"""The staff side: queue, proposal page, stage panels and the forms behind them."""

from __future__ import annotations

import sqlalchemy as sa
from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import selectinload

from tracker.audit.operations import changes_since, entries_for_proposal
from tracker.auth.models import Role, User
from tracker.core.forms import options
from tracker.core.pagecache import cached_page
from tracker.core.time import local_today, utcnow
from tracker.core.web import get_or_404, restored_formdata, roles_required
from tracker.extensions import db
from tracker.notifications.operations import staff_with
from tracker.programmes.models import Call, ClauseStatus, ClauseVersion
from tracker.programmes.rubrics import rubric_for
from tracker.proposals import sections
from tracker.proposals.models import Proposal
from tracker.proposals.operations import submissions_of
from tracker.review import exports, rules
from tracker.review import operations as ops
from tracker.review import queue as queue_ops
from tracker.review.access import can_see, is_partner_evaluator, programmes_visible
from tracker.review.forms import (
    YES_NO,
    AssignForm,
    ConflictForm,
    ContractForm,
    TransitionForm,
    hrdd_form,
    score_form,
    screening_form,
)
from tracker.workflow.definitions import GROUPS
from tracker.workflow.operations import (
    GuardFailed,
    StaleProposal,
    WorkflowError,
    options_for,
    perform_transition,
    workflow_for,
)
from tracker.workflow.timeline import timeline

bp = Blueprint("review", __name__, url_prefix="/review")

STAFF = (Role.reviewer, Role.hrdd, Role.committee, Role.reporting, Role.evaluator)


def load_for_staff(proposal_id: int) -> Proposal:
    """A proposal staff may see (drafts are the applicant's own business: 404)."""
    proposal = db.session.scalar(
        sa.select(Proposal)
        .where(Proposal.id == proposal_id)
        .options(
            selectinload(Proposal.partners),
            selectinload(Proposal.attachments),
            selectinload(Proposal.self_assessment),
        )
    )
    if proposal is None or not can_see(current_user, proposal):
        abort(404)
    return proposal


def _back(proposal: Proposal, anchor: str = ""):
    return redirect(
        url_for("review.proposal", proposal_id=proposal.id) + (f"#{anchor}" if anchor else "")
    )


def _fail(error) -> None:
    db.session.rollback()
    flash(error.message, "danger")
    for problem in getattr(error, "problems", []):
        if problem != error.message:
            flash(problem, "danger")


# --- queue -----------------------------------------------------------------------------------


@bp.get("/")
@roles_required(*STAFF)
def queue_page():
    return redirect(url_for("review.queue", **request.args))


@bp.get("/proposals")
@roles_required(*STAFF)
@cached_page
def queue():
    f = queue_ops.QueueFilter.from_args(request.args, viewer=current_user)
    page = queue_ops.load_page(f)
    return render_template(
        "review/queue.html",
        f=f,
        page=page,
        choices=queue_ops.filter_choices(f),
        states=queue_ops.queue_states(),
        sorts=queue_ops.SORTS,
        page_sizes=queue_ops.PAGE_SIZES,
    )


@bp.get("/my-work")
@roles_required(*STAFF)
@cached_page
def my_work():
    """What waits for this person now, by stage, oldest first (staff land here)."""
    from tracker.review.work import my_work as piles_for

    return render_template("review/my_work.html", piles=piles_for(current_user))


@bp.get("/proposals.csv")
@roles_required(*STAFF)
def export_csv():
    f = queue_ops.QueueFilter.from_args(request.args, viewer=current_user)
    return Response(
        stream_with_context(exports.queue_csv(f)),
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="proposals.csv"'},
    )


@bp.get("/proposals.xlsx")
@roles_required(*STAFF)
def export_xlsx():
    f = queue_ops.QueueFilter.from_args(request.args, viewer=current_user)
    return Response(
        exports.queue_xlsx(f),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": 'attachment; filename="proposals.xlsx"'},
    )


# --- the proposal page -----------------------------------------------------------------------


@bp.get("/proposals/<int:proposal_id>")
@roles_required(*STAFF)
@cached_page
def proposal(proposal_id: int):
    return _render_proposal(load_for_staff(proposal_id))


def _render_proposal(
    proposal: Proposal,
    *,
    failed_transition: tuple[str, TransitionForm] | None = None,
    screening: object | None = None,
    stale: list | None = None,
    status: int = 200,
):
    """The proposal page; after a refused post, with what was typed and why it was refused.

    ``failed_transition`` is ``(key, form)`` of an action that was refused, ``screening`` the
    posted checklist: both are shown as typed, with their errors, carrying the current version.
    """
    workflow = workflow_for(proposal)
    stage = {name: workflow.in_group(proposal.status, name) for name in GROUPS}
    options = options_for(proposal, current_user)
    assessment = ops.hrdd_assessment(proposal)
    contract = ops.contract_for(proposal) if stage["contract_visible"] else None
    my_conflict = ops.conflict_of(proposal, current_user)
    assignments = ops.assignments(proposal)
    summary = ops.score_summary(proposal)
    context = {
        "proposal": proposal,
        "workflow": workflow,
        "stage": stage,
        "options": options,
        "entries": timeline(proposal, for_applicant=False),
        "stage_overview": sections.overview(proposal, sections.FULL, local_today()),
        "checklist": ops.screening_checklist(proposal) if stage["screening"] else None,
        "screening_form": None,
        "assessment": assessment,
        "hrdd_problems": ops.hrdd_problems(proposal) if stage["hrdd_review"] else [],
        "assignments": assignments,
        "scores": ops.scores(proposal) if ops.may_see_scores(proposal, current_user) else None,
        "summary": summary,
        "my_conflict": my_conflict,
        "conflict_form": ConflictForm(),
        "assign_form": _assign_form(proposal, assignments),
        "contract": contract,
        "contract_problems": ops.contract_problems(proposal, contract)
        if stage["contracting"]
        else [],
        "transition_form": TransitionForm(version=proposal.version),
        "failed_key": failed_transition[0] if failed_transition else None,
        "failed_form": failed_transition[1] if failed_transition else None,
        "risks": rules.SALIENT_RISKS,
        "hrdd_steps": sections.HRDD_STEPS,
        "is_assigned": any(a.reviewer_id == current_user.id for a in assignments),
        "stale": stale or [],
        "changes": entries_for_proposal(proposal.id, limit=50),
        "submissions": submissions_of(proposal),
        "partner": is_partner_evaluator(current_user),
        # Only a reviewer fills in the checklist; others read it.
        "can_screen": current_user.has_role_in(proposal.call.programme_id, Role.reviewer),
        # The HRDD officer is told why the assessment is not open yet (before that stage).
        "hrdd_waiting": not stage["hrdd_review"]
        and assessment is None
        and not stage["after_screening"]
        and not workflow.is_terminal(proposal.status)
        and current_user.has_role_in(proposal.call.programme_id, Role.hrdd),
    }
    if context["checklist"] is not None:
        if screening is not None:
            screening.version.data = proposal.version
            context["screening_form"] = screening
        else:
            context["screening_form"] = screening_form(
                [item.key for item in context["checklist"]],
                data={
                    "version": proposal.version,
                    **{
                        f"item_{item.key}": {
                            "met": ""
                            if item.decision is None
                            else ("yes" if item.decision.met else "no"),
                            "note": item.decision.note if item.decision else "",
                        }
                        for item in context["checklist"]
                    },
                },
            )
        _say_what_is_computed(context["screening_form"], context["checklist"])
    return render_template("review/proposal.html", **context), status


def _say_what_is_computed(form, checklist) -> None:
    """A computed item left to the data says what the data gives, not "Not decided"."""
    for item in checklist:
        if item.manual or item.computed is None:
            continue
        entry = form[f"item_{item.key}"].form
        label = _("As computed: met") if item.computed else _("As computed: not met")
        entry.met.choices = options([("", label), *YES_NO[1:]])


def _scorer_label(user: User) -> str:
    """Reviewers by name; partner evaluators marked as such."""
    if is_partner_evaluator(user):
        return f"{user.name} ({Role.evaluator.title})"
    return user.name


def _assign_form(proposal: Proposal, assignments=None) -> AssignForm:
    form = AssignForm()
    assignments = ops.assignments(proposal) if assignments is None else assignments
    assigned = {a.reviewer_id for a in assignments}
    scorers = sorted(
        staff_with(proposal.call.programme_id, Role.reviewer, Role.evaluator),
        key=lambda u: u.name.lower(),
    )
    form.reviewer.choices = [(u.id, _scorer_label(u)) for u in scorers if u.id not in assigned]
    return form


@bp.post("/proposals/<int:proposal_id>/transitions/<key>")
@roles_required(*STAFF)
def transition(proposal_id: int, key: str):
    proposal = load_for_staff(proposal_id)
    form = TransitionForm()
    back_to_selection = request.form.get("return_to") in ("selection", "preselection")
    if not form.validate_on_submit():
        return _refused_transition(proposal, key, form, back_to_selection, status=422)
    transition_ = workflow_for(proposal).transitions.get(key)
    inputs = transition_.inputs if transition_ else ()
    data = {
        name: value
        for name, value in (
            ("granted_eur", form.granted_eur.data),
            ("deadline", form.deadline.utc),
            ("end_date", form.end_date.data),
            ("amended_eur", form.amended_eur.data),
            ("amended_total_eur", form.amended_total_eur.data),
            ("recover_eur", form.recover_eur.data),
        )
        if name in inputs
    }
    try:
        change = perform_transition(
            proposal,
            key,
            current_user,
            expected_version=form.version.data,
            comment=form.comment.data or "",
            note=form.note.data or "",
            data=data,
        )
    except WorkflowError as error:
        db.session.rollback()
        if "granted_eur" in inputs and isinstance(error, GuardFailed):
            # Problems with the amount are shown at the amount field.
            form.granted_eur.errors = list(error.problems or [error.message])
        elif "deadline" in inputs and isinstance(error, GuardFailed) and form.comment.data:
            form.deadline.errors = list(error.problems or [error.message])
        elif {"end_date", "recover_eur"} & set(inputs) and isinstance(error, GuardFailed):
            field_ = form.end_date if "end_date" in inputs else form.recover_eur
            field_.errors = list(error.problems or [error.message])
        else:
            flash(error.message, "danger")
            for problem in error.problems:
                if problem != error.message:
                    flash(problem, "danger")
        stale = (
            changes_since(proposal.id, error.seen_version)
            if isinstance(error, StaleProposal)
            else None
        )
        return _refused_transition(
            proposal,
            key,
            form,
            back_to_selection,
            stale=stale,
            status=409 if stale is not None else 422,
        )
    db.session.commit()
    flash(
        _(
            "Done: the proposal is now “%(state)s”.",
            state=str(workflow_for(proposal).states[change.to_status].label),
        ),
        "success",
    )
    if request.form.get("return_to") == "project":
        return redirect(url_for("projects.show", proposal_id=proposal.id))
    if back_to_selection:
        return redirect(
            url_for(
                f"review.{request.form['return_to']}",
                call_id=proposal.call_id,
                batch=request.form.get("batch", type=int),
            )
        )
    return _back(proposal)


def _refused_transition(proposal, key, form, back_to_selection, *, stale=None, status):
    """The page the action was taken from, with what was typed, its errors, the current version."""
    form.version.data = proposal.version
    if request.form.get("return_to") == "project":
        from tracker.projects.views import render_project

        return render_project(proposal, status, failed_form=form, failed_key=key)
    if back_to_selection:
        render = (
            _render_preselection
            if request.form.get("return_to") == "preselection"
            else _render_selection
        )
        return render(proposal.call, failed=(proposal.id, key, form), status=status)
    return _render_proposal(proposal, failed_transition=(key, form), stale=stale, status=status)


@bp.get("/proposals/<int:proposal_id>/submissions/<int:number>")
@roles_required(*STAFF)
def submission(proposal_id: int, number: int):
    """A submitted version as it was sent, and what changed from the version before it."""
    from tracker.proposals import operations as proposal_ops

    proposal = load_for_staff(proposal_id)
    kept = proposal_ops.submissions_of(proposal)
    current = next((s for s in kept if s.number == number), None)
    if current is None:
        abort(404)
    earlier = next((s for s in reversed(kept) if s.number < number), None)
    return render_template(
        "proposals/submission.html",
        proposal=proposal,
        submission=current,
        content=proposal_ops.flatten_content(current.content),
        earlier=earlier,
        changes=proposal_ops.content_changes(earlier.content, current.content) if earlier else None,
        back=url_for("review.proposal", proposal_id=proposal.id),
        pdf_url=url_for("review.submission_pdf", proposal_id=proposal.id, number=number),
    )


@bp.get("/proposals/<int:proposal_id>/submissions/<int:number>.pdf")
@roles_required(*STAFF)
def submission_pdf(proposal_id: int, number: int):
    from tracker.proposals import operations as proposal_ops
    from tracker.proposals.documents import submission_pdf as render_pdf
    from tracker.proposals.views import _pdf_response

    proposal = load_for_staff(proposal_id)
    kept = next((s for s in proposal_ops.submissions_of(proposal) if s.number == number), None)
    if kept is None:
        abort(404)
    return _pdf_response(render_pdf(proposal, kept), f"{proposal.reference}-{number}.pdf")


# --- screening -------------------------------------------------------------------------------


@bp.post("/proposals/<int:proposal_id>/screening")
@roles_required(Role.reviewer)
def screening(proposal_id: int):
    proposal = load_for_staff(proposal_id)
    checklist = ops.screening_checklist(proposal)
    form = screening_form([item.key for item in checklist], formdata=request.form)
    if not form.validate_on_submit():
        flash(_("The checklist could not be read; check the fields marked below."), "danger")
        return _render_proposal(proposal, screening=form, status=422)
    decisions = {}
    for item in checklist:
        entry = form[f"item_{item.key}"].form
        met = {"yes": True, "no": False}.get(entry.met.data)
        decisions[item.key] = (met, entry.note.data or "")
    try:
        ops.record_screening(proposal, current_user, decisions, expected_version=form.version.data)
    except (ops.ReviewError, WorkflowError) as error:
        _fail(error)
        stale = (
            changes_since(
                proposal.id,
                error.seen_version,
                object_type="screening",
                form=form,
                posted=request.form,
            )
            if isinstance(error, StaleProposal)
            else None
        )
        return _render_proposal(
            proposal, screening=form, stale=stale, status=409 if stale is not None else 422
        )
    db.session.commit()
    flash(_("Checklist saved."), "success")
    return _back(proposal, "screening")


# --- HRDD ------------------------------------------------------------------------------------


def _hrdd_data(assessment) -> dict:
    if assessment is None:
        return {}
    risks = {r.risk_key: r for r in assessment.risks}
    data = {
        "exclusion_checked": assessment.exclusion_checked,
        "exclusion_hit": assessment.exclusion_hit,
        "exclusion_note": assessment.exclusion_note,
        "risk_category": assessment.risk_category.value if assessment.risk_category else "",
        "clause_decision": assessment.clause_decision.value if assessment.clause_decision else "",
        "conditions": [c.text for c in assessment.conditions],
        "summary": assessment.summary,
    }
    for key in rules.SALIENT_RISKS:
        risk = risks.get(key)
        data[f"risk_{key}"] = {
            "relevant": ""
            if risk is None or risk.relevant is None
            else ("yes" if risk.relevant else "no"),
            "severity": risk.severity.value if risk and risk.severity else "",
            "likelihood": risk.likelihood.value if risk and risk.likelihood else "",
            "note": risk.note if risk else "",
        }
    return data


@bp.route("/proposals/<int:proposal_id>/hrdd", methods=["GET", "POST"])
@roles_required(*STAFF)
def hrdd(proposal_id: int):
    proposal = load_for_staff(proposal_id)
    assessment = ops.hrdd_assessment(proposal)
    editable = workflow_for(proposal).in_group(
        proposal.status, "hrdd_review"
    ) and current_user.has_role_in(proposal.call.programme_id, Role.hrdd, Role.admin)
    if is_partner_evaluator(current_user):
        abort(404)  # a partner's evaluator sees what they score, not the HRDD file
    status = 200
    stale = []
    if request.method == "POST":
        if not editable:
            abort(403)
        form = hrdd_form(formdata=request.form)
        if form.validate_on_submit():
            data = {
                "exclusion_checked": form.exclusion_checked.data,
                "exclusion_hit": form.exclusion_hit.data,
                "exclusion_note": form.exclusion_note.data,
                "risk_category": form.risk_category.data,
                "clause_decision": form.clause_decision.data,
                "conditions": [c.data for c in form.conditions],
                "summary": form.summary.data,
                "risks": {
                    key: (
                        {"yes": True, "no": False}.get(form[f"risk_{key}"].form.relevant.data),
                        form[f"risk_{key}"].form.severity.data or None,
                        form[f"risk_{key}"].form.likelihood.data or None,
                        form[f"risk_{key}"].form.note.data or "",
                    )
                    for key in rules.SALIENT_RISKS
                },
            }
            try:
                ops.save_hrdd_assessment(
                    proposal, current_user, data, expected_version=form.version.data
                )
            except (ops.ReviewError, WorkflowError) as error:
                db.session.rollback()
                flash(error.message, "danger")
                status = 409 if isinstance(error, WorkflowError) else 422
                stale = _stale_rows(proposal, error, "hrdd_assessment", form)
            else:
                db.session.commit()
                problems = ops.hrdd_problems(proposal)
                flash(
                    _("Assessment saved.")
                    + (
                        " " + _("Still missing: %(n)s item(s).", n=len(problems))
                        if problems
                        else ""
                    ),
                    "success" if not problems else "warning",
                )
                return _back(proposal, "hrdd")
        else:
            status = 422
    else:
        restored = restored_formdata()
        if restored is not None:
            form = hrdd_form(formdata=restored)
            flash(
                _("This is what you typed before your session expired. It is not saved yet."),
                "warning",
            )
        else:
            form = hrdd_form(data={"version": proposal.version, **_hrdd_data(assessment)})
    if len([c for c in form.conditions if c.data]) >= len(form.conditions):
        form.conditions.append_entry()
    form.version.data = proposal.version
    return render_template(
        "review/hrdd.html",
        proposal=proposal,
        stale=stale,
        form=form,
        editable=editable,
        risks=rules.SALIENT_RISKS,
        exclusions=rules.EXCLUSION_LIST,
        steps=sections.HRDD_STEPS,
        problems=ops.hrdd_problems(proposal),
    ), status


# --- evaluation ------------------------------------------------------------------------------


@bp.post("/proposals/<int:proposal_id>/assignments")
@roles_required(Role.reviewer)
def assign(proposal_id: int):
    proposal = load_for_staff(proposal_id)
    form = _assign_form(proposal)
    if not form.validate_on_submit():
        flash(_("Choose a reviewer."), "danger")
        return _back(proposal, "evaluation")
    reviewer = db.session.get(User, form.reviewer.data)
    try:
        ops.assign_reviewer(proposal, reviewer, current_user)
    except ops.ReviewError as error:
        _fail(error)
        return _back(proposal, "evaluation")
    db.session.commit()
    flash(_("%(name)s is assigned.", name=reviewer.name), "success")
    return _back(proposal, "evaluation")


@bp.post("/proposals/<int:proposal_id>/conflict")
@roles_required(Role.reviewer, Role.committee, Role.evaluator)
def conflict(proposal_id: int):
    proposal = load_for_staff(proposal_id)
    form = ConflictForm()
    if not form.validate_on_submit():
        flash(_("The declaration could not be read."), "danger")
        return _back(proposal, "evaluation")
    try:
        ops.declare_conflict(
            proposal, current_user, form.has_conflict.data == "yes", form.note.data or ""
        )
    except ops.ReviewError as error:
        _fail(error)
        return _back(proposal, "evaluation")
    db.session.commit()
    flash(_("Your declaration is recorded."), "success")
    return _back(proposal, "evaluation")


@bp.route("/proposals/<int:proposal_id>/score", methods=["GET", "POST"])
@roles_required(Role.reviewer, Role.evaluator)
def score(proposal_id: int):
    proposal = load_for_staff(proposal_id)
    mine = next((s for s in ops.scores(proposal) if s.reviewer_id == current_user.id), None)
    criteria = rubric_for(proposal.call).as_data()["criteria"]
    status = 200
    stale = []
    if request.method == "POST":
        form = score_form(criteria, formdata=request.form)
        if form.validate_on_submit():
            marks = {c["key"]: form[f"mark_{c['key']}"].data for c in criteria}
            try:
                ops.submit_score(
                    proposal,
                    current_user,
                    marks,
                    form.comment.data or "",
                    expected_version=form.version.data,
                )
            except (ops.ReviewError, WorkflowError) as error:
                db.session.rollback()
                flash(error.message, "danger")
                status = 409 if isinstance(error, WorkflowError) else 422
                stale = _stale_rows(
                    proposal, error, "score", form, object_id=mine.id if mine else "none"
                )
            else:
                db.session.commit()
                flash(_("Your score is recorded."), "success")
                return _back(proposal, "evaluation")
        else:
            status = 422
    else:
        data = {"comment": mine.comment} if mine else {}
        if mine:
            data.update({f"mark_{k}": v for k, v in mine.marks.items()})
        restored = restored_formdata()
        form = (
            score_form(criteria, formdata=restored)
            if restored is not None
            else score_form(criteria, data=data)
        )
    form.version.data = proposal.version
    return render_template(
        "review/score.html",
        proposal=proposal,
        form=form,
        criteria=criteria,
        mine=mine,
        steps=sections.HRDD_STEPS,
        hrdd_steps=sections.HRDD_STEPS,
        stale=stale,
    ), status


def _stale_rows(proposal: Proposal, error, object_type: str, form, object_id=None) -> list:
    """After a stale refusal: what others saved since the page was opened, beside what was typed."""
    if not isinstance(error, StaleProposal):
        return []
    return changes_since(
        proposal.id,
        error.seen_version,
        object_type=object_type,
        object_id=object_id,
        form=form,
        posted=request.form,
    )


# --- selection -------------------------------------------------------------------------------


@bp.get("/selection")
@roles_required(Role.committee, Role.reviewer)
@cached_page
def selections():
    """The calls with proposals before the committee, each leading to its ranking."""
    return render_template(
        "review/selections.html",
        calls=ops.calls_before_committee(current_user),
        preselections=ops.calls_before_committee(current_user, "preselection"),
    )


@bp.get("/calls/<int:call_id>/preselection")
@roles_required(Role.committee, Role.reviewer)
@cached_page
def preselection(call_id: int):
    """The concept notes of a call side by side, with the committee's decision under each."""
    return _render_preselection(_call_in_scope(call_id))


def _render_preselection(call, *, failed=None, status: int = 200):
    batch = _chosen_batch(call)
    notes = ops.concept_notes(call, batch)
    return render_template(
        "review/preselection.html",
        call=call,
        batch=batch,
        notes=notes,
        can_decide=current_user.has_role_in(call.programme_id, Role.committee, Role.admin),
        options=ops.decision_options(notes, current_user),
        **_refused_decision(failed),
    ), status


@bp.get("/calls/<int:call_id>/selection")
@roles_required(Role.committee, Role.reviewer)
@cached_page
def selection(call_id: int):
    return _render_selection(_call_in_scope(call_id))


@bp.get("/calls/<int:call_id>/selection.pdf")
@roles_required(Role.committee, Role.reviewer)
def reading_pack(call_id: int):
    """The committee's reading pack: every ranked proposal of the call with its scores."""
    from tracker.proposals.documents import reading_pack_pdf
    from tracker.proposals.views import _pdf_response

    call = _call_in_scope(call_id)
    ranking = ops.selection_ranking(call, _chosen_batch(call))

    def scores_of(proposal):
        return ops.scores(proposal) if ops.may_see_scores(proposal, current_user) else []

    return _pdf_response(reading_pack_pdf(call, ranking, scores_of), f"reading-pack-{call.id}.pdf")


def _call_in_scope(call_id: int) -> Call:
    """A call whose ranking this person may open (their roles' programmes)."""
    call = get_or_404(Call, call_id)
    scope = programmes_visible(current_user, Role.committee, Role.reviewer)
    if scope is not None and call.programme_id not in scope:
        abort(404)
    return call


def _chosen_batch(call):
    """The batch of a rolling call asked for in the address (the next one to close by default)."""
    if not call.rolling or not call.batches:
        return None
    number = request.args.get("batch", type=int) or request.form.get("batch", type=int)
    chosen = next((b for b in call.batches if b.number == number), None)
    if chosen is None:
        chosen = call.batch_at(utcnow()) or call.batches[-1]
    return chosen


def _refused_decision(failed) -> dict:
    """What the ranking or the comparison shows of a refused decision: ``failed`` is
    ``(proposal id, transition key, form)``, or None."""
    proposal_id, key, form = failed or (None, None, None)
    return {"failed_for": proposal_id, "failed_key": key, "failed_form": form}


def _render_selection(call, *, failed=None, status: int = 200):
    """The ranking; ``failed`` is ``(proposal id, transition key, form)`` of a refused decision."""
    batch = _chosen_batch(call)
    ranking = ops.selection_ranking(call, batch)
    return render_template(
        "review/selection.html",
        call=call,
        batch=batch,
        ranking=ranking,
        granted=ops.granted_in_call(call),
        can_decide=current_user.has_role_in(call.programme_id, Role.committee, Role.admin),
        options=ops.committee_options(ranking, current_user),
        **_refused_decision(failed),
    ), status


# --- contracts -------------------------------------------------------------------------------


def _clause_choices():
    return [
        (c.id, c.label)
        for c in db.session.scalars(
            sa.select(ClauseVersion)
            .where(ClauseVersion.status == ClauseStatus.published)
            .order_by(ClauseVersion.number.desc())
        )
    ]


def condition_numbers(text: str | None) -> list[int] | None:
    """ "1, 3" as [1, 3]; None when it is not a list of numbers."""
    parts = [p.strip() for p in (text or "").replace(";", ",").split(",") if p.strip()]
    if not all(p.isdigit() and int(p) > 0 for p in parts):
        return None
    return sorted({int(p) for p in parts})


@bp.route("/proposals/<int:proposal_id>/contract", methods=["GET", "POST"])
@roles_required(*STAFF)
def contract(proposal_id: int):
    proposal = load_for_staff(proposal_id)
    agreement = ops.contract_for(proposal)
    if agreement is None:
        abort(404)
    editable = (
        workflow_for(proposal).in_group(proposal.status, "contracting")
        and not agreement.signed
        and current_user.has_role_in(proposal.call.programme_id, Role.reviewer, Role.admin)
    )
    if is_partner_evaluator(current_user):
        abort(404)
    status = 200
    stale = []
    if request.method == "POST":
        if not editable:
            abort(403)
        form = ContractForm()
        form.clause_version.choices = _clause_choices()
        if form.validate_on_submit():
            instalments, bad = [], False
            for entry in form.instalments:
                sub = entry.form
                if not (sub.label.data or sub.percent.data or sub.amount.data):
                    continue
                percent = sub.percent.data
                if percent is None or sub.amount.data is None or not sub.label.data:
                    sub.percent.errors = [_("Give the milestone, its share and its amount.")]
                    bad = True
                    continue
                numbers = condition_numbers(sub.conditions.data)
                if numbers is None:
                    sub.conditions.errors = [
                        _("Give the numbers of the conditions, separated by commas (1, 2).")
                    ]
                    bad = True
                    continue
                instalments.append(
                    (sub.label.data, percent, sub.amount.data, sub.release.data, numbers)
                )
            if not bad:
                data = {
                    "number": form.number.data,
                    "granted_eur": form.granted_eur.data,
                    "start_date": form.start_date.data,
                    "end_date": form.end_date.data,
                    "clause_version": db.session.get(ClauseVersion, form.clause_version.data)
                    if form.clause_version.data
                    else None,
                    "conditions": [c.data for c in form.conditions],
                    "agency_signed_on": form.agency_signed_on.data,
                    "company_signed_on": form.company_signed_on.data,
                    "instalments": instalments,
                }
                try:
                    ops.save_contract(
                        agreement, proposal, current_user, data, expected_version=form.version.data
                    )
                except (ops.ReviewError, WorkflowError) as error:
                    db.session.rollback()
                    flash(error.message, "danger")
                    status = 409 if isinstance(error, WorkflowError) else 422
                    stale = _stale_rows(proposal, error, "contract", form)
                else:
                    db.session.commit()
                    flash(_("Agreement saved."), "success")
                    return redirect(url_for("review.contract", proposal_id=proposal.id))
            else:
                status = 422
        else:
            status = 422
    elif (restored := restored_formdata()) is not None:
        form = ContractForm(formdata=restored)
        form.clause_version.choices = _clause_choices()
        flash(
            _("This is what you typed before your session expired. It is not saved yet."), "warning"
        )
    else:
        form = ContractForm(
            data={
                "version": proposal.version,
                "number": agreement.number,
                "granted_eur": agreement.granted_eur,
                "start_date": agreement.start_date,
                "end_date": agreement.end_date,
                "clause_version": agreement.clause_version_id,
                "conditions": list(agreement.conditions or []),
                "instalments": [
                    {
                        "label": i.label,
                        "percent": i.percent,
                        "amount": i.amount_eur,
                        "release": "signature"
                        if i.release_at_signature
                        else (i.release_report or "signature"),
                        "conditions": ", ".join(str(n) for n in i.release_conditions or []),
                    }
                    for i in agreement.instalments
                ],
                "agency_signed_on": agreement.agency_signed_on,
                "company_signed_on": agreement.company_signed_on,
            }
        )
        form.clause_version.choices = _clause_choices()
    if len([c for c in form.conditions if c.data]) >= len(form.conditions):
        form.conditions.append_entry()
    form.version.data = proposal.version
    return render_template(
        "review/contract.html",
        proposal=proposal,
        stale=stale,
        contract=agreement,
        form=form,
        editable=editable,
        problems=ops.contract_problems(proposal, agreement) if not agreement.signed else [],
        assessment=ops.hrdd_assessment(proposal),
        sign_option=next(
            (o for o in options_for(proposal, current_user) if o.transition.key == "sign_contract"),
            None,
        ),
        transition_form=TransitionForm(version=proposal.version),
    ), status
