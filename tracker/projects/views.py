"""Pages of the project after signature: staff follow it, the company reports on it."""

from __future__ import annotations

import json
from datetime import date

import sqlalchemy as sa
from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from tracker.auth.models import Role
from tracker.core.numbers import NumberInputError, parse_date
from tracker.core.time import local_today
from tracker.core.web import get_or_404, restored_formdata
from tracker.extensions import db
from tracker.programmes.models import Call, Programme, Sector
from tracker.projects import exports
from tracker.projects import operations as ops
from tracker.projects.forms import (
    ConditionForm,
    DecisionForm,
    DueDateForm,
    GrievanceForm,
    PaymentForm,
    ScheduleForm,
    report_form,
)
from tracker.projects.models import (
    ConditionStatus,
    Grievance,
    GrievanceCategory,
    GrievanceChannel,
    GrievanceSeverity,
    GrievanceStatus,
    ProjectCondition,
    ProjectReport,
    ReportDocument,
    ReportStatus,
)
from tracker.proposals.models import Proposal
from tracker.proposals.storage import UploadRejected, path_for
from tracker.review.access import can_see, is_partner_evaluator, programmes_visible
from tracker.review.forms import TransitionForm
from tracker.workflow.definitions import states_in_group, workflows
from tracker.workflow.operations import WorkflowError, options_for, workflow_for

bp = Blueprint("projects", __name__, url_prefix="/projects")

FOLLOWING = (Role.reviewer, Role.hrdd, Role.committee, Role.reporting)


def _staff_required():
    if not current_user.is_authenticated:
        from tracker.extensions import login_manager

        return login_manager.unauthorized()
    if not current_user.has_role(*FOLLOWING, Role.admin) or is_partner_evaluator(current_user):
        abort(403)
    return None


def load_project_for_staff(proposal_id: int) -> Proposal:
    """A signed project this member of staff may see (404 otherwise)."""
    proposal = db.session.get(Proposal, proposal_id)
    if (
        proposal is None
        or is_partner_evaluator(current_user)
        or not can_see(current_user, proposal)
        or not workflow_for(proposal).in_group(proposal.status, "signed")
    ):
        abort(404)
    return proposal


def load_project_for_member(proposal_id: int) -> Proposal:
    """A signed project of the company's own organisation (404 otherwise)."""
    proposal = db.session.get(Proposal, proposal_id)
    if (
        proposal is None
        or not current_user.is_applicant
        or current_user.organisation_id != proposal.organisation_id
        or not workflow_for(proposal).in_group(proposal.status, "signed")
    ):
        abort(404)
    return proposal


def _report_of(proposal: Proposal, report_id: int) -> ProjectReport:
    report = db.session.get(ProjectReport, report_id)
    if report is None or report.proposal_id != proposal.id:
        abort(404)
    return report


def _flash_problems(error) -> None:
    flash(error.message, "danger")
    for problem in getattr(error, "problems", []) or []:
        if problem != error.message:
            flash(problem, "danger")


# --- the staff's project page ------------------------------------------------------------------


def render_project(proposal: Proposal, status: int = 200, **failed):
    """The staff's project page; after a refused post, with what was typed and why."""
    return _render_staff(proposal, status, **failed)


