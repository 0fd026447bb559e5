"""The applicant's pages: dashboard, the sectioned form, documents, submission, receipt."""

from __future__ import annotations

import sqlalchemy as sa
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.orm import selectinload
from werkzeug.datastructures import CombinedMultiDict, MultiDict

from tracker.audit.operations import changes_since
from tracker.core.time import local_today
from tracker.core.web import applicant_required, get_or_404, restored_formdata
from tracker.extensions import db
from tracker.programmes.models import Call
from tracker.proposals import operations as ops
from tracker.proposals import sections
from tracker.proposals.forms import (
    SECTION_FORMS,
    DocumentForm,
    ReasonForm,
    RespondForm,
    SectionForm,
    SubmitForm,
)
from tracker.proposals.models import Attachment, AttachmentKind, ProjectType, Proposal
from tracker.proposals.storage import (
    ACCEPT_ATTRIBUTE,
    ALLOWED_LABEL,
    UploadRejected,
    delete_stored,
    path_for,
)
from tracker.questions.forms import fill as fill_answers
from tracker.questions.forms import with_questions
from tracker.questions.operations import answers_of, field_name, questions_of
from tracker.questions.operations import parse as parse_answer
from tracker.questions.operations import visible as question_visible
from tracker.review.operations import granted_summary
from tracker.workflow.operations import (
    ANY_VERSION,
    StaleProposal,
    WorkflowError,
    check_version,
    options_for,
    perform_transition,
    workflow_for,
)
from tracker.workflow.timeline import timeline

bp = Blueprint("proposals", __name__)


def load_proposal(proposal_id: int) -> Proposal:
    """The proposal, or 404 when it does not exist or is not the user's to see."""
    proposal = get_or_404(Proposal, proposal_id)
    if not ops.can_view(current_user, proposal):
        abort(404)
    return proposal


def load_own_proposal(proposal_id: int) -> Proposal:
    """A proposal of the user's organisation, or 404."""
    proposal = get_or_404(Proposal, proposal_id)
    if not ops.is_member(current_user, proposal):
        abort(404)
    return proposal


@bp.get("/")
@login_required
def dashboard():
    if not current_user.is_applicant:
        if current_user.has_role("reviewer", "hrdd", "committee", "evaluator", "admin"):
            return redirect(url_for("review.my_work"))
        if current_user.has_role("reporting"):
            return redirect(url_for("reports.selections"))
        return render_template("proposals/staff_home.html")
    proposals = list(
        db.session.scalars(
            sa.select(Proposal)
            .where(Proposal.organisation_id == current_user.organisation_id)
            .order_by(Proposal.updated_at.desc())
            .options(selectinload(Proposal.call).selectinload(Call.programme))
        )
    )
    # The deadline of each proposal the applicant can still work on.
    deadlines = {
        p.id: ops.deadline_for(p).at if ops.can_edit(current_user, p) else None for p in proposals
    }
    return render_template(
        "proposals/dashboard.html", proposals=proposals, calls=ops.open_calls(), deadlines=deadlines
    )


@bp.post("/calls/<int:call_id>/proposals")
@applicant_required
def create(call_id: int):
    call = get_or_404(Call, call_id)
    try:
        proposal = ops.create_draft(call, current_user)
    except ops.ProposalError as error:
        db.session.rollback()
        flash(error.message, "danger")
        return redirect(url_for("proposals.dashboard"))
    db.session.commit()
    flash(
        _("Your draft is started. Fill the sections in any order; each one saves on its own."),
        "success",
    )
    return redirect(url_for("proposals.show", proposal_id=proposal.id))


@bp.get("/proposals/<int:proposal_id>")
@applicant_required
def show(proposal_id: int):
    proposal = load_own_proposal(proposal_id)
    stage = sections.stage_of(proposal)
    return render_template(
        "proposals/show.html",
        proposal=proposal,
        workflow=workflow_for(proposal),
        stage=stage,
        overview=sections.overview(proposal, stage, local_today()),
        editable=ops.can_edit(current_user, proposal),
        editable_sections=ops.editable_sections(proposal),
        submit_option=submit_option(proposal),
        withdraw=withdraw_option(proposal),
        deadline=ops.deadline_for(proposal),
        waiting_for_answer=workflow_for(proposal).in_group(proposal.status, "info_requested"),
        granted=granted_summary(proposal),
        entries=timeline(proposal, for_applicant=True),
        withdraw_form=ReasonForm(version=proposal.version),
    )


