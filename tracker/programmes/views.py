"""Administration of programmes, calls, sectors and HRDD clause versions; the list of open calls."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from tracker.audit.operations import entries_for_object
from tracker.auth.models import Role
from tracker.core.countries import oecd_dac_recipients
from tracker.core.web import get_or_404, roles_required
from tracker.extensions import db
from tracker.programmes import operations as ops
from tracker.programmes import rubrics
from tracker.programmes.forms import (
    BatchForm,
    CallForm,
    ClauseForm,
    ExtensionForm,
    ProgrammeForm,
    RubricForm,
    SectorForm,
)
from tracker.programmes.models import Call, ClauseVersion, Programme, Sector
from tracker.programmes.rubrics import rubric_for
from tracker.proposals.models import Proposal
from tracker.proposals.operations import open_calls
from tracker.review.models import Score

bp = Blueprint("programmes", __name__)


@bp.get("/calls")
def calls():
    """The open calls, for everyone: a company reads what is on offer before registering."""
    return render_template("programmes/open_calls.html", calls=open_calls())


@bp.get("/admin/programmes")
@roles_required(Role.admin)
def index():
    programmes = list(db.session.scalars(sa.select(Programme).order_by(Programme.code)))
    return render_template("programmes/index.html", programmes=programmes)


@bp.route("/admin/programmes/new", methods=["GET", "POST"])
@bp.route("/admin/programmes/<int:programme_id>/edit", methods=["GET", "POST"])
@roles_required(Role.admin)
def edit_programme(programme_id: int | None = None):
    programme = get_or_404(Programme, programme_id) if programme_id else None
    form = ProgrammeForm(obj=programme)
    if form.validate_on_submit():
        try:
            programme = ops.save_programme(
                programme,
                code=form.code.data,
                name=form.name.data,
                first_year=form.first_year.data,
                description=form.description.data,
                report_introduction=form.report_introduction.data,
                report_method=form.report_method.data,
            )
        except ops.ConfigurationError as error:
            db.session.rollback()
            form[error.field or "code"].errors.append(error.message)
        else:
            db.session.commit()
            flash(_("Programme saved."), "success")
            return redirect(url_for("programmes.show_programme", programme_id=programme.id))
    return render_template("programmes/programme_form.html", form=form, programme=programme)


@bp.get("/admin/programmes/<int:programme_id>")
@roles_required(Role.admin)
def show_programme(programme_id: int):
    programme = get_or_404(Programme, programme_id)
    return render_template("programmes/programme.html", programme=programme)


@bp.route("/admin/programmes/<int:programme_id>/calls/new", methods=["GET", "POST"])
@bp.route("/admin/calls/<int:call_id>/edit", methods=["GET", "POST"])
@roles_required(Role.admin)
def edit_call(programme_id: int | None = None, call_id: int | None = None):
    call = get_or_404(Call, call_id) if call_id else None
    programme = call.programme if call else get_or_404(Programme, programme_id)
    sectors = ops.active_sectors()
    if call is None:
        form = CallForm(
            sectors=sectors,
            cofinancing_rate=50,
            ceiling_eur=200000,
            road_haulage_ceiling_eur=100000,
            min_company_age_years=3,
            min_employees=5,
            min_turnover_eur=500000,
            turnover_multiple=3,
            partner_countries=list(oecd_dac_recipients()),
        )
    else:
        rates = {
            field: call.rate_by_income_group.get(group)
            for group, field in ops.RATE_FIELDS.items()
            if (call.rate_by_income_group or {}).get(group)
        }
        form = CallForm(obj=call, sectors=sectors, **rates)
        if not form.is_submitted():
            form.sectors.data = [s.id for s in call.sectors]
    if form.validate_on_submit():
        chosen = set(form.sectors.data or [])
        data = {
            "title": form.title.data,
            "description": form.description.data or "",
            "workflow_key": form.workflow_key.data,
            "opens_at": form.opens_at.utc,
            "closes_at": form.closes_at.utc,
            "full_proposal_closes_at": form.full_proposal_closes_at.utc,
            "cofinancing_rate": form.cofinancing_rate.data,
            "ceiling_eur": form.ceiling_eur.data,
            "road_haulage_ceiling_eur": form.road_haulage_ceiling_eur.data,
            "budget_envelope_eur": form.budget_envelope_eur.data,
            "min_company_age_years": form.min_company_age_years.data,
            "min_employees": form.min_employees.data,
            "min_turnover_eur": form.min_turnover_eur.data,
            "turnover_multiple": form.turnover_multiple.data,
            "turnover_base": form.turnover_base.data,
            "partner_countries": form.partner_countries.data,
            "sectors": [s for s in sectors if s.id in chosen],
            "rolling": form.rolling.data,
            "grace_minutes": form.grace_minutes.data or 0,
            "rate_by_income_group": {
                group: form[field].data for group, field in ops.RATE_FIELDS.items()
            },
        }
        try:
            call = ops.save_call(call, programme, data, actor=current_user)
        except ops.ConfigurationError as error:
            db.session.rollback()
            form[error.field or "title"].errors.append(error.message)
        else:
            db.session.commit()
            flash(_("Call saved."), "success")
            return redirect(url_for("programmes.edit_call", call_id=call.id))
    return render_template(
        "programmes/call_form.html",
        form=form,
        call=call,
        programme=programme,
        changes=entries_for_object("call", call.id) if call else [],
        rubric=rubric_for(call) if call else None,
        batch_form=BatchForm(formdata=None) if call and call.rolling else None,
        extension_form=ExtensionForm(formdata=None) if call else None,
        extended=list(
            db.session.scalars(
                sa.select(Proposal)
                .where(Proposal.call_id == call.id, Proposal.deadline_extended_to.is_not(None))
                .order_by(Proposal.id)
            )
        )
        if call
        else [],
    )


@bp.route("/admin/calls/<int:call_id>/rubric", methods=["GET", "POST"])
@roles_required(Role.admin)
def edit_rubric(call_id: int):
    """The call's scoring rubric: criteria with guidance, weights and scales, and the rules."""
    call = get_or_404(Call, call_id)
    rubric = rubric_for(call)
    others = list(
        db.session.scalars(
            sa.select(Call).where(Call.id != call.id).order_by(Call.opens_at.desc()).limit(200)
        )
    )
    if request.method == "POST":
        form = RubricForm()
    else:
        form = RubricForm(
            formdata=None,
            data={
                "scores_required": rubric.scores_required,
                "divergence_percent": rubric.divergence_percent,
                "threshold": rubric.threshold,
                "criteria": [
                    {
                        "key": c.key,
                        "title": c.title,
                        "guidance": c.guidance,
                        "weight": c.weight,
                        "scale_min": c.scale_min,
                        "scale_max": c.scale_max,
                    }
                    for c in rubric.criteria
                ],
            },
        )
    while len(form.criteria) < len(rubric.criteria) + 2 and len(form.criteria) < 20:
        form.criteria.append_entry()
    form.copy_from.choices = [(0, "")] + [(c.id, f"{c.programme.code} · {c.title}") for c in others]
    if form.validate_on_submit():
        try:
            if form.copy_from.data:
                source = get_or_404(Call, form.copy_from.data)
                rubrics.copy_rubric(source, call, current_user)
                message = _("The rubric of “%(call)s” was copied.", call=source.title)
            else:
                rubrics.save_rubric(
                    call,
                    {
                        "scores_required": form.scores_required.data,
                        "divergence_percent": form.divergence_percent.data,
                        "threshold": form.threshold.data,
                        "criteria": [entry.form.data for entry in form.criteria],
                    },
                    current_user,
                )
                message = _(
                    "Rubric saved. Scores already given keep the rubric they were given under."
                )
        except rubrics.RubricError as error:
            db.session.rollback()
            form[error.field or "criteria"].errors.append(error.message)
        else:
            db.session.commit()
            flash(message, "success")
            return redirect(url_for("programmes.edit_rubric", call_id=call.id))
    scored = db.session.scalar(
        sa.select(sa.func.count(Score.id)).join(Proposal).where(Proposal.call_id == call.id)
    )
    return render_template(
        "programmes/rubric.html",
        call=call,
        form=form,
        scored=scored,
        changes=entries_for_object("rubric", call.id),
    ), (422 if form.errors else 200)


