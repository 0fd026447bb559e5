"""The messages page, each person's choice of how they hear of things, and the outbox for
administrators (failed e-mails, sent again on request)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from tracker.audit.operations import record_change
from tracker.core.forms import BaseForm
from tracker.core.web import roles_required
from tracker.extensions import db
from tracker.notifications.mail import send_again
from tracker.notifications.models import Delivery, Kind, OutboxMessage, OutboxStatus
from tracker.notifications.operations import (
    SHARED_KINDS,
    STAFF_KINDS,
    mark_all_read,
    preferences_of,
    recent_for,
    set_preferences,
)

bp = Blueprint("notifications", __name__, url_prefix="/notifications")


@bp.get("/")
@login_required
def index():
    notes = recent_for(current_user)
    return render_template("notifications/index.html", notes=notes)


@bp.post("/read")
@login_required
def read_all():
    mark_all_read(current_user)
    db.session.commit()
    return redirect(url_for("notifications.index"))


def _kinds_for(user) -> list[Kind]:
    """The kinds a person can receive: staff kinds for staff, the applicant's for applicants."""
    kinds = []
    for kind in Kind:
        if kind == Kind.account:
            continue
        if kind.value in SHARED_KINDS:
            kinds.append(kind)
            continue
        if kind.value in STAFF_KINDS and not user.is_staff:
            continue
        if kind.value not in STAFF_KINDS and not user.is_applicant:
            continue
        kinds.append(kind)
    return kinds


@bp.route("/preferences", methods=["GET", "POST"])
@login_required
def preferences():
    kinds = _kinds_for(current_user)
    form = BaseForm()
    chosen = preferences_of(current_user)
    if request.method == "POST" and form.validate_on_submit():
        choices = {}
        for kind in kinds:
            value = request.form.get(f"kind-{kind.value}", "")
            if value not in {d.value for d in Delivery}:
                flash(_("Choose how you hear of “%(kind)s”.", kind=kind.title), "danger")
                return _preferences_page(form, kinds, chosen), 400
            choices[kind.value] = value
        set_preferences(current_user, choices)
        db.session.commit()
        flash(_("Your choices are saved."), "success")
        return redirect(url_for("notifications.preferences"))
    return _preferences_page(form, kinds, chosen)


def _preferences_page(form, kinds, chosen):
    return render_template(
        "notifications/preferences.html",
        form=form,
        kinds=kinds,
        chosen=chosen,
        deliveries=list(Delivery),
    )


# --- the outbox (administrators) -------------------------------------------------------------

PAGE = 50


@bp.get("/outbox")
@roles_required("admin")
def outbox():
    wanted = request.args.get("status", "failed")
    if wanted not in {s.value for s in OutboxStatus}:
        wanted = "failed"
    try:
        before = int(request.args.get("before", "0")) or None
    except ValueError:
        before = None
    query = sa.select(OutboxMessage).where(OutboxMessage.status == OutboxStatus(wanted))
    if before:
        query = query.where(OutboxMessage.id < before)
    rows = list(db.session.scalars(query.order_by(OutboxMessage.id.desc()).limit(PAGE + 1)))
    more = len(rows) > PAGE
    counts = dict(
        db.session.execute(
            sa.select(OutboxMessage.status, sa.func.count()).group_by(OutboxMessage.status)
        ).all()
    )
    return render_template(
        "notifications/outbox.html",
        rows=rows[:PAGE],
        more=more,
        wanted=wanted,
        counts={s.value: counts.get(s, 0) for s in OutboxStatus},
        statuses=list(OutboxStatus),
        form=BaseForm(),
    )


@bp.post("/outbox/<int:message_id>/again")
@roles_required("admin")
def outbox_again(message_id: int):
    form = BaseForm()
    if not form.validate_on_submit():
        abort(400)
    message = db.session.get(OutboxMessage, message_id)
    if message is None:
        abort(404)
    if message.status != OutboxStatus.failed:
        flash(_("Only a failed message can be sent again."), "warning")
        return redirect(url_for("notifications.outbox"))
    send_again(message)
    record_change(
        "outbox",
        message.id,
        actor=current_user,
        before={"status": "failed"},
        after={"status": "pending", "to": message.to_address},
    )
    db.session.commit()
    flash(_("The message to %(to)s goes out again.", to=message.to_address), "success")
    return redirect(url_for("notifications.outbox"))