def _render_staff(proposal: Proposal, status: int = 200, **failed):
    project = ops.load_project(proposal)
    may_follow = current_user.has_role_in(proposal.call.programme_id, Role.admin, *ops.FOLLOWERS)
    may_pay = current_user.has_role_in(proposal.call.programme_id, Role.admin, Role.reviewer)
    may_waive = current_user.has_role_in(proposal.call.programme_id, Role.admin, *ops.WAIVERS)
    return render_template(
        "projects/show.html",
        proposal=proposal,
        project=project,
        tranches=project.tranches(),
        options=options_for(proposal, current_user),
        transition_form=TransitionForm(version=proposal.version),
        failed_form=failed.get("failed_form"),
        failed_key=failed.get("failed_key"),
        return_to="project",
        payment_form=failed.get("payment_form") or PaymentForm(formdata=None),
        failed_tranche=failed.get("failed_tranche"),
        condition_form=failed.get("condition_form") or ConditionForm(formdata=None),
        failed_condition=failed.get("failed_condition"),
        grievance_form=failed.get("grievance_form")
        or GrievanceForm(formdata=None, data={"received_on": local_today()}),
        failed_grievance=failed.get("failed_grievance"),
        due_form=DueDateForm(formdata=None),
        schedule_form=failed.get("schedule_form") or ScheduleForm(formdata=None),
        may_follow=may_follow,
        may_pay=may_pay,
        may_waive=may_waive,
        amendments=_amendments(proposal),
        channels=GrievanceChannel.choices(),
        categories=GrievanceCategory.choices(),
        severities=GrievanceSeverity.choices(),
        statuses=GrievanceStatus.choices(),
    ), status


def _amendments(proposal: Proposal):
    from tracker.workflow.models import StatusChange

    return list(
        db.session.scalars(
            sa.select(StatusChange)
            .where(StatusChange.proposal_id == proposal.id, StatusChange.transition == "amend")
            .order_by(StatusChange.seq)
        )
    )


@bp.get("/<int:proposal_id>")
def show(proposal_id: int):
    if (refused := _staff_required()) is not None:
        return refused
    return _render_staff(load_project_for_staff(proposal_id))


@bp.post("/<int:proposal_id>/tranches/<int:instalment_id>/payment")
def pay(proposal_id: int, instalment_id: int):
    if (refused := _staff_required()) is not None:
        return refused
    proposal = load_project_for_staff(proposal_id)
    form = PaymentForm()
    if form.validate_on_submit():
        try:
            ops.record_payment(
                proposal,
                instalment_id,
                current_user,
                paid_on=form.paid_on.data,
                amount=form.amount.data,
                reference=form.reference.data,
                expected_version=form.version.data,
            )
        except (ops.ProjectError, WorkflowError) as error:
            db.session.rollback()
            form.amount.errors = list(error.problems or [error.message])
        else:
            db.session.commit()
            flash(_("Payment recorded."), "success")
            return redirect(url_for("projects.show", proposal_id=proposal.id) + "#payments")
    return _render_staff(proposal, 422, payment_form=form, failed_tranche=instalment_id)


@bp.post("/<int:proposal_id>/conditions/<int:condition_id>")
def condition(proposal_id: int, condition_id: int):
    if (refused := _staff_required()) is not None:
        return refused
    proposal = load_project_for_staff(proposal_id)
    item = get_or_404(ProjectCondition, condition_id)
    if item.proposal_id != proposal.id:
        abort(404)
    form = ConditionForm()
    if form.validate_on_submit():
        try:
            ops.decide_condition(
                item,
                proposal,
                current_user,
                ConditionStatus(form.decision.data),
                form.text.data,
                expected_version=form.version.data,
            )
        except (ops.ProjectError, WorkflowError) as error:
            db.session.rollback()
            form.text.errors = list(error.problems or [error.message])
        else:
            db.session.commit()
            flash(_("Condition %(n)s recorded.", n=item.position), "success")
            return redirect(url_for("projects.show", proposal_id=proposal.id) + "#conditions")
    return _render_staff(proposal, 422, condition_form=form, failed_condition=condition_id)


