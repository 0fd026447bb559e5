"""Sign-in, registration, passwords, the organisation page and user administration."""

from __future__ import annotations

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from tracker.audit.operations import entries_for_object
from tracker.auth import operations as ops
from tracker.auth.forms import (
    AcceptInvitationForm,
    InviteForm,
    LoginForm,
    PasswordForm,
    RegisterForm,
    UserForm,
    UserRolesForm,
)
from tracker.auth.models import Invitation, Organisation, Role, User
from tracker.core.web import STASH_KEY, applicant_required, get_or_404, roles_required, safe_next
from tracker.extensions import db, limiter

bp = Blueprint("auth", __name__)


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _register_limit() -> str:
    return current_app.config["REGISTER_RATE_LIMIT"]


def _failed(response) -> bool:
    """Only attempts that did not succeed count against the limit (a success redirects)."""
    return response.status_code != 302


def _start_session(user: User) -> None:
    """Sign in on a fresh server-side session (committed here, so the cookie names a real row)."""
    stash = session.get(STASH_KEY)
    locale = session.get("locale")
    session.clear()  # a fresh session on sign-in (no fixation)
    if stash:
        session[STASH_KEY] = stash
    if locale:
        session["locale"] = locale
    ops.start_session(
        user,
        user_agent=request.headers.get("User-Agent", ""),
        ip_address=request.remote_addr or "",
    )
    db.session.commit()
    login_user(user)


