"""The notifications page."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user, login_required

from tracker.extensions import db
from tracker.notifications.operations import mark_all_read, recent_for

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