# --- sections --------------------------------------------------------------------------------


def _form_kwargs(section: str, proposal: Proposal) -> dict:
    if section == "project":
        from tracker.programmes.operations import active_sectors

        sectors = proposal.call.sectors or active_sectors()
        return {"sectors": sectors, "eligible": proposal.call.partner_countries or ()}
    if section == "partners":
        return {"eligible": proposal.call.partner_countries or ()}
    return {}


def _initial_data(section: str, proposal: Proposal) -> dict:
    if section == "partners":
        rows = [
            {
                "name": p.name,
                "country": p.country,
                "kind": p.kind.value,
                "is_local": "local" if p.is_local else "eu",
                "role_description": p.role_description,
            }
            for p in proposal.partners
        ]
        return {"partners": rows}
    if section == "hrdd":
        steps = []
        for step in sections.HRDD_STEPS:
            answer = proposal.answer_for(step)
            steps.append(
                {
                    "answer": answer.answer if answer else "",
                    "evidence": answer.evidence if answer else "",
                }
            )
        return {"steps": steps}
    if section == "declarations":
        return {
            "declared_accuracy": proposal.declared_accuracy,
            "accept_clause": proposal.accepted_clause_version_id is not None,
            "declared_de_minimis": proposal.declared_de_minimis,
            "declared_data_protection": proposal.declared_data_protection,
        }
    return {}


def _visible_fields(section: str, proposal: Proposal) -> tuple[str, ...]:
    """The fields the page shows (a two-stage draft shows only the concept-note project fields)."""
    if section == "project" and sections.stage_of(proposal) == sections.CONCEPT:
        return sections.CONCEPT_PROJECT_FIELDS
    return ops.SIMPLE_SECTIONS.get(section, ())


def _questions(section: str, proposal: Proposal) -> list:
    """The call's questions asked in this section at the proposal's stage."""
    return sections.section_questions(proposal, section, sections.stage_of(proposal))


def _build_form(section: str, proposal: Proposal, formdata=None):
    """The section's form, with a field more per question of the call asked in it."""
    questions = _questions(section, proposal)
    cls = with_questions(SECTION_FORMS.get(section, SectionForm), questions, proposal.call)
    kwargs = _form_kwargs(section, proposal)
    if formdata is not None:
        return cls(formdata=formdata, **kwargs)
    if section in ops.SIMPLE_SECTIONS:
        form = cls(formdata=None, obj=proposal, **kwargs)
    else:
        form = cls(formdata=None, data=_initial_data(section, proposal), **kwargs)
    fill_answers(form, questions, answers_of(proposal))
    form.version.data = proposal.version
    return form


def _convert(name: str, value):
    if value == "":
        return None
    if name == "sector_id":
        return int(value) if value else None
    if name == "project_type":
        return ProjectType(value) if value else None
    return value


def _extract(section: str, form, proposal: Proposal) -> tuple[dict, dict, dict]:
    """Split the posted form into values to store, raw inputs to keep for later, and the
    answers to the call's questions (each question on its own: one malformed answer keeps
    only itself back)."""
    posted = request.form.to_dict(flat=False)
    posted.pop("csrf_token", None)
    posted.pop("version", None)
    answers, unsaved = {}, {}
    shown = set(request.form.getlist("questions_shown"))
    for question in _questions(section, proposal):
        if question.key not in shown:
            continue  # not on the page (hidden by an answer elsewhere): left as it is
        name = field_name(question)
        field = form[name]
        if question.kind.value == "file":
            continue  # stored by _store_files
        if field.errors:
            unsaved[name] = posted.get(name, [])
        else:
            answers[question.key] = parse_answer(question, field.data)
    core_errors = {k for k in form.errors if not k.startswith("q_")}
    if section in ops.SIMPLE_SECTIONS:
        values = {}
        for name in _visible_fields(section, proposal):
            field = form[name]
            if field.errors:
                unsaved[name] = posted.get(name, [])
            else:
                values[name] = _convert(name, field.data)
        return values, unsaved, answers
    if section.startswith("x-"):
        return {}, unsaved, answers
    if core_errors:
        return (
            {},
            {**{k: v for k, v in posted.items() if not k.startswith("q_")}, **unsaved},
            answers,
        )
    if section == "partners":
        return {"partners": form.cleaned()}, unsaved, answers
    if section == "hrdd":
        return {"steps": form.cleaned()}, unsaved, answers
    return (
        {
            name: form[name].data
            for name in form._fields
            if name not in ("csrf_token", "version") and not name.startswith("q_")
        },
        unsaved,
        answers,
    )


