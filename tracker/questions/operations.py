"""A call's questions: reading and validating answers, conditions, the kept copy, the builder.

Answers are stored as canonical text (see ``Answer``); ``parse`` turns what a form field holds
into it, ``shown`` turns it back into what people read. A question is *visible* when its
condition holds (another answer is one of the given values); hidden questions are not required
and their answers are left out of what is submitted.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import gettext as _

from tracker.audit.operations import record_change
from tracker.core.countries import country_name
from tracker.core.numbers import format_money, format_percent, format_plain
from tracker.core.time import utcnow
from tracker.core.web import read_once
from tracker.extensions import db
from tracker.questions.models import Answer, CallSection, Question, QuestionKind, Stage
from tracker.workflow.definitions import LocalText

CORE_SECTIONS = ("lead", "partners", "project", "budget", "hrdd", "documents", "declarations")
OWN_PREFIX = "x-"  # the page address of a call's own section: /sections/x-<key>
MULTIPLE = (QuestionKind.several, QuestionKind.countries)
CHOICE_KINDS = (QuestionKind.choice, QuestionKind.several, QuestionKind.yes_no)
DEFAULT_MAX_LENGTH = 200
DEFAULT_MAX_WORDS = 500


class QuestionError(Exception):
    """A question that cannot be saved or removed; ``field`` names the builder's field."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


def text(value: dict | None) -> LocalText:
    """A label given by language, read in the reader's."""
    value = value or {}
    return LocalText({k: v for k, v in value.items() if v} or {"en": ""})


def field_name(question: Question) -> str:
    return f"q_{question.key}"


# --- reading -------------------------------------------------------------------------------


def questions_of(call) -> list[Question]:
    """The call's questions in the order of the form: by section, then position."""

    def load():
        order = {key: n for n, key in enumerate(CORE_SECTIONS)}
        own = {s.key: len(order) + s.position for s in sections_of(call)}
        rows = db.session.scalars(sa.select(Question).where(Question.call_id == call.id))
        return sorted(
            rows, key=lambda q: (order.get(q.section, own.get(q.section, 999)), q.position)
        )

    return read_once(("questions", call.id), load)


def sections_of(call) -> list[CallSection]:
    return read_once(
        ("sections", call.id),
        lambda: list(
            db.session.scalars(
                sa.select(CallSection)
                .where(CallSection.call_id == call.id)
                .order_by(CallSection.position)
            )
        ),
    )


def answers_of(proposal) -> dict[int, str]:
    """The proposal's answers by question id."""
    return dict(
        db.session.execute(
            sa.select(Answer.question_id, Answer.value).where(Answer.proposal_id == proposal.id)
        ).all()
    )


def for_stage(questions: list[Question], stage: str, two_stage: bool) -> list[Question]:
    """The questions a stage asks: in a two-stage call, the concept note asks only its own."""
    if not two_stage or stage == Stage.full.value:
        return list(questions)
    return [q for q in questions if q.stage == Stage.concept]


def values(question: Question, value: str | None) -> list[str]:
    if value is None:
        return []
    if question.kind in MULTIPLE:
        try:
            return list(json.loads(value))
        except ValueError:
            return []
    return [value]


def visible(question: Question, by_key: dict[str, Question], answers: dict[int, str]) -> bool:
    """Whether a question is asked, given the other answers (a chain of conditions too)."""
    seen = set()
    while question.condition:
        source = by_key.get(question.condition.get("question"))
        if source is None or source.key in seen:
            return False
        seen.add(source.key)
        wanted = set(question.condition.get("values") or [])
        if not wanted & set(values(source, answers.get(source.id))):
            return False
        question = source
    return True


# --- answers ---------------------------------------------------------------------------------


def parse(question: Question, data) -> str | None:
    """The canonical text of a form field's value (already checked by the field), or None."""
    kind = question.kind
    if data in (None, "", [], ()):
        return None
    if kind in MULTIPLE:
        return json.dumps(sorted(set(data)))
    if kind in (QuestionKind.amount, QuestionKind.percent):
        return f"{Decimal(data):.2f}"
    if kind == QuestionKind.integer:
        return str(int(data))
    if kind == QuestionKind.date:
        return data.isoformat()
    return str(data).strip() or None


