"""/admin/identity for administrators; the logo for everyone (it is on every page)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from flask import Blueprint, Response, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from tracker.auth.models import Role
from tracker.core.web import roles_required
from tracker.extensions import db
from tracker.identity import operations as ops
from tracker.identity.forms import IdentityForm

bp = Blueprint("identity", __name__)


@bp.route("/admin/identity", methods=["GET", "POST"])
@roles_required(Role.admin)
def edit():
    identity = ops.current_identity()
    form = IdentityForm(
        data={
            "name": identity.name,
            "colour": identity.colour,
            "contact_email": identity.contact_email,
            "contact_text": identity.contact_text,
            "legal_url": identity.legal_url,
            "privacy_url": identity.privacy_url,
        }
    )
    if form.validate_on_submit():
        logo = None
        upload = form.logo.data
        if upload and getattr(upload, "filename", ""):
            logo, problem = _checked_logo(upload)
            if problem:
                form.logo.errors.append(problem)
        if not form.logo.errors:
            values = {
                "name": form.name.data.strip(),
                "colour": form.colour.data.lower(),
                "contact_email": (form.contact_email.data or "").strip(),
                "contact_text": (form.contact_text.data or "").strip(),
                "legal_url": (form.legal_url.data or "").strip(),
                "privacy_url": (form.privacy_url.data or "").strip(),
            }
            ops.save_identity(current_user, values, logo, form.remove_logo.data)
            db.session.commit()
            flash(_("The agency's identity is saved."), "success")
            return redirect(url_for("identity.edit"))
    status = 422 if form.errors else 200
    return render_template("identity/edit.html", form=form, identity=identity), status


def _checked_logo(upload) -> tuple[tuple[bytes, str] | None, str | None]:
    """A PNG or JPEG image, checked by its content and size."""
    from tracker.proposals.storage import ContentRefused, sniff

    data = upload.read(ops.LOGO_MAX_BYTES + 1)
    if len(data) > ops.LOGO_MAX_BYTES:
        return None, _("The logo may be at most 200 KB.")
    with tempfile.NamedTemporaryFile(suffix=".upload") as out:
        out.write(data)
        out.flush()
        try:
            kind = sniff(Path(out.name))
        except ContentRefused:
            kind = None
    if kind is None or kind.key not in ("png", "jpeg"):
        return None, _("The logo must be a PNG or JPEG image.")
    return (data, kind.content_type), None


@bp.get("/identity/logo")
def logo():
    found = ops.logo_of()
    if found is None:
        abort(404)
    data, mimetype = found
    response = Response(data, mimetype=mimetype)
    response.headers["Cache-Control"] = "public, max-age=86400"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