@bp.post("/<int:proposal_id>/due/<kind>/<int:item_id>")
def due_date(proposal_id: int, kind: str, item_id: int):
    if (refused := _staff_required()) is not None:
        return refused
    proposal = load_project_for_staff(proposal_id)
    model = {"report": ProjectReport, "condition": ProjectCondition}.get(kind)
    if model is None:
        abort(404)
    item = get_or_404(model, item_id)
    form = DueDateForm()
    if form.validate_on_submit():
        try:
            ops.change_due_date(
                proposal,
                item,
                current_user,
                form.due_on.data,
                form.reason.data,
                expected_version=form.version.data,
            )
        except (ops.ProjectError, WorkflowError) as error:
            db.session.rollback()
            _flash_problems(error)
        else:
            db.session.commit()
            flash(_("Due date changed."), "success")
            return redirect(url_for("projects.show", proposal_id=proposal.id))
    else:
        flash(_("Enter the new due date as a date."), "danger")
    return _render_staff(proposal, 422)


def _grievance_data(form: GrievanceForm) -> dict:
    return {
        "received_on": form.received_on.data,
        "channel": GrievanceChannel(form.channel.data),
        "anonymous": form.anonymous.data,
        "raised_by": form.raised_by.data,
        "category": GrievanceCategory(form.category.data),
        "severity": GrievanceSeverity(form.severity.data),
        "description": form.description.data or "",
        "response": form.response.data,
        "remediation": form.remediation.data,
        "status": GrievanceStatus(form.status.data),
        "blocks_payment": form.blocks_payment.data,
    }


@bp.post("/<int:proposal_id>/grievances", defaults={"grievance_id": None})
@bp.post("/<int:proposal_id>/grievances/<int:grievance_id>")
def grievance(proposal_id: int, grievance_id: int | None):
    if (refused := _staff_required()) is not None:
        return refused
    proposal = load_project_for_staff(proposal_id)
    existing = get_or_404(Grievance, grievance_id) if grievance_id else None
    if existing is not None and existing.proposal_id != proposal.id:
        abort(404)
    form = GrievanceForm()
    if form.validate_on_submit():
        try:
            ops.save_grievance(
                proposal,
                current_user,
                _grievance_data(form),
                existing,
                expected_version=form.version.data if existing else ops.ANY_VERSION,
            )
        except (ops.ProjectError, WorkflowError) as error:
            db.session.rollback()
            form.description.errors = list(error.problems or [error.message])
        else:
            db.session.commit()
            flash(_("Grievance saved."), "success")
            return redirect(url_for("projects.show", proposal_id=proposal.id) + "#grievances")
    return _render_staff(proposal, 422, grievance_form=form, failed_grievance=grievance_id or 0)


@bp.post("/<int:proposal_id>/schedule")
def schedule(proposal_id: int):
    if (refused := _staff_required()) is not None:
        return refused
    proposal = load_project_for_staff(proposal_id)
    form = ScheduleForm()
    if form.validate_on_submit():
        try:
            ops.set_up_schedule(
                proposal,
                current_user,
                {
                    "number": form.number.data,
                    "start_date": form.start_date.data,
                    "end_date": form.end_date.data,
                    "signed_on": form.signed_on.data,
                },
            )
        except (ops.ProjectError, WorkflowError) as error:
            db.session.rollback()
            form.number.errors = list(error.problems or [error.message])
        else:
            db.session.commit()
            flash(_("The agreement and its schedule are recorded."), "success")
            return redirect(url_for("projects.show", proposal_id=proposal.id))
    return _render_staff(proposal, 422, schedule_form=form)


# --- a report, reviewed by staff ---------------------------------------------------------------