def form_data(question: Question, value: str | None):
    """What a form field shows for a stored answer."""
    if value is None:
        return [] if question.kind in MULTIPLE else None
    kind = question.kind
    if kind in MULTIPLE:
        return values(question, value)
    if kind in (QuestionKind.amount, QuestionKind.percent):
        return Decimal(value)
    if kind == QuestionKind.integer:
        return int(value)
    if kind == QuestionKind.date:
        return date.fromisoformat(value)
    return value


def choice_label(choices: list[dict], value: str) -> str:
    return str(next((text(c["label"]) for c in choices if c["value"] == value), value))


def shown(kind: str, value: str | None, settings: dict | None = None, attachments=None) -> str:
    """An answer as people read it (the kind and settings may come from a kept copy)."""
    if value is None:
        return ""
    settings = settings or {}
    kind = QuestionKind(kind)
    if kind == QuestionKind.amount:
        return format_money(Decimal(value))
    if kind == QuestionKind.percent:
        return format_percent(Decimal(value))
    if kind == QuestionKind.integer:
        return format_plain(int(value), 0)
    if kind == QuestionKind.date:
        from flask_babel import format_date

        return format_date(date.fromisoformat(value), "medium")
    if kind == QuestionKind.yes_no:
        return _("Yes") if value == "yes" else _("No")
    if kind == QuestionKind.choice:
        return choice_label(settings.get("choices", []), value)
    if kind == QuestionKind.several:
        return ", ".join(choice_label(settings.get("choices", []), v) for v in json.loads(value))
    if kind == QuestionKind.country:
        return country_name(value)
    if kind == QuestionKind.countries:
        return ", ".join(country_name(v) for v in json.loads(value))
    if kind == QuestionKind.file:
        attachment = (attachments or {}).get(int(value)) if value.isdigit() else None
        return attachment.filename if attachment else _("(a document)")
    return value


def save_answers(proposal, questions: list[Question], given: dict[str, str | None]) -> dict:
    """Store the answers given (by question key; None clears); returns what changed."""
    by_key = {q.key: q for q in questions}
    existing = {
        a.question_id: a
        for a in db.session.scalars(sa.select(Answer).where(Answer.proposal_id == proposal.id))
    }
    changed = {}
    for key, value in given.items():
        question = by_key.get(key)
        if question is None:
            continue
        row = existing.get(question.id)
        old = row.value if row else None
        if old == value:
            continue
        changed[f"q_{key}"] = [old, value]
        if value is None:
            db.session.delete(row)
        elif row is None:
            db.session.add(Answer(proposal_id=proposal.id, question_id=question.id, value=value))
        else:
            row.value, row.updated_at = value, utcnow()
    return changed


def problems(proposal, questions: list[Question], answers: dict[int, str]) -> list[tuple[str, str]]:
    """Required questions, visible given the other answers, that have no answer yet."""
    by_key = {q.key: q for q in questions_of(proposal.call)}
    return [
        (field_name(q), _("Answer “%(question)s”.", question=str(text(q.label))))
        for q in questions
        if q.required and answers.get(q.id) is None and visible(q, by_key, answers)
    ]


def snapshot(question: Question) -> dict:
    """The question as answered: kept with the submission, so later corrections of the call's
    form never change what a submitted proposal shows."""
    return {
        "key": question.key,
        "section": question.section,
        "kind": question.kind.value,
        "label": dict(question.label),
        "help": dict(question.help or {}),
        "required": question.required,
        "settings": json.loads(json.dumps(question.settings or {})),
    }


def submitted_answers(proposal, stage: str, two_stage: bool) -> dict:
    """The questions asked at this stage and visible, each with its answer (kept copy)."""
    questions = for_stage(questions_of(proposal.call), stage, two_stage)
    by_key = {q.key: q for q in questions_of(proposal.call)}
    answers = answers_of(proposal)
    asked = [q for q in questions if visible(q, by_key, answers)]
    return {
        "questions": [snapshot(q) for q in asked],
        "answers": {q.key: answers[q.id] for q in asked if q.id in answers},
    }


# --- the builder -----------------------------------------------------------------------------


def has_submissions(call) -> bool:
    from tracker.proposals.models import Proposal

    return (
        db.session.scalar(
            sa.select(Proposal.id)
            .where(Proposal.call_id == call.id, Proposal.submitted_at.is_not(None))
            .limit(1)
        )
        is not None
    )


