"""A call's own questions and sections on top of the core form, and the answers to them."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.core.db import UTCDateTime
from tracker.core.enums import RichEnum, enum_column
from tracker.core.time import utcnow
from tracker.extensions import db


class QuestionKind(RichEnum):
    short_text = "short_text"
    long_text = "long_text"
    integer = "integer"
    amount = "amount"
    percent = "percent"
    date = "date"
    yes_no = "yes_no"
    choice = "choice"
    several = "choices"
    country = "country"
    countries = "countries"
    file = "file"

    __titles__ = {
        "short_text": _l("Short text"),
        "long_text": _l("Long text (with a word limit)"),
        "integer": _l("Whole number"),
        "amount": _l("Amount in euros"),
        "percent": _l("Percentage"),
        "date": _l("Date"),
        "yes_no": _l("Yes or no"),
        "choice": _l("One choice"),
        "choices": _l("Several choices"),
        "country": _l("A country"),
        "countries": _l("Countries"),
        "file": _l("A document"),
    }


class Stage(RichEnum):
    concept = "concept"
    full = "full"

    __titles__ = {"concept": _l("Concept note"), "full": _l("Full proposal")}


class CallSection(db.Model):
    """A section of a call's own, after the core sections of the form."""

    __tablename__ = "call_sections"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(sa.ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(sa.String(40))
    position: Mapped[int]
    # {"en": ..., "fr": ..., "de": ...}
    title: Mapped[dict] = mapped_column(sa.JSON)
    stage: Mapped[Stage] = mapped_column(enum_column(Stage, "section_stage"), default=Stage.full)

    __table_args__ = (sa.UniqueConstraint("call_id", "key", name="uq_call_sections_key"),)


class Question(db.Model):
    """One question of a call: where it is asked, its type and limits, when it is shown."""

    __tablename__ = "questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(sa.ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(sa.String(40))
    # A core section key (lead, partners, project, budget, hrdd, documents, declarations) or
    # the key of one of the call's own sections.
    section: Mapped[str] = mapped_column(sa.String(40))
    position: Mapped[int]
    kind: Mapped[QuestionKind] = mapped_column(enum_column(QuestionKind, "question_kind"))
    # Texts by language: {"en": ..., "fr": ..., "de": ...}
    label: Mapped[dict] = mapped_column(sa.JSON)
    help: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    required: Mapped[bool] = mapped_column(default=False)
    stage: Mapped[Stage] = mapped_column(enum_column(Stage, "question_stage"), default=Stage.full)
    # Limits and options by kind: max_length, max_words, minimum, maximum, choices
    # ([{"value": ..., "label": {...}}]), countries (a list; empty: every country), file_types.
    settings: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    # Shown only when another question's answer is one of these: {"question": key, "values": [...]}
    condition: Mapped[dict | None] = mapped_column(sa.JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (sa.UniqueConstraint("call_id", "key", name="uq_questions_key"),)

    def __repr__(self) -> str:
        return f"<Question {self.call_id}:{self.key} {self.kind.value}>"


class Answer(db.Model):
    """An applicant's answer, as canonical text: the value of a choice, an amount with two
    decimals, an ISO date, a JSON list for several choices or countries, a document's id."""

    __tablename__ = "answers"

    proposal_id: Mapped[int] = mapped_column(
        sa.ForeignKey("proposals.id", ondelete="CASCADE"), primary_key=True
    )
    question_id: Mapped[int] = mapped_column(
        sa.ForeignKey("questions.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    value: Mapped[str] = mapped_column(sa.Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    question: Mapped[Question] = relationship()
