"""A proposal's history as a timeline: plain language for applicants, everything for staff."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from tracker.extensions import db
from tracker.workflow.definitions import CREATE, IMPORT, get_workflow
from tracker.workflow.models import StatusChange


@dataclass
class Entry:
    at: datetime
    title: str
    from_status: str | None
    to_status: str
    actor: str
    comment: str
    note: str
    imported: bool
    transition: str
    change_id: int
    seq: int
    attachments: list


def history_rows(proposal_id: int) -> list[StatusChange]:
    return list(
        db.session.scalars(
            sa.select(StatusChange)
            .where(StatusChange.proposal_id == proposal_id)
            .order_by(StatusChange.seq)
            .options(selectinload(StatusChange.actor))
        )
    )


def timeline(proposal, *, for_applicant: bool) -> list[Entry]:
    """Newest first. Applicants see public steps only, never internal notes or staff names."""
    workflow = get_workflow(proposal.call.workflow_key)
    attachments_by_change: dict[int, list] = {}
    for attachment in proposal.attachments:
        if attachment.status_change_id:
            attachments_by_change.setdefault(attachment.status_change_id, []).append(attachment)
    entries = []
    for row in history_rows(proposal.id):
        transition = workflow.transitions.get(row.transition)
        if for_applicant and transition is not None and not transition.public:
            continue
        if row.transition == CREATE:
            title = _("Draft created")
        elif transition is not None:
            title = str(transition.history_label or transition.label)
        elif row.transition == IMPORT or row.imported:
            state = workflow.states.get(row.to_status)
            title = _(
                "%(state)s (imported history)", state=str(state.label) if state else row.to_status
            )
        else:
            title = row.transition
        if for_applicant:
            actor = (
                _("Agency")
                if row.actor and row.actor.organisation_id != proposal.organisation_id
                else (row.actor.name if row.actor else "")
            )
        else:
            actor = row.actor.name if row.actor else _("Import")
        entries.append(
            Entry(
                at=row.created_at,
                title=title,
                from_status=row.from_status,
                to_status=row.to_status,
                actor=actor,
                comment=row.comment,
                note="" if for_applicant else row.internal_note,
                imported=row.imported,
                transition=row.transition,
                change_id=row.id,
                seq=row.seq,
                attachments=attachments_by_change.get(row.id, []),
            )
        )
    entries.reverse()
    return entries
