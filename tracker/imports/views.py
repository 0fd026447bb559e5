"""Historical import in the web interface: upload, preview the errors or the changes, confirm."""

from __future__ import annotations

import hashlib
import secrets
from pathlib import Path

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField

from tracker.auth.models import Role
from tracker.core.forms import BaseForm
from tracker.core.web import roles_required
from tracker.extensions import db
from tracker.imports import operations as ops

bp = Blueprint("imports", __name__, url_prefix="/admin/import")
PREVIEW_ROWS = 50


class UploadForm(BaseForm):
    file = FileField(_l("CSV file"), validators=[FileRequired(_l("Choose a CSV file."))])


class ConfirmForm(BaseForm):
    token = HiddenField()
    digest = HiddenField()


def _staging() -> Path:
    folder = Path(current_app.instance_path) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _staged(token: str) -> Path | None:
    if not token or not token.replace("-", "").replace("_", "").isalnum():
        return None
    path = _staging() / f"{token}.csv"
    return path if path.is_file() else None


@bp.route("/", methods=["GET", "POST"])
@roles_required(Role.admin)
def upload():
    form = UploadForm()
    if form.validate_on_submit():
        data = form.file.data.read(current_app.config["MAX_CONTENT_LENGTH"] + 1)
        try:
            text = ops.decode(data)
        except UnicodeDecodeError:
            form.file.errors.append(
                _("The file is not UTF-8 text. Save it as “CSV UTF-8” and try again.")
            )
            return render_template("imports/upload.html", form=form), 422
        plan = ops.plan_import(text)
        token = secrets.token_urlsafe(16)
        if plan.ok and plan.create:
            (_staging() / f"{token}.csv").write_bytes(data)
        return render_template(
            "imports/preview.html",
            plan=plan,
            filename=form.file.data.filename,
            preview=plan.create[:PREVIEW_ROWS],
            confirm=ConfirmForm(token=token, digest=hashlib.sha256(data).hexdigest()),
        ), (200 if plan.ok else 422)
    return render_template("imports/upload.html", form=form), (422 if form.errors else 200)


@bp.post("/confirm")
@roles_required(Role.admin)
def confirm():
    form = ConfirmForm()
    path = _staged(form.token.data) if form.validate_on_submit() else None
    if path is None:
        flash(_("This import is no longer available; upload the file again."), "warning")
        return redirect(url_for("imports.upload"))
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != form.digest.data:
        flash(_("The staged file changed; upload it again."), "danger")
        return redirect(url_for("imports.upload"))
    # Checked again: the tracker may have changed since the preview.
    plan = ops.plan_import(ops.decode(data))
    if not plan.ok:
        return render_template(
            "imports/preview.html", plan=plan, filename=path.name, preview=[], confirm=None
        ), 422
    outcomes = ops.execute(plan, actor_id=current_user.id)
    db.session.commit()
    path.unlink(missing_ok=True)
    summary = ", ".join(f"{n} {outcome}" for outcome, n in outcomes.items())
    flash(
        _(
            "Imported %(n)s proposals (%(summary)s); %(same)s unchanged.",
            n=len(plan.create),
            summary=summary,
            same=len(plan.unchanged),
        ),
        "success",
    )
    return redirect(url_for("imports.upload"))