def answered(question: Question) -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(Answer).where(Answer.question_id == question.id)
    )


def _slug(label: str, taken: set[str]) -> str:
    base = re.sub(r"[^a-z0-9]+", "_", (label or "").lower()).strip("_")[:30] or "question"
    key, n = base, 2
    while key in taken:
        key, n = f"{base}_{n}", n + 1
    return key


def question_snapshot(question: Question) -> dict:
    return {
        "section": question.section,
        "kind": question.kind.value,
        "required": "yes" if question.required else "no",
        "stage": question.stage.value,
        **{f"label_{k}": v for k, v in (question.label or {}).items()},
        **{f"help_{k}": v for k, v in (question.help or {}).items()},
        "settings": json.dumps(question.settings or {}, sort_keys=True, ensure_ascii=False),
        "condition": json.dumps(question.condition, sort_keys=True) if question.condition else None,
    }


def save_question(call, question: Question | None, data: dict, actor) -> Question:
    """Add or correct a question. Once the call has submitted proposals a question may be
    corrected (labels, help) but not change meaning: its type stays, and choices that were
    answered stay."""
    label = {
        k: (v or "").strip() for k, v in (data.get("label") or {}).items() if (v or "").strip()
    }
    if not label.get("en"):
        raise QuestionError(
            _("Give the question in English (French and German are optional)."), "label_en"
        )
    kind = QuestionKind(data["kind"])
    section = data["section"]
    own = {s.key for s in sections_of(call)}
    if section not in CORE_SECTIONS and section not in own:
        raise QuestionError(_("Choose the section of the form."), "section")
    settings = dict(data.get("settings") or {})
    if kind in (QuestionKind.choice, QuestionKind.several):
        choices = settings.get("choices") or []
        if len(choices) < 2:
            raise QuestionError(_("Give at least two choices, one per line."), "choices")
        values_ = [c["value"] for c in choices]
        if len(set(values_)) != len(values_):
            raise QuestionError(_("Two choices have the same value."), "choices")
    condition = data.get("condition")
    if condition:
        source = db.session.scalar(
            sa.select(Question).where(
                Question.call_id == call.id, Question.key == condition["question"]
            )
        )
        if source is None or (question is not None and source.id == question.id):
            raise QuestionError(
                _("Choose another question for the condition."), "condition_question"
            )
        if source.kind not in CHOICE_KINDS:
            raise QuestionError(
                _("A condition is on a yes/no or choice question."), "condition_question"
            )
        if not condition.get("values"):
            raise QuestionError(
                _("Choose the answers that show this question."), "condition_values"
            )
    before = question_snapshot(question) if question is not None else None
    if question is not None and has_submissions(call) and answered(question):
        if kind != question.kind:
            raise QuestionError(
                _(
                    "This question has answers in submitted proposals: its type cannot change. "
                    "Add a new question instead."
                ),
                "kind",
            )
        if kind in (QuestionKind.choice, QuestionKind.several):
            kept = {c["value"] for c in settings.get("choices", [])}
            used = set()
            for value in db.session.scalars(
                sa.select(Answer.value).where(Answer.question_id == question.id)
            ):
                used |= set(values(question, value))
            if used - kept:
                raise QuestionError(
                    _(
                        "These choices were answered and cannot go: %(list)s. Correct their "
                        "labels instead.",
                        list=", ".join(sorted(used - kept)),
                    ),
                    "choices",
                )
    if question is None:
        taken = set(db.session.scalars(sa.select(Question.key).where(Question.call_id == call.id)))
        position = (
            db.session.scalar(
                sa.select(sa.func.max(Question.position)).where(
                    Question.call_id == call.id, Question.section == section
                )
            )
            or 0
        ) + 1
        question = Question(
            call_id=call.id, key=_slug(label["en"], taken), section=section, position=position
        )
        db.session.add(question)
    elif question.section != section:
        question.position = (
            db.session.scalar(
                sa.select(sa.func.max(Question.position)).where(
                    Question.call_id == call.id, Question.section == section
                )
            )
            or 0
        ) + 1
    question.section = section
    question.kind = kind
    question.label = label
    question.help = {k: v.strip() for k, v in (data.get("help") or {}).items() if (v or "").strip()}
    question.required = bool(data.get("required"))
    question.stage = Stage(data.get("stage") or "full")
    question.settings = settings
    question.condition = condition or None
    question.updated_at = utcnow()
    db.session.flush()
    record_change(
        "question", question.id, actor=actor, before=before, after=question_snapshot(question)
    )
    return question