def _store_files(section: str, form, proposal: Proposal, answers: dict) -> list[str]:
    """Store the documents answering file questions; a refused one is named at its field."""
    stored = []
    for question in _questions(section, proposal):
        if question.kind.value != "file":
            continue
        field = form[field_name(question)]
        upload = field.data
        if not upload or not getattr(upload, "filename", ""):
            continue
        allowed = (question.settings or {}).get("file_types") or None
        try:
            attachment = ops.add_attachment(
                proposal,
                AttachmentKind.answer,
                upload.stream,
                upload.filename,
                current_user,
                allowed_types=allowed,
            )
        except UploadRejected as error:
            field.errors = [*field.errors, error.message]
            continue
        db.session.flush()
        stored.append(attachment.stored_name)
        answers[question.key] = str(attachment.id)
    return stored


def _apply_unsaved(section: str, form, proposal: Proposal):
    """Show what could not be saved last time, with its error, in place of the stored value."""
    kept = (proposal.unsaved_inputs or {}).get(section)
    if not kept:
        return form
    if (
        section in ops.SIMPLE_SECTIONS
        or section.startswith("x-")
        or all(k.startswith("q_") for k in kept)
    ):
        for name, values in kept.items():
            if name in form._fields:
                form[name].process(MultiDict([(name, v) for v in values]))
                form[name].validate(form)
        return form
    rebuilt = _build_form(
        section, proposal, formdata=MultiDict([(k, v) for k, vs in kept.items() for v in vs])
    )
    rebuilt.validate()
    rebuilt.version.data = proposal.version
    return rebuilt


def _rules_at(proposal: Proposal, section: str, today) -> dict[str, list[str]]:
    """The call's rules broken by the saved values, by the field they are about."""
    at: dict[str, list[str]] = {}
    for name, message in sections.rule_problems(proposal, section, today):
        if name:
            at.setdefault(name, []).append(message)
    return at


def _next_section(proposal: Proposal, section: str) -> str | None:
    editable = ops.editable_sections(proposal)
    keys = [s.key for s in sections.all_sections(proposal.call) if s.key in editable]
    if section in keys and keys.index(section) + 1 < len(keys):
        return keys[keys.index(section) + 1]
    return None


@bp.route("/proposals/<int:proposal_id>/sections/<section>", methods=["GET", "POST"])
@applicant_required
def edit_section(proposal_id: int, section: str):
    proposal = load_own_proposal(proposal_id)
    if section == "documents":
        return redirect(url_for("proposals.documents", proposal_id=proposal.id))
    info = sections.section_by_key(section, proposal.call)
    if info is None or (section not in SECTION_FORMS and not info.own):
        abort(404)
    try:
        ops.require_edit(current_user, proposal, section)
    except ops.ProposalError as error:
        flash(error.message, "warning")
        return redirect(url_for("proposals.show", proposal_id=proposal.id))

    if request.method == "POST":
        form = _build_form(
            section, proposal, formdata=CombinedMultiDict([request.form, request.files])
        )
        form.validate()
        values, unsaved, answers = _extract(section, form, proposal)
        stored: list[str] = []
        try:
            # The version first: storing a document moves it, and the save below trusts it.
            check_version(proposal, form.version.data)
            stored = _store_files(section, form, proposal, answers)
            refused_files = [
                field_name(q)
                for q in _questions(section, proposal)
                if q.kind.value == "file" and form[field_name(q)].errors
            ]
            ops.save_section(
                proposal,
                section,
                values,
                current_user,
                expected_version=ANY_VERSION,
                unsaved=unsaved,
                answers=answers,
            )
        except StaleProposal as error:
            for name in stored:
                delete_stored(name)
            db.session.rollback()
            flash(error.message, "danger")
            # The form keeps what was typed and now carries the current version, so saving
            # again from this page works once the person has compared.
            form.version.data = proposal.version
            stale = changes_since(
                proposal.id,
                error.seen_version,
                object_type=f"section:{section}",
                form=form,
                posted=request.form,
            )
            return _render_section(proposal, info, form, stale=stale), 409
        except (WorkflowError, ops.ProposalError) as error:
            db.session.rollback()
            for name in stored:
                delete_stored(name)
            flash(error.message, "danger")
            return _render_section(proposal, info, form), 409
        db.session.commit()
        if unsaved or refused_files:
            flash(
                _(
                    "Saved, except the fields marked below. What you typed there is kept: correct it "
                    "and save again."
                ),
                "warning",
            )
            form.version.data = proposal.version
            return _render_section(proposal, info, form), 422
        flash(_("%(section)s saved.", section=info.title), "success")
        following = _next_section(proposal, section)
        if request.form.get("continue") and following:
            return redirect(
                url_for("proposals.edit_section", proposal_id=proposal.id, section=following)
            )
        if request.form.get("continue") and submit_option(proposal) is not None:
            # The last section: the same button leads on to the submission's review.
            return redirect(url_for("proposals.submit", proposal_id=proposal.id))
        return redirect(url_for("proposals.edit_section", proposal_id=proposal.id, section=section))

    restored = restored_formdata()
    if restored is not None:
        form = _build_form(section, proposal, formdata=restored)
        form.version.data = proposal.version
        flash(
            _(
                "This is what you typed before your session expired. It is not saved yet: check it and save."
            ),
            "warning",
        )
    else:
        form = _apply_unsaved(section, _build_form(section, proposal), proposal)
    return _render_section(proposal, info, form)


