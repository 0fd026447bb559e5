"""Recording changes in the same transaction as the change, and reading them back."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from tracker.audit.models import AuditEntry
from tracker.core.time import utcnow
from tracker.extensions import db

Snapshot = dict[str, str | None]


def plain(value) -> str | None:
    """A value as the text an audit entry keeps (money with two decimals, ISO dates)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, list | tuple | set | frozenset):
        return ", ".join(str(plain(v)) for v in value) if value else None
    text = str(value)
    return text if text != "" else None


def diff(before: Snapshot, after: Snapshot) -> dict[str, list]:
    """The fields whose value differs, as ``{field: [old, new]}``."""
    return {
        key: [before.get(key), after.get(key)]
        for key in list(before) + [k for k in after if k not in before]
        if before.get(key) != after.get(key)
    }


def record_change(
    object_type: str,
    object_id,
    *,
    actor,
    before: Snapshot | None,
    after: Snapshot | None,
    proposal=None,
) -> AuditEntry | None:
    """Add an audit entry for a change (nothing when no field changed).

    ``before`` is None for a creation and ``after`` None for a deletion.
    """
    changes = diff(before or {}, after or {})
    if before is None:
        action = "created"
    elif after is None:
        action = "deleted"
    else:
        action = "updated"
    if not changes and action == "updated":
        return None
    entry = AuditEntry(
        created_at=utcnow(),
        actor_id=getattr(actor, "id", None),
        object_type=object_type,
        object_id=str(object_id),
        action=action,
        proposal_id=getattr(proposal, "id", None),
        proposal_version=getattr(proposal, "version", None),
        changes=changes,
    )
    db.session.add(entry)
    return entry


def entries_for_proposal(proposal_id: int, *, since_version: int | None = None, limit=200):
    """Newest first; with ``since_version`` only what changed after a page at that version."""
    query = (
        sa.select(AuditEntry)
        .where(AuditEntry.proposal_id == proposal_id)
        .options(selectinload(AuditEntry.actor))
        .order_by(AuditEntry.id.desc())
        .limit(limit)
    )
    if since_version is not None:
        query = query.where(AuditEntry.proposal_version >= since_version)
    return list(db.session.scalars(query))


def entries_for_object(object_type: str, object_id, limit=200) -> list[AuditEntry]:
    return list(
        db.session.scalars(
            sa.select(AuditEntry)
            .where(AuditEntry.object_type == object_type, AuditEntry.object_id == str(object_id))
            .options(selectinload(AuditEntry.actor))
            .order_by(AuditEntry.id.desc())
            .limit(limit)
        )
    )


# --- labels ----------------------------------------------------------------------------------

# object_type -> (title, field -> label); registered by the features that record changes.
_LABELS: dict[str, tuple[object, Callable[[str], str]]] = {}


def register_labels(object_type: str, title, labeller: Callable[[str], str]) -> None:
    """Say how an object type and its fields are named on pages."""
    _LABELS[object_type] = (title, labeller)


def _kind(object_type: str) -> str:
    return object_type.split(":", 1)[0] if object_type not in _LABELS else object_type


@dataclass
class ShownChange:
    field: str
    label: str
    old: str | None
    new: str | None


def object_title(object_type: str) -> str:
    title, _labeller = _LABELS.get(_kind(object_type), (object_type, None))
    return str(title)


def shown_changes(entry: AuditEntry) -> list[ShownChange]:
    """The entry's changes with the labels people read."""
    _title, labeller = _LABELS.get(_kind(entry.object_type), (None, None))
    rows = []
    for field, (old, new) in (entry.changes or {}).items():
        label = labeller(field) if labeller else field
        rows.append(ShownChange(field, str(label), old, new))
    return rows


# --- what changed since a page was opened ----------------------------------------------------


@dataclass
class StaleRow:
    """A field someone else saved after the page was opened, beside what this person typed."""

    label: str
    saved: str | None
    yours: str | None
    by: str
    at: datetime
    same_form: bool


def _bound(form, name: str):
    """The bound field named like ``partners-0-country`` in a form, or None."""
    if form is None:
        return None
    head, *rest = name.split("-")
    if head not in form._fields:
        return None
    field = form[head]
    for part in rest:
        if part.isdigit() and hasattr(field, "entries"):
            index = int(part)
            field = field.entries[index] if index < len(field.entries) else None
        elif hasattr(field, "form") and part in field.form._fields:
            field = field.form[part]
        else:
            return None
        if field is None:
            return None
    return field


def _typed(form, posted, name: str) -> str | None:
    if posted is None:
        return None
    values = posted.getlist(name) if hasattr(posted, "getlist") else [posted.get(name)]
    values = [v for v in values if v not in (None, "")]
    field = _bound(form, name)
    choices = {}
    for choice in getattr(field, "choices", None) or []:
        value, label = (choice.value, choice.label) if hasattr(choice, "value") else choice[:2]
        choices[str(value)] = str(label)
    if field is not None and getattr(field, "type", "") == "BooleanField":
        return "yes" if values else "no"
    if not values:
        return None
    return ", ".join(choices.get(v, v) for v in values)


def changes_since(
    proposal_id: int,
    seen_version: int | None,
    *,
    object_type: str | None = None,
    object_id=None,
    form=None,
    posted=None,
) -> list[StaleRow]:
    """What was saved on the proposal after a page at ``seen_version`` was opened.

    For the fields of the form being posted (``object_type``), each row also shows what the
    person typed, so they can choose field by field before saving again.
    """
    if seen_version is None:
        return []
    entries = list(reversed(entries_for_proposal(proposal_id, since_version=seen_version)))
    rows: dict[tuple[str, str], StaleRow] = {}
    for entry in entries:
        title = object_title(entry.object_type)
        for change in shown_changes(entry):
            same = entry.object_type == object_type and (
                object_id is None or entry.object_id == str(object_id)
            )
            label = change.label if same else f"{title}: {change.label}"
            rows[(entry.object_type, change.field)] = StaleRow(
                label=label,
                saved=change.new,
                yours=_typed(form, posted, change.field) if same else None,
                by=entry.actor.name if entry.actor else "",
                at=entry.created_at,
                same_form=same,
            )
    return list(rows.values())