@bp.route("/<int:proposal_id>/reports/<int:report_id>", methods=["GET", "POST"])
def report(proposal_id: int, report_id: int):
    if (refused := _staff_required()) is not None:
        return refused
    proposal = load_project_for_staff(proposal_id)
    item = _report_of(proposal, report_id)
    form = DecisionForm(data={"version": item.version})
    status = 200
    if request.method == "GET" and (restored := restored_formdata()) is not None:
        form = DecisionForm(formdata=restored)
        flash(
            _("This is what you typed before your session expired. It is not saved yet."), "warning"
        )
    if request.method == "POST":
        form = DecisionForm()
        if form.validate_on_submit():
            try:
                ops.decide_report(
                    item,
                    proposal,
                    current_user,
                    ReportStatus(form.decision.data),
                    form.comment.data,
                    form.note.data,
                    expected_version=form.version.data,
                )
            except (ops.ProjectError, WorkflowError) as error:
                db.session.rollback()
                form.comment.errors = list(error.problems or [error.message])
                status = 422
            else:
                db.session.commit()
                flash(
                    _("Report approved.")
                    if item.status == ReportStatus.approved
                    else _("Report returned to the company."),
                    "success",
                )
                return redirect(url_for("projects.show", proposal_id=proposal.id) + "#reports")
        else:
            status = 422
        db.session.refresh(item)
    form.version.data = item.version
    project = ops.load_project(proposal)
    return render_template(
        "projects/report_review.html",
        proposal=proposal,
        project=project,
        report=item,
        form=form,
        may_decide=current_user.has_role_in(proposal.call.programme_id, Role.admin, *ops.FOLLOWERS),
        staff=True,
    ), status


