"""The staff queue: filters kept in the URL, counts per status, sorting, paging and exports.

Every page runs the same small number of queries whatever the number of proposals: one for the
page (with its joins and the mean score as a subquery), one for the total, one for the counts per
status, and one each for the related rows shown (reviewers), loaded for the whole page at once.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import contains_eager, load_only

from tracker.auth.models import Role, User, UserRole
from tracker.core import generation, search, tally
from tracker.extensions import db
from tracker.programmes.models import Call, Programme, Sector
from tracker.proposals.models import Proposal
from tracker.questions.models import Answer, Question
from tracker.review import access
from tracker.review.models import ReviewerAssignment, Score
from tracker.workflow.definitions import states_in_group, workflows

REFERENCE = re.compile(r"[A-Za-z0-9]+-\d{4}-\d{3,}")
SORTS = {
    "submitted": Proposal.submitted_at,
    "reference": Proposal.reference,
    "title": Proposal.title,
    "status": Proposal.status,
    "updated": Proposal.updated_at,
    "requested": Proposal.requested_eur,
}
PAGE_SIZES = (25, 50, 100)


@dataclass
class QueueFilter:
    """What the queue shows; read from and written back to the URL's query string."""

    programme: int | None = None
    call: int | None = None
    status: str | None = None
    sector: int | None = None
    country: str | None = None
    reviewer: int | None = None
    q: str = ""
    sort: str = "submitted"
    desc: bool = True
    page: int = 1
    per_page: int = 25
    # Answers to the filtered call's choice questions: {question key: value} (a_<key>=value).
    answers: dict[str, str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    # Who looks: the queue and its exports hold only the proposals this person may see.
    viewer: Any = None

    @classmethod
    def from_args(cls, args, viewer=None) -> QueueFilter:
        """Parse query arguments; anything malformed is ignored and reported, never a 500."""
        result = cls(viewer=viewer)

        def integer(name):
            raw = args.get(name, "").strip()
            if not raw:
                return None
            if raw.isdigit() and len(raw) < 10:
                return int(raw)
            result.errors.append(name)
            return None

        result.programme = integer("programme")
        result.call = integer("call")
        result.sector = integer("sector")
        result.reviewer = integer("reviewer")
        result.status = args.get("status", "").strip() or None
        country = args.get("country", "").strip().upper()
        result.country = country[:2] if country else None
        result.q = args.get("q", "").strip()[:100]
        sort = args.get("sort", "submitted")
        result.sort = sort if sort in SORTS else "submitted"
        result.desc = args.get("dir", "desc") != "asc"
        result.page = max(integer("page") or 1, 1)
        per_page = integer("per_page") or 25
        result.per_page = per_page if per_page in PAGE_SIZES else 25
        if result.call:
            for name in args:
                value = args.get(name, "").strip()
                if name.startswith("a_") and value and len(result.answers) < 5:
                    result.answers[name[2:][:40]] = value[:100]
        return result


def queue_states() -> dict:
    """The states staff see, in the order of the workflows' files (for the status tabs)."""
    states: dict = {}
    for workflow in workflows().values():
        hidden = workflow.group("hidden_from_staff")
        for key in workflow.ordered_states():
            if key not in hidden:
                states.setdefault(key, workflow.states[key])
    return states


def _filtered(f: QueueFilter, *, with_status: bool = True):
    """The WHERE clauses of the filter (staff never see drafts)."""
    clauses = [Proposal.status.not_in(states_in_group("hidden_from_staff"))]
    if f.viewer is not None and not access.sees_everything(f.viewer):
        clauses.append(access.visible_to(f.viewer))
    if f.call:
        clauses.append(Proposal.call_id == f.call)
    if f.programme:
        clauses.append(
            Proposal.call_id.in_(sa.select(Call.id).where(Call.programme_id == f.programme))
        )
    if with_status and f.status:
        clauses.append(Proposal.status == f.status)
    if f.sector:
        clauses.append(Proposal.sector_id == f.sector)
    if f.country:
        clauses.append(Proposal.partner_country == f.country)
    if f.reviewer:
        clauses.append(
            sa.exists().where(
                ReviewerAssignment.proposal_id == Proposal.id,
                ReviewerAssignment.reviewer_id == f.reviewer,
            )
        )
    for key, value in f.answers.items():
        # One choice is stored as its value, several as a JSON list.
        clauses.append(
            sa.exists()
            .where(
                Answer.proposal_id == Proposal.id,
                Answer.question_id == Question.id,
                Question.call_id == f.call,
                Question.key == key,
            )
            .where(
                sa.or_(Answer.value == value, Answer.value.like(f'%"{_like(value)}"%', escape="\\"))
            )
        )
    if f.q and REFERENCE.fullmatch(f.q.strip()):
        # A full reference finds its proposal through the unique index.
        clauses.append(Proposal.reference == f.q.strip().upper())
    elif f.q:
        # Reference, title, company and summary, through the search index (tracker.core.search).
        clauses.append(search.matches(Proposal.id, f.q, db.engine.dialect.name))
    return clauses


def _like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_").replace('"', "")


def mean_score_column():
    return (
        sa.select(sa.func.avg(Score.total))
        .where(Score.proposal_id == Proposal.id)
        .correlate(Proposal)
        .scalar_subquery()
    )


def _ordered(query, f: QueueFilter):
    column = SORTS[f.sort]
    # No explicit NULLS ordering: that would stop PostgreSQL from walking the column's index.
    order = column.desc() if f.desc else column.asc()
    return query.order_by(order, Proposal.id.desc() if f.desc else Proposal.id)


# The columns a queue row shows (a proposal row is wide: summaries, JSON, texts).
ROW_COLUMNS = (
    Proposal.id,
    Proposal.version,
    Proposal.reference,
    Proposal.title,
    Proposal.lead_name,
    Proposal.status,
    Proposal.partner_country,
    Proposal.requested_eur,
    Proposal.submitted_at,
    Proposal.call_id,
    Proposal.sector_id,
)


def _rows_for(ids: list[int]) -> list:
    """The queue rows of these proposals, in this order: the narrow columns, the call, the
    programme, the sector, the mean score of the 50 and nothing else."""
    if not ids:
        return []
    found = {
        proposal.id: (proposal, mean)
        for proposal, mean in db.session.execute(
            sa.select(Proposal, mean_score_column().label("mean_score"))
            .join(Proposal.call)
            .join(Call.programme)
            .outerjoin(Proposal.sector)
            .where(Proposal.id.in_(ids))
            .options(
                load_only(*ROW_COLUMNS),
                contains_eager(Proposal.call).contains_eager(Call.programme),
                contains_eager(Proposal.sector),
            )
        )
    }
    return [found[i] for i in ids if i in found]


@dataclass
class QueuePage:
    rows: list[tuple[Proposal, object]]
    total: int
    counts: dict[str, int]
    reviewers: dict[int, list[User]]

    def pages(self, per_page: int) -> int:
        return max((self.total + per_page - 1) // per_page, 1)


# Counts per status and rendered pages, kept per process for a filter and a generation of the
# data (tracker.core.generation): any committed change moves it, in every process.
_COUNTS: OrderedDict = OrderedDict()
_COUNTS_KEPT = 256


def _viewer_scope(viewer) -> tuple:
    if viewer is None:
        return ()
    return (viewer.id, tuple(sorted((r.role.value, r.programme_id or 0) for r in viewer.role_rows)))


def _tallied(f: QueueFilter) -> bool:
    """Whether the database's own counts (tracker.core.tally: per call, sector and status)
    answer for this filter: a viewer who sees every proposal, by programme, call or sector."""
    if f.viewer is not None and not access.sees_everything(f.viewer):
        return False
    return not (f.country or f.reviewer or f.answers or (f.q or "").strip())


def status_counts(f: QueueFilter) -> dict[str, int]:
    """How many proposals of the filter are in each status (the tabs and the total): from the
    database's counts where they answer, else one grouped count; read again only when the data
    changed."""

    def count() -> dict[str, int]:
        if _tallied(f):
            calls = None
            if f.call:
                calls = [f.call]
            elif f.programme:
                calls = sa.select(Call.id).where(Call.programme_id == f.programme)
            return tally.counts(
                db.session.connection(),
                hidden=states_in_group("hidden_from_staff"),
                calls=calls,
                sector=f.sector,
            )
        return dict(
            db.session.execute(
                sa.select(Proposal.status, sa.func.count())
                .where(*_filtered(f, with_status=False))
                .group_by(Proposal.status)
            ).all()
        )

    state = generation.data_state()
    if state is None:
        return count()
    key = (
        state,
        _viewer_scope(f.viewer),
        f.programme,
        f.call,
        f.sector,
        f.country,
        f.reviewer,
        tuple(sorted(f.answers.items())) if f.answers else (),
        (f.q or "").strip(),
    )
    if key in _COUNTS:
        _COUNTS.move_to_end(key)
        return dict(_COUNTS[key])
    counts = count()
    _COUNTS[key] = counts
    while len(_COUNTS) > _COUNTS_KEPT:
        _COUNTS.popitem(last=False)
    return dict(counts)


def load_page(f: QueueFilter) -> QueuePage:
    """One page of the queue with its totals (a constant number of queries)."""
    counts = status_counts(f)
    total = counts.get(f.status, 0) if f.status else sum(counts.values())
    pages = max((total + f.per_page - 1) // f.per_page, 1)
    f.page = min(f.page, pages)
    # The page's ids first, over the narrow sort and filter columns (an index where there is
    # one), then their rows: a deep page no longer walks and joins every wide row before it.
    # A page in the second half is read from the end, in the opposite order, so the last page
    # skips as few index entries as the first.
    start = (f.page - 1) * f.per_page
    end = min(start + f.per_page, total)
    backwards = start > total // 2
    ids = list(
        db.session.scalars(
            _ordered(
                sa.select(Proposal.id).where(*_filtered(f)),
                replace(f, desc=not f.desc) if backwards else f,
            )
            .limit(end - start if backwards else f.per_page)
            .offset(total - end if backwards else start)
        )
    )
    if backwards:
        ids.reverse()
    rows = _rows_for(ids)
    reviewers: dict[int, list[User]] = {i: [] for i in ids}
    if ids:
        for proposal_id, user in db.session.execute(
            sa.select(ReviewerAssignment.proposal_id, User)
            .join(User, User.id == ReviewerAssignment.reviewer_id)
            .where(ReviewerAssignment.proposal_id.in_(ids))
            .order_by(User.name)
        ):
            reviewers[proposal_id].append(user)
    return QueuePage(rows=rows, total=total, counts=counts, reviewers=reviewers)


class ExportRow:
    """A row of the export with the answers to the filtered call's questions beside it."""

    def __init__(self, row, answers: dict):
        self._row = row
        self.answers = answers

    def __getattr__(self, name):
        return getattr(self._row, name)


def iter_export_with_answers(f: QueueFilter, questions: list, batch: int = 2000) -> Iterator:
    """The export's rows, each with its answers (one query for every ``batch`` rows)."""
    ids = [q.id for q in questions]
    pending = []

    def flush():
        if not pending:
            return []
        found: dict[int, dict] = {row.id: {} for row in pending}
        for proposal_id, question_id, value in db.session.execute(
            sa.select(Answer.proposal_id, Answer.question_id, Answer.value).where(
                Answer.proposal_id.in_(list(found)), Answer.question_id.in_(ids)
            )
        ):
            found[proposal_id][question_id] = value
        rows = [ExportRow(row, found[row.id]) for row in pending]
        pending.clear()
        return rows

    for row in iter_export(f, batch=batch, with_id=True):
        pending.append(row)
        if len(pending) >= batch:
            yield from flush()
    yield from flush()


def export_query(query: sa.Select, f: QueueFilter) -> sa.Select:
    """``query``'s columns over the proposals of the filter, in the queue's order."""
    query = (
        query.select_from(Proposal)
        .join(Proposal.call)
        .join(Call.programme)
        .outerjoin(Proposal.sector)
        .where(*_filtered(f))
    )
    return _ordered(query, f)


def iter_export(f: QueueFilter, batch: int = 5000, with_id: bool = False) -> Iterator:
    """Every row of the filter as plain rows (no ORM objects), streamed in batches."""
    query = export_query(
        sa.select(
            *((Proposal.id,) if with_id else ()),
            Proposal.reference,
            Proposal.title,
            Programme.code.label("programme"),
            Call.title.label("call"),
            Proposal.status,
            Proposal.lead_name,
            Proposal.lead_country,
            Proposal.partner_country,
            Sector.label.label("sector"),
            Proposal.total_cost_eur,
            Proposal.requested_eur,
            Proposal.granted_eur,
            # Rounded by the database, as the CSV written by the database shows it.
            sa.func.round(mean_score_column(), 2).label("mean_score"),
            Proposal.submitted_at,
            Proposal.updated_at,
        ),
        f,
    )
    yield from db.session.execute(query.execution_options(yield_per=batch))


@dataclass
class FilterChoices:
    programmes: list
    calls: list
    sectors: list
    reviewers: list
    questions: list = field(default_factory=list)  # the filtered call's choice questions


def filter_choices(f: QueueFilter | None = None) -> FilterChoices:
    """The options of the filter form (a few small queries)."""
    questions = []
    if f is not None and f.call:
        questions = list(
            db.session.scalars(
                sa.select(Question)
                .where(
                    Question.call_id == f.call,
                    Question.kind.in_(("choice", "choices", "yes_no")),
                )
                .order_by(Question.section, Question.position)
            )
        )
    return FilterChoices(
        questions=questions,
        programmes=list(db.session.scalars(sa.select(Programme).order_by(Programme.code))),
        calls=list(
            db.session.execute(
                sa.select(Call.id, Call.title, Programme.code)
                .join(Call.programme)
                .order_by(Call.opens_at.desc())
            )
        ),
        sectors=list(db.session.scalars(sa.select(Sector).order_by(Sector.position, Sector.label))),
        reviewers=list(
            db.session.scalars(
                sa.select(User)
                .where(
                    User.active.is_(True),
                    User.id.in_(
                        sa.select(UserRole.user_id).where(
                            UserRole.role.in_((Role.reviewer, Role.evaluator))
                        )
                    ),
                )
                .order_by(User.name)
            )
        ),
    )
