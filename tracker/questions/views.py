"""The question builder of a call (administrators): add, edit, reorder, remove, copy, preview."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user

from tracker.auth.models import Role
from tracker.core.forms import BaseForm
from tracker.core.web import get_or_404, roles_required
from tracker.extensions import db
from tracker.programmes.models import Call
from tracker.proposals import sections as form_sections
from tracker.questions import operations as ops
from tracker.questions.forms import CopyForm, QuestionForm, SectionTitleForm, with_questions
from tracker.questions.models import Question, QuestionKind

bp = Blueprint("questions", __name__, url_prefix="/admin/calls/<int:call_id>/questions")


def _section_choices(call) -> list[tuple[str, str]]:
    core = [
        (s.key, f"{s.number}. {s.title}") for s in form_sections.SECTIONS if s.key != "documents"
    ]
    own = [(s.key, str(ops.text(s.title))) for s in ops.sections_of(call)]
    return core + own


def _question_form(call, question: Question | None = None, formdata=None) -> QuestionForm:
    if formdata is not None:
        form = QuestionForm(formdata=formdata)
    elif question is not None:
        settings = question.settings or {}
        form = QuestionForm(
            formdata=None,
            data={
                **{f"label_{k}": v for k, v in (question.label or {}).items()},
                **{f"help_{k}": v for k, v in (question.help or {}).items()},
                "kind": question.kind.value,
                "section": question.section,
                "stage": question.stage.value,
                "required": question.required,
                "max_length": settings.get("max_length"),
                "max_words": settings.get("max_words"),
                "minimum": settings.get("minimum"),
                "maximum": settings.get("maximum"),
                "choices": "\n".join(
                    " | ".join(
                        [c["value"], *(c["label"].get(lang, "") for lang in ("en", "fr", "de"))]
                    ).rstrip(" |")
                    for c in settings.get("choices", [])
                ),
                "countries": ", ".join(settings.get("countries") or []),
                "file_types": settings.get("file_types") or [],
                "condition_question": (question.condition or {}).get("question", ""),
                "condition_values": ", ".join((question.condition or {}).get("values", [])),
            },
        )
    else:
        form = QuestionForm(formdata=None)
    form.section.choices = _section_choices(call)
    others = [q for q in ops.questions_of(call) if q.kind in ops.CHOICE_KINDS and q is not question]
    form.condition_question.choices = [("", _("Always shown"))] + [
        (q.key, str(ops.text(q.label))) for q in others
    ]
    return form


def _parse_choices(text: str) -> list[dict]:
    choices = []
    for line in (text or "").splitlines():
        parts = [p.strip() for p in line.split("|")]
        if not parts or not parts[0]:
            continue
        value = parts[0]
        labels = dict(zip(("en", "fr", "de"), parts[1:], strict=False))
        labels = {k: v for k, v in labels.items() if v} or {"en": value}
        labels.setdefault("en", value)
        choices.append({"value": value, "label": labels})
    return choices


def _data(form: QuestionForm) -> dict:
    kind = form.kind.data
    settings = {}
    if kind == QuestionKind.short_text.value and form.max_length.data:
        settings["max_length"] = form.max_length.data
    if kind == QuestionKind.long_text.value and form.max_words.data:
        settings["max_words"] = form.max_words.data
    if kind in ("integer", "amount"):
        for name in ("minimum", "maximum"):
            if form[name].data is not None:
                settings[name] = form[name].data
    if kind in ("choice", "choices"):
        settings["choices"] = _parse_choices(form.choices.data)
    if kind in ("country", "countries") and form.countries.data:
        settings["countries"] = sorted(
            {c.strip().upper() for c in form.countries.data.split(",") if c.strip()}
        )
    if kind == "file" and form.file_types.data:
        settings["file_types"] = list(form.file_types.data)
    condition = None
    if form.condition_question.data:
        condition = {
            "question": form.condition_question.data,
            "values": [
                v.strip() for v in (form.condition_values.data or "").split(",") if v.strip()
            ],
        }
    return {
        "label": {lang: form[f"label_{lang}"].data for lang in ("en", "fr", "de")},
        "help": {lang: form[f"help_{lang}"].data for lang in ("en", "fr", "de")},
        "kind": kind,
        "section": form.section.data,
        "stage": form.stage.data,
        "required": form.required.data,
        "settings": settings,
        "condition": condition,
    }


def _page(call, form, section_form=None, copy_form=None, question=None, status=200):
    copy_form = copy_form or CopyForm(formdata=None)
    copy_form.copy_from.choices = [(0, "")] + [
        (c.id, f"{c.programme.code} · {c.title}")
        for c in db.session.scalars(
            sa.select(Call).where(Call.id != call.id).order_by(Call.opens_at.desc()).limit(200)
        )
    ]
    questions = ops.questions_of(call)
    return render_template(
        "questions/builder.html",
        call=call,
        form=form,
        question=question,
        section_form=section_form or SectionTitleForm(formdata=None),
        copy_form=copy_form,
        questions=questions,
        sections={s.key: s for s in ops.sections_of(call)},
        section_titles=dict(_section_choices(call)),
        answered={q.id: ops.answered(q) for q in questions},
        submitted=ops.has_submissions(call),
    ), status


@bp.route("", methods=["GET", "POST"])
@roles_required(Role.admin)
def builder(call_id: int):
    call = get_or_404(Call, call_id)
    if request.method == "GET":
        return _page(call, _question_form(call))
    form = _question_form(call, formdata=request.form)
    if form.validate_on_submit():
        try:
            question = ops.save_question(call, None, _data(form), current_user)
        except ops.QuestionError as error:
            db.session.rollback()
            _field_error(form, error)
        else:
            db.session.commit()
            flash(_("Question added: “%(q)s”.", q=str(ops.text(question.label))), "success")
            return redirect(url_for("questions.builder", call_id=call.id) + f"#q-{question.key}")
    return _page(call, form, status=422)


def _field_error(form, error: ops.QuestionError) -> None:
    name = error.field if error.field in form._fields else "label_en"
    form[name].errors = [*form[name].errors, error.message]


@bp.route("/<int:question_id>", methods=["GET", "POST"])
@roles_required(Role.admin)
def edit(call_id: int, question_id: int):
    call = get_or_404(Call, call_id)
    question = get_or_404(Question, question_id)
    if question.call_id != call.id:
        abort(404)
    if request.method == "GET":
        return _page(call, _question_form(call, question), question=question)
    form = _question_form(call, question, formdata=request.form)
    if form.validate_on_submit():
        try:
            ops.save_question(call, question, _data(form), current_user)
        except ops.QuestionError as error:
            db.session.rollback()
            _field_error(form, error)
        else:
            db.session.commit()
            flash(_("Question saved."), "success")
            return redirect(url_for("questions.builder", call_id=call.id) + f"#q-{question.key}")
    return _page(call, form, question=question, status=422)


@bp.post("/<int:question_id>/move")
@roles_required(Role.admin)
def move(call_id: int, question_id: int):
    question = get_or_404(Question, question_id)
    if question.call_id != call_id:
        abort(404)
    ops.move_question(question, -1 if request.form.get("direction") == "up" else 1)
    db.session.commit()
    return redirect(url_for("questions.builder", call_id=call_id) + f"#q-{question.key}")


@bp.post("/<int:question_id>/remove")
@roles_required(Role.admin)
def remove(call_id: int, question_id: int):
    question = get_or_404(Question, question_id)
    if question.call_id != call_id:
        abort(404)
    try:
        ops.remove_question(question, current_user)
    except ops.QuestionError as error:
        db.session.rollback()
        flash(error.message, "danger")
    else:
        db.session.commit()
        flash(_("Question removed."), "info")
    return redirect(url_for("questions.builder", call_id=call_id))


@bp.post("/sections")
@roles_required(Role.admin)
def add_section(call_id: int):
    call = get_or_404(Call, call_id)
    form = SectionTitleForm()
    if form.validate_on_submit():
        try:
            ops.add_section(
                call,
                {lang: form[f"section_title_{lang}"].data for lang in ("en", "fr", "de")},
                form.section_stage.data,
                current_user,
            )
        except ops.QuestionError as error:
            db.session.rollback()
            form.section_title_en.errors = [error.message]
            return _page(call, _question_form(call), section_form=form, status=422)
        db.session.commit()
        flash(_("Section added."), "success")
    return redirect(url_for("questions.builder", call_id=call.id))


@bp.post("/copy")
@roles_required(Role.admin)
def copy(call_id: int):
    call = get_or_404(Call, call_id)
    form = CopyForm()
    source = db.session.get(Call, form.copy_from.data or 0) if form.validate_on_submit() else None
    if source is None:
        flash(_("Choose the call to copy from."), "danger")
        return redirect(url_for("questions.builder", call_id=call.id))
    try:
        count = ops.copy_questions(source, call, current_user)
    except ops.QuestionError as error:
        db.session.rollback()
        flash(error.message, "danger")
    else:
        db.session.commit()
        flash(_("%(n)s question(s) copied from “%(call)s”.", n=count, call=source.title), "success")
    return redirect(url_for("questions.builder", call_id=call.id))


@bp.get("/preview")
@roles_required(Role.admin)
def preview(call_id: int):
    """The applicant's form as it will look, section by section, in a chosen language."""
    call = get_or_404(Call, call_id)
    language = request.args.get("lang", "en")
    if language not in ("en", "fr", "de"):
        language = "en"
    questions = ops.questions_of(call)
    by_section = {}
    for section in form_sections.all_sections(call):
        asked = [q for q in questions if q.section == section.key.removeprefix(ops.OWN_PREFIX)]
        if asked:
            by_section[section] = asked
    with force_locale("en_GB" if language == "en" else language):
        rendered = []
        for section, asked in by_section.items():
            form = with_questions(QuestionPreviewForm, asked, call)(
                formdata=None, meta={"csrf": False}
            )
            rendered.append(
                (
                    f"{section.number}. {section.title}",
                    [(q, form[ops.field_name(q)]) for q in asked],
                )
            )
        return render_template(
            "questions/preview.html", call=call, rendered=rendered, language=language
        )


class QuestionPreviewForm(BaseForm):
    """The preview's form: only the questions (it is never posted)."""