@bp.get("/<int:proposal_id>/reports/<int:report_id>/documents/<int:document_id>")
@login_required
def document(proposal_id: int, report_id: int, document_id: int):
    proposal = db.session.get(Proposal, proposal_id)
    if proposal is None:
        abort(404)
    own = current_user.is_applicant and current_user.organisation_id == proposal.organisation_id
    if not own and not (can_see(current_user, proposal) and not is_partner_evaluator(current_user)):
        abort(404)
    item = _report_of(proposal, report_id)
    doc = get_or_404(ReportDocument, document_id)
    if doc.report_id != item.id:
        abort(404)
    path = path_for(doc.stored_name)
    if not path.is_file():
        abort(404)
    response = send_file(
        path, mimetype=doc.content_type, as_attachment=True, download_name=doc.filename, max_age=0
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


# --- the company's pages -----------------------------------------------------------------------


@bp.get("/<int:proposal_id>/company")
@login_required
def applicant(proposal_id: int):
    proposal = load_project_for_member(proposal_id)
    project = ops.load_project(proposal)
    return render_template(
        "projects/applicant.html",
        proposal=proposal,
        project=project,
        tranches=project.tranches(),
    )


def _content_from(form) -> ops.ReportContent:
    evidence = {
        name.removeprefix("evidence_"): field_.data or ""
        for name, field_ in form._fields.items()
        if name.startswith("evidence_")
    }
    return ops.ReportContent(
        narrative=form.narrative.data or "",
        jobs=form.jobs.data,
        beneficiaries=form.beneficiaries.data,
        technology=form.technology.data or "",
        expenses=form.expenses.data,
        expenses_note=form.expenses_note.data or "",
        evidence=evidence,
        incidents=form.incidents.data or "",
        grievances=form.grievances.data or "",
    )


def _form_data(content: ops.ReportContent, version: int) -> dict:
    data = {
        "version": version,
        "narrative": content.narrative,
        "jobs": content.jobs,
        "beneficiaries": content.beneficiaries,
        "technology": content.technology,
        "expenses": content.expenses,
        "expenses_note": content.expenses_note,
        "incidents": content.incidents,
        "grievances": content.grievances,
    }
    data.update({f"evidence_{k}": v for k, v in content.evidence.items()})
    return data


@bp.route("/<int:proposal_id>/company/reports/<int:report_id>", methods=["GET", "POST"])
@login_required
def applicant_report(proposal_id: int, report_id: int):
    proposal = load_project_for_member(proposal_id)
    item = _report_of(proposal, report_id)
    project = ops.load_project(proposal)
    numbers = [c.position for c in project.conditions_due_by(item.due_on)]
    editable = item.open and project.open
    status = 200
    problems: list[str] = []
    if request.method == "POST":
        if not editable:
            abort(403)
        form = report_form(numbers, formdata=request.form)
        if form.validate_on_submit():
            content = _content_from(form)
            action = request.form.get("action", "save")
            try:
                if action == "upload":
                    ops.save_report(item, proposal, current_user, content, form.version.data)
                    upload = request.files.get("document")
                    if upload is None or not upload.filename:
                        raise ops.ProjectError(_("Choose a file to add."))
                    ops.add_report_document(
                        item, proposal, current_user, upload.stream, upload.filename
                    )
                elif action == "submit":
                    ops.submit_report(item, proposal, current_user, content, form.version.data)
                else:
                    ops.save_report(item, proposal, current_user, content, form.version.data)
            except UploadRejected as error:
                db.session.rollback()
                flash(error.message, "danger")
                status = 422
            except (ops.ProjectError, WorkflowError) as error:
                db.session.rollback()
                flash(error.message, "danger")
                problems = list(error.problems)
                status = 422
            else:
                db.session.commit()
                if action == "submit":
                    flash(_("Report submitted. The agency will review it."), "success")
                    return redirect(
                        url_for(
                            "projects.receipt",
                            proposal_id=proposal.id,
                            report_id=item.id,
                            number=len(item.versions),
                        )
                    )
                flash(_("Document added.") if action == "upload" else _("Draft saved."), "success")
                return redirect(
                    url_for("projects.applicant_report", proposal_id=proposal.id, report_id=item.id)
                )
        else:
            status = 422
        if status != 200:
            db.session.refresh(item)
        form.version.data = item.version
    elif (restored := restored_formdata()) is not None:
        form = report_form(numbers, formdata=restored)
        form.version.data = item.version
        flash(
            _("This is what you typed before your session expired. It is not saved yet."), "warning"
        )
    else:
        content = ops.ReportContent.from_json(item.content)
        form = report_form(numbers, data=_form_data(content, item.version))
    returned = next(
        (v for v in reversed(item.versions) if v.decision == ReportStatus.returned), None
    )
    return render_template(
        "projects/report_form.html",
        proposal=proposal,
        project=project,
        report=item,
        form=form,
        numbers=numbers,
        editable=editable,
        problems=problems,
        returned=returned if item.status == ReportStatus.returned else None,
    ), status


@bp.post("/<int:proposal_id>/company/reports/<int:report_id>/documents/<int:document_id>/remove")
@login_required
def remove_document(proposal_id: int, report_id: int, document_id: int):
    proposal = load_project_for_member(proposal_id)
    item = _report_of(proposal, report_id)
    try:
        ops.remove_report_document(item, proposal, current_user, document_id)
    except ops.ProjectError as error:
        db.session.rollback()
        flash(error.message, "danger")
    else:
        db.session.commit()
        flash(_("Document removed."), "success")
    return redirect(
        url_for("projects.applicant_report", proposal_id=proposal.id, report_id=item.id)
    )


@bp.get("/<int:proposal_id>/company/reports/<int:report_id>/receipt/<int:number>")
@login_required
def receipt(proposal_id: int, report_id: int, number: int):
    proposal = load_project_for_member(proposal_id)
    item = _report_of(proposal, report_id)
    version = next((v for v in item.versions if v.number == number), None)
    if version is None:
        abort(404)
    return render_template("projects/receipt.html", proposal=proposal, report=item, version=version)


@bp.get("/<int:proposal_id>/company/reports/<int:report_id>/versions/<int:number>")
@login_required
def applicant_version(proposal_id: int, report_id: int, number: int):
    """A submitted version as the company sent it, with the agency's comments (no notes)."""
    proposal = load_project_for_member(proposal_id)
    item = _report_of(proposal, report_id)
    project = ops.load_project(proposal)
    return render_template(
        "projects/report_review.html",
        proposal=proposal,
        project=project,
        report=item,
        form=None,
        may_decide=False,
        staff=False,
        only=number,
    )


# --- across projects ---------------------------------------------------------------------------


def _as_of() -> date | None:
    raw = request.args.get("as_of", "").strip()
    if not raw:
        return None
    try:
        return parse_date(raw)
    except NumberInputError:
        return None


@bp.get("/")
def portfolio():
    if (refused := _staff_required()) is not None:
        return refused
    visible = programmes_visible(current_user)
    programmes = [
        p
        for p in db.session.scalars(sa.select(Programme).order_by(Programme.code))
        if visible is None or p.id in visible
    ]
    chosen = request.args.get("programme", type=int)
    scope = visible
    if chosen:
        scope = {chosen} if visible is None or chosen in visible else set()
    as_of = _as_of()
    bad_date = bool(request.args.get("as_of")) and as_of is None
    state = request.args.get("state") or None
    if state and state not in states_in_group("signed"):
        state = None
    code = next((p.code for p in programmes if p.id == chosen), None)
    result = ops.portfolio(
        programme_ids=scope,
        as_of=as_of,
        call_id=request.args.get("call", type=int),
        country=(request.args.get("country") or "").upper() or None,
        sector_id=request.args.get("sector", type=int),
        state=state,
        programme_code=code,
    )
    fmt = request.args.get("format")
    if fmt == "csv":
        return Response(
            stream_with_context(exports.as_csv(exports.portfolio_columns(), result.lines)),
            mimetype="text/csv",
            headers={"Content-Disposition": 'attachment; filename="portfolio.csv"'},
        )
    if fmt == "xlsx":
        return Response(
            exports.as_xlsx(_("Portfolio"), exports.portfolio_columns(), result.lines),
            mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={"Content-Disposition": 'attachment; filename="portfolio.xlsx"'},
        )
    if fmt == "json":
        return Response(
            json.dumps(ops.portfolio_json(result), ensure_ascii=False, indent=2),
            mimetype="application/json",
        )
    calls = list(
        db.session.scalars(
            sa.select(Call)
            .where(Call.programme_id.in_([p.id for p in programmes] or [-1]))
            .order_by(Call.title)
        )
    )
    signed_states = []
    for workflow in workflows().values():
        for key in workflow.ordered_states():
            if workflow.in_group(key, "signed") and key not in signed_states:
                signed_states.append(key)
    return render_template(
        "projects/portfolio.html",
        result=result,
        programmes=programmes,
        calls=calls,
        sectors=list(db.session.scalars(sa.select(Sector).order_by(Sector.label))),
        signed_states=signed_states,
        bad_date=bad_date,
        today=local_today(),
    )


@bp.get("/grievances")
def grievances():
    if (refused := _staff_required()) is not None:
        return refused
    rows = ops.open_grievances(programmes_visible(current_user))
    return render_template("projects/grievances.html", rows=rows)


@bp.get("/payments")
def payments():
    if (refused := _staff_required()) is not None:
        return refused
    start = end = None
    bad = False
    for name in ("from", "to"):
        raw = request.args.get(name, "").strip()
        if raw:
            try:
                value = parse_date(raw)
            except NumberInputError:
                bad = True
                continue
            if name == "from":
                start = value
            else:
                end = value
    rows = ops.payments(start, end, programmes_visible(current_user))
    fmt = request.args.get("format")
    name = f"payments-{start or 'start'}-{end or 'today'}"
    if fmt == "csv" and not bad:
        return Response(
            stream_with_context(exports.as_csv(exports.payment_columns(), rows)),
            mimetype="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    if fmt == "xlsx" and not bad:
        return Response(
            exports.as_xlsx(_("Payments"), exports.payment_columns(), rows),
            mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'},
        )
    return render_template(
        "projects/payments.html",
        rows=rows,
        start=start,
        end=end,
        bad=bad,
        total=sum((r.instalment.paid_eur for r in rows), ops.ZERO),
    ), (422 if bad else 200)