@bp.route("/login", methods=["GET", "POST"])
# Only failed attempts count (a successful sign-in redirects).
@limiter.limit(_login_limit, methods=["POST"], deduct_when=_failed)
def login():
    if current_user.is_authenticated:
        return redirect(url_for("proposals.dashboard"))
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        user = ops.authenticate(form.email.data, form.password.data)
        if user is None:
            form.password.errors.append(_("The e-mail or the password is not right."))
        else:
            db.session.commit()
            _start_session(user)
            if user.must_change_password:
                flash(_("Choose your own password to replace the one-time password."), "warning")
                return redirect(url_for("auth.password"))
            return redirect(safe_next(form.next.data, url_for("proposals.dashboard")))
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
def logout():
    if current_user.is_authenticated:
        ops.end_session(current_user.current_session)
        db.session.commit()
    stash = session.get(STASH_KEY)  # a kept form waits for its owner, whoever signs in next
    logout_user()
    session.clear()
    if stash:
        session[STASH_KEY] = stash
    flash(_("You are signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.get("/account")
@login_required
def account():
    return render_template(
        "auth/account.html",
        sessions=ops.active_sessions(current_user),
        current=current_user.current_session,
    )


@bp.post("/account/sessions/end-all")
@login_required
def end_all_sessions():
    ended = ops.end_sessions(current_user)
    db.session.commit()
    logout_user()
    session.clear()
    flash(
        _("You are signed out on every device (%(n)s sessions ended).", n=ended),
        "info",
    )
    return redirect(url_for("auth.login"))


@bp.post("/account/sessions/<int:session_id>/end")
@login_required
def end_one_session(session_id: int):
    row = next((s for s in ops.active_sessions(current_user) if s.id == session_id), None)
    if row is None:
        abort(404)
    ops.end_session(row)
    db.session.commit()
    if current_user.current_session is not None and row.id == current_user.current_session.id:
        logout_user()
        session.clear()
        flash(_("You are signed out."), "info")
        return redirect(url_for("auth.login"))
    flash(_("That session was ended."), "success")
    return redirect(url_for("auth.account"))


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(_register_limit, methods=["POST"])
def register():
    if current_user.is_authenticated:
        return redirect(url_for("proposals.dashboard"))
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            user = ops.register_applicant(
                email=form.email.data,
                name=form.name.data,
                password=form.password.data,
                organisation_name=form.organisation.data,
                country=form.country.data,
            )
        except ops.AccountError as error:
            db.session.rollback()
            form[error.field or "email"].errors.append(error.message)
        else:
            db.session.commit()
            _start_session(user)
            flash(_("Welcome! Your account and your company are registered."), "success")
            return redirect(url_for("proposals.dashboard"))
    return render_template("auth/register.html", form=form)


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
@limiter.limit(_login_limit, methods=["POST"], deduct_when=_failed)
def password():
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            ops.change_password(current_user, form.current_password.data, form.password.data)
        except ops.AccountError as error:
            db.session.rollback()
            form[error.field or "password"].errors.append(error.message)
        else:
            db.session.commit()
            flash(
                _("Your password was changed. Other sessions of your account were signed out."),
                "success",
            )
            return redirect(url_for("proposals.dashboard"))
    return render_template("auth/password.html", form=form)


@bp.post("/language")
def language():
    choice = request.form.get("locale", "")
    if choice in current_app.config["LANGUAGES"]:
        session["locale"] = choice
    return redirect(safe_next(request.form.get("next"), url_for("proposals.dashboard")))


# --- the organisation ------------------------------------------------------------------------


@bp.route("/organisation", methods=["GET", "POST"])
@applicant_required
def organisation():
    organisation = current_user.organisation
    form = InviteForm()
    link = None
    if form.validate_on_submit():
        try:
            _invitation, token = ops.create_invitation(current_user, form.email.data)
        except ops.AccountError as error:
            db.session.rollback()
            form.email.errors.append(error.message)
        else:
            db.session.commit()
            link = url_for("auth.accept_invitation", token=token, _external=True)
            flash(
                _(
                    "Invitation created. Pass the link below to your colleague; it is shown only once."
                ),
                "success",
            )
            form = InviteForm(formdata=None)
    return render_template(
        "auth/organisation.html",
        organisation=organisation,
        members=ops.organisation_members(organisation),
        invitations=ops.pending_invitations(organisation),
        form=form,
        link=link,
    )


@bp.post("/organisation/invitations/<int:invitation_id>/revoke")
@applicant_required
def revoke_invitation(invitation_id: int):
    invitation = get_or_404(Invitation, invitation_id)
    if invitation.organisation_id != current_user.organisation_id:
        abort(404)
    ops.revoke_invitation(invitation, current_user)
    db.session.commit()
    flash(_("The invitation was revoked."), "info")
    return redirect(url_for("auth.organisation"))


@bp.route("/invitations/<token>", methods=["GET", "POST"])
def accept_invitation(token: str):
    invitation = ops.find_invitation(token)
    if invitation is None:
        return render_template("auth/invitation_invalid.html"), 404
    if current_user.is_authenticated:
        flash(_("Sign out first to accept an invitation for a new account."), "warning")
        return redirect(url_for("proposals.dashboard"))
    form = AcceptInvitationForm(email=invitation.email)
    if form.validate_on_submit():
        try:
            user = ops.accept_invitation(
                invitation, email=form.email.data, name=form.name.data, password=form.password.data
            )
        except ops.AccountError as error:
            db.session.rollback()
            form[error.field or "email"].errors.append(error.message)
        else:
            db.session.commit()
            _start_session(user)
            flash(
                _("Welcome! You have joined %(org)s.", org=invitation.organisation.name), "success"
            )
            return redirect(url_for("proposals.dashboard"))
    return render_template("auth/accept_invitation.html", form=form, invitation=invitation)


# --- user administration ---------------------------------------------------------------------


@bp.get("/admin/users")
@roles_required(Role.admin)
def users():
    text = request.args.get("q", "").strip()
    query = sa.select(User).order_by(User.name).limit(200)
    if text:
        like = f"%{text.lower()}%"
        query = query.where(sa.or_(sa.func.lower(User.name).like(like), User.email.like(like)))
    people = list(db.session.scalars(query.options(sa.orm.selectinload(User.organisation))))
    return render_template("auth/users.html", users=people, q=text)


@bp.route("/admin/users/new", methods=["GET", "POST"])
@roles_required(Role.admin)
def create_user():
    form = UserForm(organisation_id=request.args.get("organisation_id", ""))
    joining = None
    if (form.organisation_id.data or "").isdigit():
        joining = db.session.get(Organisation, int(form.organisation_id.data))
        if joining is None:
            abort(404)
    if form.validate_on_submit():
        try:
            user, generated = ops.create_user(
                email=form.email.data,
                name=form.name.data,
                roles=form.roles.data,
                organisation_name=None if joining else (form.organisation.data or None),
                organisation_id=joining.id if joining else None,
                allow_duplicate_name=form.new_organisation.data,
                actor=current_user,
            )
        except ops.AccountError as error:
            db.session.rollback()
            form[error.field or "email"].errors.append(error.message)
        else:
            db.session.commit()
            return render_template("auth/user_created.html", user=user, password=generated)
    return render_template("auth/user_form.html", form=form, joining=joining)


@bp.get("/admin/organisations")
@roles_required(Role.admin)
def organisations():
    text = request.args.get("q", "").strip()[:100]
    members = (
        sa.select(sa.func.count(User.id))
        .where(User.organisation_id == Organisation.id)
        .correlate(Organisation)
        .scalar_subquery()
    )
    query = sa.select(Organisation, members.label("members")).order_by(
        sa.func.lower(Organisation.name), Organisation.id
    )
    duplicates = ops.duplicate_organisation_ids()
    if text:
        query = query.where(sa.func.lower(Organisation.name).like(f"%{text.lower()}%"))
    elif request.args.get("duplicates"):
        query = query.where(Organisation.id.in_(duplicates or {0}))
    rows = db.session.execute(query.limit(300)).all()
    return render_template("auth/organisations.html", rows=rows, duplicates=duplicates, q=text)


@bp.route("/admin/users/<int:user_id>", methods=["GET", "POST"])
@roles_required(Role.admin)
def edit_user(user_id: int):
    user = get_or_404(User, user_id)
    form = UserRolesForm(obj=None, roles=[r.value for r in user.roles], active=user.active)
    if form.validate_on_submit():
        try:
            ops.update_user(
                user, roles=form.roles.data, active=form.active.data, acting=current_user
            )
        except ops.AccountError as error:
            db.session.rollback()
            form[error.field or "roles"].errors.append(error.message)
        else:
            db.session.commit()
            flash(_("Saved."), "success")
            return redirect(url_for("auth.users"))
    organisation = (
        db.session.get(Organisation, user.organisation_id) if user.organisation_id else None
    )
    return render_template(
        "auth/user_edit.html",
        form=form,
        user=user,
        organisation=organisation,
        changes=entries_for_object("user", user.id),
    )