@bp.post("/admin/calls/<int:call_id>/batches")
@roles_required(Role.admin)
def add_batch(call_id: int):
    call = get_or_404(Call, call_id)
    form = BatchForm()
    if form.validate_on_submit():
        try:
            ops.add_batch(
                call,
                title=form.title.data,
                closes_at=form.closes_at.utc,
                budget_envelope_eur=form.budget_envelope_eur.data,
                actor=current_user,
            )
        except ops.ConfigurationError as error:
            db.session.rollback()
            flash(error.message, "danger")
        else:
            db.session.commit()
            flash(_("Batch added."), "success")
    else:
        for name, errors in form.errors.items():
            flash(f"{form[name].label.text}: {errors[0]}", "danger")
    return redirect(url_for("programmes.edit_call", call_id=call.id) + "#batches")


@bp.route("/admin/sectors", methods=["GET", "POST"])
@roles_required(Role.admin)
def sectors():
    form = SectorForm()
    if form.validate_on_submit():
        try:
            ops.add_sector(form.label.data)
        except ops.ConfigurationError as error:
            db.session.rollback()
            form.label.errors.append(error.message)
        else:
            db.session.commit()
            flash(_("Sector added."), "success")
            return redirect(url_for("programmes.sectors"))
    rows = list(db.session.scalars(sa.select(Sector).order_by(Sector.position, Sector.label)))
    return render_template("programmes/sectors.html", sectors=rows, form=form)


@bp.post("/admin/sectors/<int:sector_id>/toggle")
@roles_required(Role.admin)
def toggle_sector(sector_id: int):
    sector = get_or_404(Sector, sector_id)
    sector.active = not sector.active
    db.session.commit()
    return redirect(url_for("programmes.sectors"))