def _hidden_here(questions, by_key, proposal) -> set[str]:
    """Questions whose condition is on an answer given in another section, and not met."""
    here = {q.key for q in questions}
    answers = answers_of(proposal)
    return {
        q.key
        for q in questions
        if q.condition
        and q.condition.get("question") not in here
        and not question_visible(q, by_key, answers)
    }


def _render_section(proposal: Proposal, info, form, stale=None):
    stage = sections.stage_of(proposal)
    today = local_today()
    questions = _questions(info.key, proposal)
    by_key = {q.key: q for q in questions_of(proposal.call)}
    context = {
        "stale": stale or [],
        "proposal": proposal,
        "section": info,
        "form": form,
        "stage": stage,
        "question_fields": [
            (q, form[field_name(q)], by_key.get((q.condition or {}).get("question")))
            for q in questions
        ],
        "multipart": any(q.kind.value == "file" for q in questions),
        "answer_files": {a.id: a for a in proposal.attachments if a.kind == AttachmentKind.answer},
        "answers": answers_of(proposal),
        "hidden_questions": _hidden_here(questions, by_key, proposal),
        "visible": _visible_fields(info.key, proposal),
        "problems": sections.problems_for(proposal, info.key, stage, today),
        "rules_at": _rules_at(proposal, info.key, today),
        "overview": sections.overview(proposal, stage, today),
        "editable_sections": ops.editable_sections(proposal),
        "next_section": _next_section(proposal, info.key),
        "can_submit": submit_option(proposal) is not None,
    }
    if info.key == "declarations":
        context["clause"] = ops.current_clause()
    if info.key == "budget":
        from tracker.proposals import eligibility

        context["max_grant"] = eligibility.max_grant(proposal, proposal.call)
        context["ceiling"] = eligibility.ceiling_for(proposal, proposal.call)
        context["rate"] = eligibility.rate_for(proposal, proposal.call)
        group = eligibility.income_group_of(proposal)
        by_group = proposal.call.rate_by_income_group or {}
        context["rate_group"] = (
            eligibility.INCOME_GROUP_TITLES[group] if group and by_group.get(group) else None
        )
    if info.key == "hrdd":
        context["steps"] = sections.HRDD_STEPS
    template = "own" if info.own else info.key
    return render_template(f"proposals/sections/{template}.html", **context)


# --- documents -------------------------------------------------------------------------------