def remove_question(question: Question, actor) -> None:
    """Remove a question nobody answered (answered ones are refused, with the reason)."""
    count = answered(question)
    if count:
        raise QuestionError(
            _(
                "%(n)s proposal(s) answered this question: it cannot be removed. Make it "
                "optional, or hide it behind a condition.",
                n=count,
            )
        )
    for other in db.session.scalars(
        sa.select(Question).where(Question.call_id == question.call_id)
    ):
        if other.condition and other.condition.get("question") == question.key:
            raise QuestionError(
                _("“%(other)s” is shown depending on this question.", other=str(text(other.label)))
            )
    record_change(
        "question", question.id, actor=actor, before=question_snapshot(question), after=None
    )
    db.session.delete(question)


def move_question(question: Question, step: int) -> None:
    """One place up (-1) or down (+1) within its section."""
    siblings = list(
        db.session.scalars(
            sa.select(Question)
            .where(Question.call_id == question.call_id, Question.section == question.section)
            .order_by(Question.position)
        )
    )
    index = siblings.index(question)
    other = index + step
    if not 0 <= other < len(siblings):
        return
    siblings[index], siblings[other] = siblings[other], siblings[index]
    for position, item in enumerate(siblings, start=1):
        item.position = position


def add_section(call, title: dict, stage: str = "full", actor=None) -> CallSection:
    title = {k: (v or "").strip() for k, v in title.items() if (v or "").strip()}
    if not title.get("en"):
        raise QuestionError(_("Give the section a title in English."), "section_title_en")
    taken = {s.key for s in sections_of(call)}
    section = CallSection(
        call_id=call.id,
        key=_slug(title["en"], taken)[:30],
        position=len(taken) + 1,
        title=title,
        stage=Stage(stage),
    )
    db.session.add(section)
    db.session.flush()
    record_change("section", section.id, actor=actor, before=None, after={"title": title["en"]})
    return section


def copy_questions(source, target, actor) -> int:
    """Copy another call's sections and questions (of any programme) to this call; the copies
    are the target's own. Returns how many questions were copied."""
    if source.id == target.id:
        raise QuestionError(_("Choose another call to copy from."), "copy_from")
    sections = {}
    for section in sections_of(source):
        copy = add_section(target, dict(section.title), section.stage.value, actor)
        sections[section.key] = copy.key
    taken = set(db.session.scalars(sa.select(Question.key).where(Question.call_id == target.id)))
    keys = {}
    copied = []
    for question in questions_of(source):
        key = question.key if question.key not in taken else _slug(question.key, taken)
        taken.add(key)
        keys[question.key] = key
        copied.append((question, key))
    for question, key in copied:
        condition = dict(question.condition) if question.condition else None
        if condition:
            condition["question"] = keys.get(condition["question"], condition["question"])
        item = Question(
            call_id=target.id,
            key=key,
            section=sections.get(question.section, question.section),
            position=question.position,
            kind=question.kind,
            label=dict(question.label),
            help=dict(question.help or {}),
            required=question.required,
            stage=question.stage,
            settings=json.loads(json.dumps(question.settings or {})),
            condition=condition,
        )
        db.session.add(item)
        db.session.flush()
        record_change("question", item.id, actor=actor, before=None, after=question_snapshot(item))
    return len(copied)


@dataclass
class AnsweredQuestion:
    """A question with its answer, for reading (from the call, or from a kept copy)."""

    key: str
    section: str
    label: str
    answer: str


def read_answers(content: dict, attachments=None) -> list[AnsweredQuestion]:
    """The questions and answers kept with a submission, as people read them."""
    answers = content.get("answers") or {}
    return [
        AnsweredQuestion(
            key=q["key"],
            section=q["section"],
            label=str(text(q["label"])),
            answer=shown(q["kind"], answers.get(q["key"]), q.get("settings"), attachments),
        )
        for q in content.get("questions") or []
    ]