@bp.get("/admin/clauses")
@roles_required(Role.admin, Role.hrdd)
def clauses():
    rows = list(db.session.scalars(sa.select(ClauseVersion).order_by(ClauseVersion.number.desc())))
    locked = {c.id for c in rows if ops.clause_in_signed_contract(c)}
    return render_template("programmes/clauses.html", clauses=rows, locked=locked)


@bp.route("/admin/clauses/new", methods=["GET", "POST"])
@bp.route("/admin/clauses/<int:clause_id>/edit", methods=["GET", "POST"])
@roles_required(Role.admin)
def edit_clause(clause_id: int | None = None):
    clause = get_or_404(ClauseVersion, clause_id) if clause_id else None
    if clause is None and not ClauseForm().is_submitted():
        latest = ops.latest_clause()
        form = ClauseForm(title=latest.title if latest else "", text=latest.text if latest else "")
    else:
        form = ClauseForm(obj=clause)
    if form.validate_on_submit():
        try:
            clause = ops.save_clause(clause, title=form.title.data, text=form.text.data)
        except ops.ConfigurationError as error:
            db.session.rollback()
            form.text.errors.append(error.message)
        else:
            db.session.commit()
            flash(_("Draft saved. Publish it to make it the current clause."), "success")
            return redirect(url_for("programmes.clauses"))
    return render_template("programmes/clause_form.html", form=form, clause=clause)


@bp.post("/admin/clauses/<int:clause_id>/publish")
@roles_required(Role.admin)
def publish_clause(clause_id: int):
    clause = get_or_404(ClauseVersion, clause_id)
    try:
        ops.publish_clause(clause, current_user)
    except ops.ConfigurationError as error:
        db.session.rollback()
        flash(error.message, "danger")
    else:
        db.session.commit()
        flash(_("Version %(n)s is now the current HRDD clause.", n=clause.number), "success")
    return redirect(url_for("programmes.clauses"))


# --- workflows -------------------------------------------------------------------------------


@bp.get("/admin/workflows")
@roles_required(Role.admin)
def workflows_page():
    from tracker.workflow.definitions import workflows

    used = dict(
        db.session.execute(
            sa.select(Call.workflow_key, sa.func.count(Call.id)).group_by(Call.workflow_key)
        ).all()
    )
    return render_template(
        "programmes/workflows.html",
        workflows=sorted(workflows().values(), key=lambda w: w.key),
        used=used,
    )


@bp.get("/admin/workflows/<key>")
@roles_required(Role.admin)
def workflow_page(key: str):
    from markupsafe import Markup

    from tracker.workflow.definitions import GROUPS, workflows
    from tracker.workflow.diagram import svg_diagram
    from tracker.workflow.operations import stranded_states

    workflow = workflows().get(key)
    if workflow is None:
        abort(404)
    labels = {k: str(s.label) for k, s in workflow.states.items()}
    labels.update({k: str(t.label) for k, t in workflow.transitions.items()})
    calls = list(
        db.session.scalars(
            sa.select(Call).where(Call.workflow_key == key).order_by(Call.opens_at.desc())
        )
    )
    return render_template(
        "programmes/workflow.html",
        workflow=workflow,
        diagram=Markup(svg_diagram(workflow, labels)),  # noqa: S704 - built with escape()
        group_meanings=GROUPS,
        calls=calls,
        stranded=stranded_states(workflow),
    )


@bp.post("/admin/calls/<int:call_id>/extensions")
@roles_required(Role.admin)
def extend_deadline(call_id: int):
    """Extend one proposal's deadline, with a reason (recorded in its history, told to it)."""
    from tracker.programmes.forms import ExtensionForm
    from tracker.workflow.operations import WorkflowError, perform_transition, workflow_for

    call = get_or_404(Call, call_id)
    form = ExtensionForm()
    back = redirect(url_for("programmes.edit_call", call_id=call.id) + "#extensions")
    if not form.validate_on_submit():
        for name, errors in form.errors.items():
            flash(f"{form[name].label.text}: {errors[0]}", "danger")
        return back
    proposal = db.session.get(Proposal, form.proposal_number.data)
    if proposal is None or proposal.call_id != call.id:
        flash(_("This call has no proposal no. %(n)s.", n=form.proposal_number.data), "danger")
        return back
    extension = next(
        (
            t
            for t in workflow_for(proposal).transitions_from(proposal.status)
            if "extend_deadline" in t.effects
        ),
        None,
    )
    if extension is None:
        flash(_("This proposal's deadline cannot be extended at its stage."), "danger")
        return back
    try:
        perform_transition(
            proposal,
            extension.key,
            current_user,
            comment=form.reason.data,
            data={"deadline": form.deadline.utc},
        )
    except WorkflowError as error:
        db.session.rollback()
        flash(error.message, "danger")
        return back
    db.session.commit()
    flash(_("The deadline of proposal no. %(n)s is extended.", n=proposal.id), "success")
    return back