@bp.route("/proposals/<int:proposal_id>/documents", methods=["GET", "POST"])
@applicant_required
def documents(proposal_id: int):
    proposal = load_own_proposal(proposal_id)
    editable = ops.can_edit(current_user, proposal) and "documents" in ops.editable_sections(
        proposal
    )
    form = DocumentForm(version=proposal.version)
    status = 200
    if request.method == "POST":
        if not editable:
            flash(_("Documents can no longer be changed."), "warning")
            return redirect(url_for("proposals.show", proposal_id=proposal.id))
        if form.validate_on_submit():
            upload = form.file.data
            try:
                ops.add_attachment(
                    proposal,
                    AttachmentKind(form.kind.data),
                    upload.stream,
                    upload.filename or "",
                    current_user,
                    expected_version=form.version.data,
                )
            except UploadRejected as error:
                db.session.rollback()
                form.file.errors.append(error.message)
                status = 422
            except (WorkflowError, ops.ProposalError) as error:
                db.session.rollback()
                flash(error.message, "danger")
                status = 409
            else:
                db.session.commit()
                flash(_("“%(name)s” uploaded.", name=upload.filename), "success")
                return redirect(url_for("proposals.documents", proposal_id=proposal.id))
        else:
            status = 422
        form.version.data = proposal.version
    stage = sections.stage_of(proposal)
    return render_template(
        "proposals/sections/documents.html",
        proposal=proposal,
        section=sections.section_by_key("documents"),
        form=form,
        editable=editable,
        accept=ACCEPT_ATTRIBUTE,
        allowed=ALLOWED_LABEL,
        max_mb=current_app.config["UPLOAD_MAX_BYTES"] // (1024 * 1024),
        problems=sections.problems_for(proposal, "documents", stage, local_today()),
        overview=sections.overview(proposal, stage, local_today()),
        editable_sections=ops.editable_sections(proposal),
        next_section=_next_section(proposal, "documents"),
        can_submit=submit_option(proposal) is not None,
    ), status


@bp.post("/proposals/<int:proposal_id>/documents/<int:attachment_id>/delete")
@applicant_required
def delete_document(proposal_id: int, attachment_id: int):
    proposal = load_own_proposal(proposal_id)
    attachment = get_or_404(Attachment, attachment_id)
    if attachment.proposal_id != proposal.id:
        abort(404)
    try:
        ops.remove_attachment(
            attachment, current_user, expected_version=request.form.get("version", type=int)
        )
    except (WorkflowError, ops.ProposalError) as error:
        db.session.rollback()
        flash(error.message, "danger")
    else:
        db.session.commit()
        flash(_("Document removed."), "info")
    return redirect(url_for("proposals.documents", proposal_id=proposal.id))


