"""Scoring rubrics per call: the BPF default as data, the weighted total, editing and copying."""

from __future__ import annotations

import re
from decimal import Decimal

from flask_babel import gettext as _

from tracker.audit.operations import plain, record_change
from tracker.core.db import CENT
from tracker.core.time import utcnow
from tracker.extensions import db
from tracker.programmes.models import Call, Rubric, RubricCriterion

# The BPF's six criteria: weights out of 100, each marked from 0 to 10; two independent scores,
# a third when two totals differ by more than 30 % of the higher.
DEFAULT_CRITERIA = (
    (
        "relevance",
        "Relevance to the call and the SDGs",
        "Does the project answer the call's priorities and serve one or more Sustainable "
        "Development Goals in the partner country? Is the need real and documented?",
        20,
    ),
    (
        "impact",
        "Development impact",
        "Jobs, income, access to services, skills: how many people benefit, how much, and how "
        "credible are the targets? Are women and vulnerable groups reached?",
        25,
    ),
    (
        "viability",
        "Economic viability",
        "Is the business model sound, the budget realistic and the co-financing proportionate? "
        "Can the lead applicant carry its share?",
        20,
    ),
    (
        "innovation",
        "Innovation and additionality",
        "What is new for the market or the sector, and would the project happen without the grant?",
        15,
    ),
    (
        "partners",
        "Partners' capacity",
        "Do the partners have the experience, staff and standing to deliver? Is the role of the "
        "local partner substantial?",
        10,
    ),
    (
        "sustainability",
        "Sustainability",
        "Will the activity continue after the grant, and are its environmental and social "
        "risks managed?",
        10,
    ),
)


class RubricError(Exception):
    """A rubric that cannot be saved; ``field`` names the form field."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


def default_rubric() -> Rubric:
    """The BPF rubric, not attached to any call."""
    rubric = Rubric(scores_required=2, divergence_percent=Decimal("30.00"), threshold=None)
    rubric.criteria = [
        RubricCriterion(
            position=position,
            key=key,
            title=title,
            guidance=guidance,
            weight=Decimal(weight),
            scale_min=0,
            scale_max=10,
        )
        for position, (key, title, guidance, weight) in enumerate(DEFAULT_CRITERIA, start=1)
    ]
    return rubric


def rubric_for(call: Call) -> Rubric:
    """The call's rubric; the default one (unsaved) for a call that has none."""
    return call.rubric if call.rubric is not None else default_rubric()


def ensure_rubric(call: Call) -> Rubric:
    """Give a new call the default rubric (as data it owns, which administrators then edit)."""
    if call.rubric is None:
        call.rubric = default_rubric()
    return call.rubric


def weighted_total(marks: dict[str, int], rubric: dict) -> Decimal:
    """The total out of 100: each mark placed on its scale, weighed by its criterion."""
    criteria = rubric["criteria"]
    weights = sum(Decimal(c["weight"]) for c in criteria)
    if not weights:
        return Decimal("0.00")
    total = sum(
        Decimal(c["weight"]) * Decimal(marks[c["key"]] - c["min"]) / Decimal(c["max"] - c["min"])
        for c in criteria
    )
    return (total * 100 / weights).quantize(CENT)


def rubric_snapshot(rubric: Rubric) -> dict:
    """The rubric as the audit trail shows it, named like the fields of its form."""
    values = {
        "scores_required": plain(rubric.scores_required),
        "divergence_percent": plain(rubric.divergence_percent),
        "threshold": plain(rubric.threshold),
    }
    for index, criterion in enumerate(rubric.criteria):
        for name in ("title", "guidance", "weight", "scale_min", "scale_max"):
            values[f"criteria-{index}-{name}"] = plain(getattr(criterion, name))
    return values


def _key_for(title: str, taken: set[str]) -> str:
    base = re.sub(r"[^a-z0-9]+", "_", title.lower()).strip("_")[:30] or "criterion"
    key, n = base, 2
    while key in taken:
        key, n = f"{base}_{n}", n + 1
    taken.add(key)
    return key


def save_rubric(call: Call, data: dict, actor) -> Rubric:
    """Replace a call's rubric (scores already given keep the copy they were given under)."""
    criteria = [c for c in data.get("criteria", []) if (c.get("title") or "").strip()]
    if not criteria:
        raise RubricError(_("Give at least one criterion."), "criteria")
    for index, c in enumerate(criteria):
        if c.get("weight") is None or c["weight"] <= 0:
            raise RubricError(_("Criterion %(n)s needs a weight above 0.", n=index + 1), "criteria")
        low, high = c.get("scale_min"), c.get("scale_max")
        if low is None or high is None or high <= low:
            raise RubricError(
                _("Criterion %(n)s: the top of the scale must be above its bottom.", n=index + 1),
                "criteria",
            )
    required = data.get("scores_required") or 0
    if not 1 <= required <= 9:
        raise RubricError(_("Between 1 and 9 independent scores."), "scores_required")
    divergence = data.get("divergence_percent")
    if divergence is not None and not Decimal(0) < divergence <= Decimal(100):
        raise RubricError(
            _("A share between 0 and 100 %, or empty for no rule."), "divergence_percent"
        )
    threshold = data.get("threshold")
    if threshold is not None and not Decimal(0) <= threshold <= Decimal(100):
        raise RubricError(_("A mean score out of 100, or empty for none."), "threshold")

    rubric = ensure_rubric(call)
    before = rubric_snapshot(rubric) if rubric.id is not None else None
    rubric.scores_required = required
    rubric.divergence_percent = divergence
    rubric.threshold = threshold
    existing = {c.key: c for c in rubric.criteria}
    taken: set[str] = set()
    kept = []
    for position, c in enumerate(criteria, start=1):
        # A criterion keeps its key while its title stays; renamed, it is another criterion.
        key = c.get("key") if c.get("key") in existing and c.get("key") not in taken else None
        if key is not None and existing[key].title != c["title"].strip():
            key = None
        if key is not None:
            taken.add(key)
            row = existing[key]
        else:
            row = RubricCriterion(key=_key_for(c["title"], taken | set(existing)))
            taken.add(row.key)
        row.position = position
        row.title = c["title"].strip()
        row.guidance = (c.get("guidance") or "").strip()
        row.weight = c["weight"]
        row.scale_min, row.scale_max = c["scale_min"], c["scale_max"]
        kept.append(row)
    rubric.criteria = kept
    rubric.updated_at = utcnow()
    db.session.flush()
    record_change("rubric", call.id, actor=actor, before=before, after=rubric_snapshot(rubric))
    return rubric


def copy_rubric(source: Call, target: Call, actor) -> Rubric:
    """Give a call the rubric of another one (a copy it then owns)."""
    rubric = rubric_for(source)
    return save_rubric(
        target,
        {
            "scores_required": rubric.scores_required,
            "divergence_percent": rubric.divergence_percent,
            "threshold": rubric.threshold,
            "criteria": [
                {
                    "title": c.title,
                    "guidance": c.guidance,
                    "weight": c.weight,
                    "scale_min": c.scale_min,
                    "scale_max": c.scale_max,
                }
                for c in rubric.criteria
            ],
        },
        actor,
    )