@bp.get("/proposals/<int:proposal_id>/documents/<int:attachment_id>")
@login_required
def download(proposal_id: int, attachment_id: int):
    proposal = load_proposal(proposal_id)
    attachment = get_or_404(Attachment, attachment_id)
    if attachment.proposal_id != proposal.id:
        abort(404)
    path = path_for(attachment.stored_name)
    if not path.is_file():
        abort(404)
    response = send_file(
        path,
        mimetype=attachment.content_type,
        as_attachment=True,
        download_name=attachment.filename,
        max_age=0,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


# --- submission, withdrawal, answers ---------------------------------------------------------


SUBMISSION_EFFECTS = ("record_submission", "record_full_submission")


def submit_option(proposal: Proposal):
    """The submission the workflow offers the applicant now (concept note, full proposal...)."""
    return next(
        (
            o
            for o in options_for(proposal, current_user)
            if any(e in o.transition.effects for e in SUBMISSION_EFFECTS)
        ),
        None,
    )


def withdraw_option(proposal: Proposal):
    """The applicant's way out: the transition into the workflow's withdrawn state."""
    withdrawn = workflow_for(proposal).group("withdrawn")
    return next(
        (
            o
            for o in options_for(proposal, current_user)
            if o.transition.by_applicant and o.transition.target in withdrawn
        ),
        None,
    )


@bp.route("/proposals/<int:proposal_id>/submit", methods=["GET", "POST"])
@applicant_required
def submit(proposal_id: int):
    proposal = load_own_proposal(proposal_id)
    option = submit_option(proposal)
    key = option.transition.key if option else None
    if option is None:
        flash(_("This proposal cannot be submitted in its current state."), "warning")
        return redirect(url_for("proposals.show", proposal_id=proposal.id))
    form = SubmitForm(version=proposal.version)
    if form.validate_on_submit():
        try:
            perform_transition(proposal, key, current_user, expected_version=form.version.data)
        except WorkflowError as error:
            db.session.rollback()
            flash(error.message, "danger")
            return redirect(url_for("proposals.submit", proposal_id=proposal.id))
        db.session.commit()
        flash(_("Submitted. Keep the receipt below."), "success")
        return redirect(url_for("proposals.receipt", proposal_id=proposal.id))
    stage = sections.stage_of(proposal)
    return render_template(
        "proposals/submit.html",
        proposal=proposal,
        option=option,
        form=form,
        stage=stage,
        overview=sections.overview(proposal, stage, local_today()),
    )


@bp.get("/proposals/<int:proposal_id>/receipt")
@applicant_required
def receipt(proposal_id: int):
    proposal = load_own_proposal(proposal_id)
    if proposal.submitted_at is None:
        abort(404)
    documents = [
        a
        for a in proposal.attachments
        if a.status_change_id is None and a.kind != AttachmentKind.answer
    ]
    return render_template(
        "proposals/receipt.html",
        proposal=proposal,
        documents=documents,
        submissions=ops.submissions_of(proposal),
    )


@bp.get("/proposals/<int:proposal_id>/submissions/<int:number>")
@applicant_required
def submission(proposal_id: int, number: int):
    """Exactly what was submitted at one stage, as the applicant sent it."""
    proposal = load_own_proposal(proposal_id)
    kept = next((s for s in ops.submissions_of(proposal) if s.number == number), None)
    if kept is None:
        abort(404)
    return render_template(
        "proposals/submission.html",
        proposal=proposal,
        submission=kept,
        content=ops.flatten_content(kept.content),
        back=url_for("proposals.receipt", proposal_id=proposal.id),
        pdf_url=url_for("proposals.submission_pdf", proposal_id=proposal.id, number=number),
    )


@bp.get("/proposals/<int:proposal_id>/submissions/<int:number>.pdf")
@applicant_required
def submission_pdf(proposal_id: int, number: int):
    """The submitted version as a PDF, to keep or print."""
    from tracker.proposals.documents import submission_pdf as render_pdf

    proposal = load_own_proposal(proposal_id)
    kept = next((s for s in ops.submissions_of(proposal) if s.number == number), None)
    if kept is None:
        abort(404)
    return _pdf_response(render_pdf(proposal, kept), f"{proposal.reference}-{number}.pdf")


def _pdf_response(data: bytes, filename: str) -> Response:
    return Response(
        data,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.post("/proposals/<int:proposal_id>/withdraw")
@applicant_required
def withdraw(proposal_id: int):
    proposal = load_own_proposal(proposal_id)
    form = ReasonForm()
    if not form.validate_on_submit():
        flash(_("Give a reason to withdraw the proposal."), "danger")
        return redirect(url_for("proposals.show", proposal_id=proposal.id))
    option = withdraw_option(proposal)
    if option is None:
        flash(_("This proposal can no longer be withdrawn."), "warning")
        return redirect(url_for("proposals.show", proposal_id=proposal.id))
    try:
        perform_transition(
            proposal,
            option.transition.key,
            current_user,
            expected_version=form.version.data,
            comment=form.reason.data,
        )
    except WorkflowError as error:
        db.session.rollback()
        flash(error.message, "danger")
    else:
        db.session.commit()
        flash(_("The proposal was withdrawn."), "info")
    return redirect(url_for("proposals.show", proposal_id=proposal.id))


@bp.route("/proposals/<int:proposal_id>/respond", methods=["GET", "POST"])
@applicant_required
def respond(proposal_id: int):
    proposal = load_own_proposal(proposal_id)
    workflow = workflow_for(proposal)
    if not workflow.in_group(proposal.status, "info_requested"):
        flash(_("No information is requested at the moment."), "info")
        return redirect(url_for("proposals.show", proposal_id=proposal.id))
    restored = restored_formdata()
    form = (
        RespondForm(formdata=restored)
        if restored is not None
        else RespondForm(version=proposal.version)
    )
    status = 200
    if request.method == "POST" and form.validate_on_submit():
        try:
            ops.respond_to_request(
                proposal,
                current_user,
                form.reason.data,
                [(u.stream, u.filename) for u in form.files.data or [] if u and u.filename],
                expected_version=form.version.data,
            )
        except UploadRejected as error:
            db.session.rollback()
            form.files.errors.append(error.message)
            status = 422
        except WorkflowError as error:
            db.session.rollback()
            flash(error.message, "danger")
            status = 409
        else:
            db.session.commit()
            flash(_("Your answer was sent."), "success")
            return redirect(url_for("proposals.show", proposal_id=proposal.id))
    elif request.method == "POST":
        status = 422
    request_row = next(
        (
            e
            for e in timeline(proposal, for_applicant=True)
            if workflow.in_group(e.to_status, "info_requested")
        ),
        None,
    )
    return render_template(
        "proposals/respond.html", proposal=proposal, form=form, request_entry=request_row
    ), status
